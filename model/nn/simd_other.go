//go:build !amd64

package nn

var useAVX2, useF16 = false, false

func axpyAVX2(a float32, x, y []float32) { axpyGo(a, x, y) }

func tanhGradAVX2(d float32, u, v, g []float32) { tanhGradGo(d, u, v, g) }

func dotAVX2(a, b []float32) float32 { return dotGo(a, b) }

func axpy8AVX2(x, w *float32, stride int, y []float32) { panic("nn: no AVX2 on this architecture") }

func expSumAVX2(x []float32, m float32) float32 { panic("nn: no AVX2 on this architecture") }

func maxAVX2(x []float32) float32 { panic("nn: no AVX2 on this architecture") }

func aboveAVX2(x []float32, t float32) int { panic("nn: no AVX2 on this architecture") }

func scaleAVX2(x []float32, s float32) { panic("nn: no AVX2 on this architecture") }

func tanhAVX2(x []float32) { panic("nn: no AVX2 on this architecture") }

func tanhAddDotAVX2(a, b, v []float32) float32 { panic("nn: no AVX2 on this architecture") }

func panelF16(x []float32, w *uint16, y *float32) { panic("nn: no F16C on this architecture") }

var hasAVX512, useAVX512 = false, false

func panelF16x512(x []float32, w *uint16, y *float32) { panic("nn: no AVX-512 on this architecture") }

func panelF32(x []float32, w *float32, y *float32) { panic("nn: no AVX2 on this architecture") }

func strip16F16(n int, xs *[6]*float32, in int, w *uint16, ys *[6]*float32) {
	panic("nn: no F16C on this architecture")
}

func adamAVX2(g, m, v, w []float32, scale, step, eps float32) {
	panic("nn: no AVX2 on this architecture")
}

func sumSquaresAVX2(x []float32) float64 { panic("nn: no AVX2 on this architecture") }

func strip32F16(n int, xs *[6]*float32, in int, w *uint16, ys *[6]*float32) {
	panic("nn: no AVX-512 on this architecture")
}
