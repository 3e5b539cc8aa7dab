//go:build openblas

package train

import (
	"gonum.org/v1/netlib/blas/netlib"
	G "gorgonia.org/gorgonia"
)

// With -tags openblas the gradient checks run on the BLAS that training
// uses.
func init() { G.Use(netlib.Implementation{}) }
