package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The vector kernels agree with plain loops at every length, including the
// tails that do not fill a vector register.
func TestKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 0; n < 70; n++ {
		x, y := make([]float32, n), make([]float32, n+3)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		for i := range y {
			y[i] = float32(rng.NormFloat64())
		}
		want := append([]float32(nil), y...)
		for i := range x {
			want[i] += 0.37 * x[i]
		}
		axpy(0.37, x, y)
		for i := range y {
			if math.Abs(float64(y[i]-want[i])) > 1e-5 {
				t.Fatalf("axpy n=%d: y[%d] = %v, want %v", n, i, y[i], want[i])
			}
		}
		var d float64
		for i := range x {
			d += float64(x[i]) * float64(y[i])
		}
		if got := Dot(x, y[:n]); math.Abs(float64(got)-d) > 1e-4*(1+math.Abs(d)) {
			t.Fatalf("dot n=%d: %v, want %v", n, got, d)
		}
	}
	if idx := TopK([]float32{0.1, 0.5, 0.2, 0.9, 0.3}, 3); idx[0] != 3 || idx[1] != 1 || idx[2] != 4 {
		t.Fatalf("TopK = %v", idx)
	}
}

func BenchmarkMatVec(b *testing.B) {
	x, w, y := make([]float32, 256), make([]float32, 256*8018), make([]float32, 8018)
	for i := range x {
		x[i] = 1
	}
	for _, impl := range []struct {
		name string
		avx  bool
	}{{"go", false}, {"avx2", useAVX2}} {
		b.Run(impl.name, func(b *testing.B) {
			old := useAVX2
			useAVX2 = impl.avx
			defer func() { useAVX2 = old }()
			for i := 0; i < b.N; i++ {
				MatVecAdd(y, x, w, 8018)
			}
		})
	}
}

func TestExp32TanhSigmoid(t *testing.T) {
	var worstExp, worstTanh, worstSig float64
	for x := -90.0; x <= 90; x += 0.001237 {
		f := float32(x)
		if want := math.Exp(float64(f)); want > 1e-37 && want < 1e38 {
			worstExp = math.Max(worstExp, math.Abs(float64(Exp32(f))-want)/want)
		}
		worstTanh = math.Max(worstTanh, math.Abs(float64(Tanh(f))-math.Tanh(float64(f))))
		worstSig = math.Max(worstSig, math.Abs(float64(Sigmoid(f))-1/(1+math.Exp(-float64(f)))))
	}
	for _, x := range []float32{0, 1e-5, -1e-5, 1e-3, -0.3} {
		worstTanh = math.Max(worstTanh, math.Abs(float64(Tanh(x))-math.Tanh(float64(x)))/math.Max(1e-30, math.Abs(math.Tanh(float64(x)))))
	}
	t.Logf("max relative error: exp %.2g; max error: tanh %.2g, sigmoid %.2g", worstExp, worstTanh, worstSig)
	if worstExp > 1e-6 || worstTanh > 1e-6 || worstSig > 1e-6 {
		t.Fatalf("exp %.2g, tanh %.2g, sigmoid %.2g: want all below 1e-6", worstExp, worstTanh, worstSig)
	}
	if Exp32(100) != float32(math.Inf(1)) || Exp32(-100) != 0 || Tanh(20) != 1 || Tanh(-20) != -1 {
		t.Fatal("limits")
	}
}
