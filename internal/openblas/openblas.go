//go:build openblas

// Package openblas makes gorgonia's matrix products run on OpenBLAS and
// checks which of its kernels OpenBLAS chose for this CPU.
package openblas

/*
#cgo LDFLAGS: -lopenblas
char* openblas_get_corename(void);
*/
import "C"

import (
	"fmt"

	"golang.org/x/sys/cpu"
	"gonum.org/v1/netlib/blas/netlib"
	G "gorgonia.org/gorgonia"
)

func init() { G.Use(netlib.Implementation{}) }

// Core is the name of the kernel set OpenBLAS runs (e.g. "SkylakeX").
func Core() string { return C.GoString(C.openblas_get_corename()) }

// Name says which BLAS this build uses, with its kernels.
func Name() string { return "OpenBLAS (" + Core() + " kernels)" }

// Warning is non-empty when OpenBLAS chose kernels far older than the CPU:
// OpenBLAS 0.3.21 does not recognise some virtual CPUs (model name "Intel
// Xeon Processor") and falls back to Prescott's SSE3 kernels, about 5x
// slower than the AVX-512 ones on the same core.
func Warning() string {
	var want, ext string
	switch {
	case cpu.X86.HasAVX512F:
		want, ext = "SkylakeX", "AVX-512"
	case cpu.X86.HasAVX2 && cpu.X86.HasFMA:
		want, ext = "Haswell", "AVX2"
	default:
		return ""
	}
	switch core := Core(); core {
	case "Prescott", "Core2", "Penryn", "Dunnington", "Nehalem", "Atom", "Katmai", "Coppermine", "Northwood":
		return fmt.Sprintf("OpenBLAS runs its %s kernels on a CPU with %s; set OPENBLAS_CORETYPE=%s for matrix products several times faster (scripts/train.sh does)", core, ext, want)
	}
	return ""
}
