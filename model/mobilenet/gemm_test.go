package mobilenet

import (
	"math"
	"math/rand/v2"
	"testing"
)

func randSlice(rng *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	return x
}

// The AVX2 tiles compute what the portable gemm does, for shapes that do
// not divide into tiles, with clamping.
func TestGemm16MatchesGemm(t *testing.T) {
	if !useAVX2 {
		t.Skip("no AVX2+FMA on this CPU: only the portable gemm runs")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, sh := range [][3]int{{1, 1, 1}, {3, 5, 17}, {4, 27, 16}, {49, 960, 160}, {13, 144, 24}, {7, 32, 1001}} {
		rows, k, o := sh[0], sh[1], sh[2]
		a, w, bias := randSlice(rng, rows*k), randSlice(rng, o*k), randSlice(rng, o)
		for _, lim := range [][2]float32{{float32(math.Inf(-1)), float32(math.Inf(1))}, {0, 6}} {
			want, got := make([]float32, rows*o), make([]float32, rows*o)
			gemm(a, rows, k, packPanels(w, o, k), o, bias, lim[0], lim[1], want)
			gemm16(a, rows, k, packPanels16(w, o, k), o, bias, lim[0], lim[1], got)
			for i := range want {
				if d := math.Abs(float64(want[i] - got[i])); d > 1e-4*(1+math.Abs(float64(want[i]))) {
					t.Fatalf("rows %d k %d o %d: c[%d] = %v, want %v", rows, k, o, i, got[i], want[i])
				}
			}
		}
	}
}

// BenchmarkGemm compares the portable tile with the AVX2 one on a 1x1
// convolution from the middle of the network (14x14x96 -> 576).
func BenchmarkGemm(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	rows, k, o := 196, 96, 576
	a, w, bias := randSlice(rng, rows*k), randSlice(rng, o*k), randSlice(rng, o)
	c := make([]float32, rows*o)
	b.Run("go", func(b *testing.B) {
		p := packPanels(w, o, k)
		for b.Loop() {
			gemm(a, rows, k, p, o, bias, 0, 6, c)
		}
	})
	if !useAVX2 {
		return
	}
	b.Run("avx2", func(b *testing.B) {
		p := packPanels16(w, o, k)
		for b.Loop() {
			gemm16(a, rows, k, p, o, bias, 0, 6, c)
		}
	})
}

func TestMaddMatchesLoop(t *testing.T) {
	if !useAVX2 {
		t.Skip("no AVX2+FMA on this CPU")
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{1, 7, 16, 33, 960} {
		acc, x, w := randSlice(rng, n), randSlice(rng, n), randSlice(rng, n)
		want := append([]float32(nil), acc...)
		for i := range want {
			want[i] += x[i] * w[i]
		}
		maddAVX2(acc, x, w)
		for i := range acc {
			if d := math.Abs(float64(acc[i] - want[i])); d > 1e-5*(1+math.Abs(float64(want[i]))) {
				t.Fatalf("n %d: acc[%d] = %v, want %v", n, i, acc[i], want[i])
			}
		}
	}
}

// The 3x3 depthwise kernel (interior pixels) agrees with the portable
// loop, for strides, dilations and paddings that leave border pixels on
// every side, with and without a clamp.
func TestDepthwise3x3MatchesLoop(t *testing.T) {
	if !useAVX2 {
		t.Skip("no AVX2+FMA on this CPU")
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for _, tc := range []struct{ h, w, c, s, dil, pad int }{{9, 7, 16, 1, 1, 1}, {10, 11, 24, 2, 1, 1}, {12, 12, 8, 1, 2, 2}, {5, 6, 32, 2, 1, 0}} {
		oh, ow := (tc.h+2*tc.pad-2*tc.dil-1)/tc.s+1, (tc.w+2*tc.pad-2*tc.dil-1)/tc.s+1
		for _, act := range []Activation{ActRelu6, ActNone} {
			d := &depthwise{h: tc.h, w: tc.w, c: tc.c, oh: oh, ow: ow, o: tc.c, kh: 3, kw: 3, sh: tc.s, sw: tc.s, dh: tc.dil, dw: tc.dil,
				padT: tc.pad, padL: tc.pad, mult: 1, weights: randSlice(rng, 9*tc.c), bias: randSlice(rng, tc.c), act: act}
			x := randSlice(rng, tc.h*tc.w*tc.c)
			got, want := make([]float32, oh*ow*tc.c), make([]float32, oh*ow*tc.c)
			d.run([][]float32{x}, got, nil)
			useAVX2 = false
			d.run([][]float32{x}, want, nil)
			useAVX2 = true
			for i := range want {
				if diff := math.Abs(float64(got[i] - want[i])); diff > 1e-5*(1+math.Abs(float64(want[i]))) {
					t.Fatalf("%+v act %v: out[%d] = %v, want %v", tc, act, i, got[i], want[i])
				}
			}
		}
	}
}
