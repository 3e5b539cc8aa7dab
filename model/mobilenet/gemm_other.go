//go:build !amd64

package mobilenet

var useAVX2 = false

func gemm6x16(a *float32, lda int, w *float32, k int, c *float32, ldc int, bias *float32, lo, hi float32) {
	panic("mobilenet: no AVX2")
}

func gemm1x16(a *float32, w *float32, k int, c *float32) { panic("mobilenet: no AVX2") }

func maddAVX2(acc, x, w []float32) { panic("mobilenet: no AVX2") }

func clampAVX2(x []float32, lo, hi float32) { panic("mobilenet: no AVX2") }

func snapAVX2(x []float32, inv, zero, lo, hi, scale float32) { panic("mobilenet: no AVX2") }

func dw3x3(src *float32, rowStride, colStride int, w *float32, o int, bias *float32, lo, hi float32, out *float32) {
	panic("mobilenet: no AVX2")
}
