//go:build openblas

package main

import (
	"gonum.org/v1/netlib/blas/netlib"
	G "gorgonia.org/gorgonia"
)

// blasName says which BLAS gorgonia's matrix products use in this build.
const blasName = "OpenBLAS"

// With -tags openblas (and CGO_LDFLAGS=-lopenblas) training runs on
// OpenBLAS, as cmd/train does.
func init() { G.Use(netlib.Implementation{}) }
