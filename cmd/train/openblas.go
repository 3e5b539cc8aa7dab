//go:build openblas

package main

import (
	G "gorgonia.org/gorgonia"
	"gonum.org/v1/netlib/blas/netlib"
)

// With -tags openblas (and CGO_LDFLAGS=-lopenblas) gorgonia's matrix
// products run on OpenBLAS, several times faster than pure Go.
func init() { G.Use(netlib.Implementation{}) }
