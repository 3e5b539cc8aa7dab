//go:build !openblas

package main

// blasName says which BLAS gorgonia's matrix products use in this build.
const blasName = "gonum's pure-Go BLAS (build with -tags openblas for cmd/train's speed)"
