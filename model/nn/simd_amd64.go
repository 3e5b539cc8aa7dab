package nn

import "golang.org/x/sys/cpu"

// The output layer's matrix-vector product is most of a decode step; with
// AVX2 and FMA it runs eight lanes at a time.
var useAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// useF16 says the CPU converts half-precision weights in hardware (F16C),
// so Dense can keep them at half the bytes.
var useF16 = useAVX2 && hasF16C()

//go:noescape
func axpyAVX2(a float32, x, y []float32)

//go:noescape
func dotAVX2(a, b []float32) float32

//go:noescape
func tanhGradAVX2(d float32, u, v, g []float32)

// axpy8AVX2 adds x[k]·w[k*stride:][:len(y)] for k < 8 to y, on the first
// len(y)&^7 elements. The caller checks the bounds.
//
//go:noescape
func axpy8AVX2(x, w *float32, stride int, y []float32)

func hasF16C() bool

// panelF16 adds x·P to y[:64] for one 64-column panel P (len(x) rows of
// 64 contiguous half-precision values).
//
//go:noescape
func panelF16(x []float32, w *uint16, y *float32)

// panelF16x512 is panelF16 on AVX-512 (the same sums in the same order).
//
//go:noescape
func panelF16x512(x []float32, w *uint16, y *float32)

// hasAVX512 says the CPU (and the system, which keeps the 512-bit
// registers) has AVX-512, with which the half-precision products can
// convert their weights sixteen at a time; useAVX512 says they do (see
// choosePanels: on some CPUs that have it, it is slower).
var hasAVX512 = useF16 && cpu.X86.HasAVX512F

var useAVX512 = hasAVX512

// panelF32 is panelF16 with float32 weights.
//
//go:noescape
func panelF32(x []float32, w *float32, y *float32)

// The vector exp (Exp32's method, eight lanes) and what is built on it,
// each on the first len&^7 elements; the callers do the rest.

//go:noescape
func expSumAVX2(x []float32, m float32) float32

//go:noescape
func maxAVX2(x []float32) float32

// aboveAVX2 is the index of the first of x[:len(x)&^7] greater than t, or
// -1.
//
//go:noescape
func aboveAVX2(x []float32, t float32) int

//go:noescape
func scaleAVX2(x []float32, s float32)

//go:noescape
func tanhAVX2(x []float32)

//go:noescape
func tanhAddDotAVX2(a, b, v []float32) float32

// strip32F16 is strip16F16 on AVX-512, for a 32-column strip (the same
// sums in the same order).
func strip32F16(n int, xs *[6]*float32, in int, w *uint16, ys *[6]*float32) {
	switch n {
	case 1:
		strip32F16x1(xs, in, w, ys)
	case 2:
		strip32F16x2(xs, in, w, ys)
	case 3:
		strip32F16x3(xs, in, w, ys)
	case 4:
		strip32F16x4(xs, in, w, ys)
	case 5:
		strip32F16x5(xs, in, w, ys)
	case 6:
		strip32F16x6(xs, in, w, ys)
	default:
		panic("nn: strip32F16 takes 1 to 6 vectors")
	}
}

//go:noescape
func strip32F16x1(xs *[6]*float32, in int, w *uint16, ys *[6]*float32)

//go:noescape
func strip32F16x2(xs *[6]*float32, in int, w *uint16, ys *[6]*float32)

//go:noescape
func strip32F16x3(xs *[6]*float32, in int, w *uint16, ys *[6]*float32)

//go:noescape
func strip32F16x4(xs *[6]*float32, in int, w *uint16, ys *[6]*float32)

//go:noescape
func strip32F16x5(xs *[6]*float32, in int, w *uint16, ys *[6]*float32)

//go:noescape
func strip32F16x6(xs *[6]*float32, in int, w *uint16, ys *[6]*float32)

// strip16F16 runs the batch kernel for n = 1..6 vectors. (A direct call
// for each n: through a func value, the pointer arrays would escape.)
func strip16F16(n int, xs *[6]*float32, in int, w *uint16, ys *[6]*float32) {
	switch n {
	case 1:
		strip16F16x1(xs, in, w, ys)
	case 2:
		strip16F16x2(xs, in, w, ys)
	case 3:
		strip16F16x3(xs, in, w, ys)
	case 4:
		strip16F16x4(xs, in, w, ys)
	case 5:
		strip16F16x5(xs, in, w, ys)
	case 6:
		strip16F16x6(xs, in, w, ys)
	default:
		panic("nn: strip16F16 takes 1 to 6 vectors")
	}
}

//go:noescape
func strip16F16x1(xs *[6]*float32, in int, w *uint16, ys *[6]*float32)

//go:noescape
func strip16F16x2(xs *[6]*float32, in int, w *uint16, ys *[6]*float32)

//go:noescape
func strip16F16x3(xs *[6]*float32, in int, w *uint16, ys *[6]*float32)

//go:noescape
func strip16F16x4(xs *[6]*float32, in int, w *uint16, ys *[6]*float32)

//go:noescape
func strip16F16x5(xs *[6]*float32, in int, w *uint16, ys *[6]*float32)

//go:noescape
func strip16F16x6(xs *[6]*float32, in int, w *uint16, ys *[6]*float32)

//go:noescape
func adamAVX2(g, m, v, w []float32, scale, step, eps float32)

//go:noescape
func sumSquaresAVX2(x []float32) float64
