package nn

import "golang.org/x/sys/cpu"

// The output layer's matrix-vector product is most of a decode step; with
// AVX2 and FMA it runs eight lanes at a time.
var useAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

//go:noescape
func axpyAVX2(a float32, x, y []float32)

//go:noescape
func dotAVX2(a, b []float32) float32
