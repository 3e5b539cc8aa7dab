package nn

import (
	"math/rand/v2"
	"testing"

	"attention/model/checkpoint"
)

// The AVX-512 panel gives panelF16's sums bit for bit (each column adds its
// rows in the same order with the same fused multiply-adds), so a decode
// is the same whichever the CPU runs.
func TestPanelF16x512(t *testing.T) {
	if !hasAVX512 {
		t.Skip("no AVX-512 on this CPU")
	}
	rng := rand.New(rand.NewPCG(7, 8))
	for _, in := range []int{0, 1, 7, 256, 513} {
		x := make([]float32, in)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		w := make([]uint16, in*panelWidth)
		for i := range w {
			w[i] = checkpoint.F16FromF32(float32(rng.NormFloat64()))
		}
		var a, b [panelWidth]float32
		for j := range a {
			a[j] = float32(j) / 3
			b[j] = a[j]
		}
		var w0 *uint16
		if in > 0 {
			w0 = &w[0]
		}
		panelF16(x, w0, &a[0])
		panelF16x512(x, w0, &b[0])
		if a != b {
			t.Fatalf("%d rows: AVX-512 %v, AVX2 %v", in, b, a)
		}
	}
}

// One 64-column panel of 256 rows, as the output layer runs it 267 times a
// decode step (en-de's 17,036 words), both kernels; and the same work on
// one panel, 32 KB, over and over (avx2-L1): its weights stay in the
// first-level cache, so the rate is what the kernel's arithmetic allows.
// Where the two AVX2 rates are the same, the output layer is bound by
// converting and multiplying, not by reading its weights.
func BenchmarkPanelF16(b *testing.B) {
	x := make([]float32, 256)
	for i := range x {
		x[i] = 1
	}
	const panels = 267
	w := make([]uint16, panels*256*panelWidth)
	for i := range w {
		w[i] = checkpoint.F16FromF32(float32(i%7) / 8)
	}
	var y [panelWidth]float32
	for _, k := range []struct {
		name string
		f    func(x []float32, w *uint16, y *float32)
		ok   bool
		step int // panels advanced between calls: 0 runs the first, from L1, every time
	}{{"avx2", panelF16, useF16, 1}, {"avx512", panelF16x512, hasAVX512, 1}, {"avx2-L1", panelF16, useF16, 0}} {
		b.Run(k.name, func(b *testing.B) {
			if !k.ok {
				b.Skip("not on this CPU")
			}
			b.SetBytes(int64(len(w) * 2))
			for b.Loop() {
				for p := range panels {
					k.f(x, &w[p*k.step*256*panelWidth], &y[0])
				}
			}
		})
	}
}

// The AVX-512 batch kernels give the 16-column kernels' sums bit for bit,
// for 1 to 6 vectors.
func TestStrip32F16(t *testing.T) {
	if !hasAVX512 {
		t.Skip("no AVX-512 on this CPU")
	}
	rng := rand.New(rand.NewPCG(9, 10))
	for _, in := range []int{1, 5, 256} {
		w := make([]uint16, in*panelWidth)
		for i := range w {
			w[i] = checkpoint.F16FromF32(float32(rng.NormFloat64()))
		}
		for n := 1; n <= MaxBatch; n++ {
			var xs, a, b [MaxBatch][]float32
			var xp, ya, yb [MaxBatch]*float32
			for i := range n {
				xs[i] = make([]float32, in)
				for r := range xs[i] {
					xs[i][r] = float32(rng.NormFloat64())
				}
				a[i], b[i] = make([]float32, panelWidth), make([]float32, panelWidth)
				for j := range a[i] {
					a[i][j] = float32(j) / 7
					b[i][j] = a[i][j]
				}
				xp[i] = &xs[i][0]
			}
			for s := 0; s < panelWidth; s += 16 {
				for i := range n {
					ya[i] = &a[i][s]
				}
				strip16F16(n, &xp, in, &w[s], &ya)
			}
			for s := 0; s < panelWidth; s += 32 {
				for i := range n {
					yb[i] = &b[i][s]
				}
				strip32F16(n, &xp, in, &w[s], &yb)
			}
			for i := range n {
				for j := range a[i] {
					if a[i][j] != b[i][j] {
						t.Fatalf("%d rows, %d vectors: vector %d column %d: AVX-512 %v, AVX2 %v", in, n, i, j, b[i][j], a[i][j])
					}
				}
			}
		}
	}
}
