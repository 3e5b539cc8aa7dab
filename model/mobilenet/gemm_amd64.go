package mobilenet

import "golang.org/x/sys/cpu"

// With AVX2 and FMA, convolutions run on a 6x16 register tile: twelve
// 8-lane accumulators, two weight vectors and one broadcast input.
var useAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

//go:noescape
func gemm6x16(a *float32, lda int, w *float32, k int, c *float32, ldc int, bias *float32, lo, hi float32)

//go:noescape
func gemm1x16(a *float32, w *float32, k int, c *float32)

//go:noescape
func maddAVX2(acc, x, w []float32)

//go:noescape
func clampAVX2(x []float32, lo, hi float32)

//go:noescape
func snapAVX2(x []float32, inv, zero, lo, hi, scale float32)

//go:noescape
func dw3x3(src *float32, rowStride, colStride int, w *float32, o int, bias *float32, lo, hi float32, out *float32)
