//go:build !openblas

package openblas

// Name says which BLAS this build uses: without the openblas tag,
// gorgonia's own pure-Go one.
func Name() string { return "gonum's pure-Go BLAS (build with -tags openblas for cmd/train's speed)" }

// Warning is always empty without OpenBLAS.
func Warning() string { return "" }
