//go:build openblas

package main

import (
	"gonum.org/v1/netlib/blas/netlib"
	G "gorgonia.org/gorgonia"
)

// With -tags openblas (and CGO_LDFLAGS=-lopenblas) gorgonia's matrix
// products run on OpenBLAS, several times faster than pure Go.
func init() { G.Use(netlib.Implementation{}) }
