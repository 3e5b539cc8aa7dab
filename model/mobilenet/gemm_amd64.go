package mobilenet

import "golang.org/x/sys/cpu"

// With AVX2 and FMA, convolutions run on a 4x16 register tile: eight
// 8-lane accumulators, two weight vectors and one broadcast input.
var useAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

//go:noescape
func gemm4x16(a *float32, lda int, w *float32, k int, c *float32)

//go:noescape
func gemm1x16(a *float32, w *float32, k int, c *float32)

//go:noescape
func maddAVX2(acc, x, w []float32)

//go:noescape
func clampAVX2(x []float32, lo, hi float32)
