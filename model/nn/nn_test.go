package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"

	"attention/model/checkpoint"
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
		Axpy(0.37, x, y)
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

// BenchmarkMatVec compares the matrix-vector kernels on the en-de output
// layer (256 x 8018, 8 MB) and an LSTM's gate matrix (256 x 1024): plain
// Go, one row at a time with AVX2 (y loaded and stored per row), and
// eight rows at a time.
// MatVecAdd agrees with a float64 loop for row and column counts around
// the eight-row kernel's groups and vector widths.
func TestMatVecShapes(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, in := range []int{0, 1, 7, 8, 9, 17, 256} {
		for _, out := range []int{1, 7, 8, 9, 31, 32, 33, 100, 1030, 2085} {
			x, w, y := make([]float32, in), make([]float32, in*out), make([]float32, out)
			for _, v := range [][]float32{x, w, y} {
				for i := range v {
					v[i] = float32(rng.NormFloat64())
				}
			}
			want := make([]float64, out)
			for j := range want {
				want[j] = float64(y[j])
				for i := range x {
					want[j] += float64(x[i]) * float64(w[i*out+j])
				}
			}
			MatVecAdd(y, x, w, out)
			for j := range y {
				if math.Abs(float64(y[j])-want[j]) > 1e-4*(1+math.Abs(want[j])) {
					t.Fatalf("in %d out %d: y[%d] = %v, want %v", in, out, j, y[j], want[j])
				}
			}
		}
	}
}

// Dense holds float16-exact weights at half precision (where the CPU has
// F16C) with the same products as MatVecAdd on the float32 values, and
// keeps a matrix that is not float16-exact at float32.
func TestDense(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, in := range []int{1, 8, 13, 256} {
		for _, out := range []int{3, 8, 41, 1030} {
			x, w := make([]float32, in), make([]float32, in*out)
			for i := range x {
				x[i] = float32(rng.NormFloat64())
			}
			for i := range w {
				w[i] = checkpoint.F32FromF16(checkpoint.F16FromF32(float32(rng.NormFloat64())))
			}
			d := NewDense(w, in, out)
			if d.Half() != useF16 {
				t.Fatalf("in %d out %d: Half() = %v on a float16-exact matrix, want %v", in, out, d.Half(), useF16)
			}
			got, want := make([]float32, out), make([]float32, out)
			for j := range got {
				got[j] = float32(j)
				want[j] = float32(j)
			}
			d.MulAdd(got, x)
			MatVecAdd(want, x, w, out)
			for j := range got {
				if math.Abs(float64(got[j]-want[j])) > 1e-5*(1+math.Abs(float64(want[j]))) {
					t.Fatalf("in %d out %d: y[%d] = %v, want %v", in, out, j, got[j], want[j])
				}
			}
		}
	}
	w := []float32{1, 2, 3, 1.0 / 3}
	d := NewDense(w, 2, 2)
	if d.Half() {
		t.Fatal("1/3 is not a float16, yet Half() = true")
	}
	y := []float32{1, 1}
	if d.MulAdd(y, []float32{1, 3}); y[0] != 1+1+9 || y[1] != 1+2+1 {
		t.Fatalf("float32 Dense: y = %v, want [11 4]", y)
	}
}

func BenchmarkMatVec(b *testing.B) {
	for _, size := range []struct{ in, out int }{{256, 8018}, {256, 1024}} {
		x, w, y := make([]float32, size.in), make([]float32, size.in*size.out), make([]float32, size.out)
		for i := range x {
			x[i] = 1
		}
		for i := range w {
			w[i] = float32(i%7) / 8 // float16-exact; touched, so the pages are real memory, not the shared zero page
		}
		for _, impl := range []struct {
			name       string
			avx, rows8 bool
		}{{"go", false, false}, {"avx2-rows1", useAVX2, false}, {"avx2-rows8", useAVX2, true}} {
			b.Run(fmt.Sprintf("%dx%d/%s", size.in, size.out, impl.name), func(b *testing.B) {
				oldAVX, oldRows := useAVX2, useRows8
				useAVX2, useRows8 = impl.avx, impl.rows8
				defer func() { useAVX2, useRows8 = oldAVX, oldRows }()
				b.SetBytes(int64(4 * len(w)))
				for i := 0; i < b.N; i++ {
					MatVecAdd(y, x, w, size.out)
				}
			})
		}
		if useAVX2 {
			for _, half := range []bool{false, true} {
				if half && !useF16 {
					continue
				}
				d := newDense(w, size.in, size.out, half)
				b.Run(fmt.Sprintf("%dx%d/panels-f16=%v", size.in, size.out, half), func(b *testing.B) {
					b.SetBytes(int64(4 * len(w))) // as float32, so MB/s compares the work done
					for i := 0; i < b.N; i++ {
						d.MulAdd(y, x)
					}
				})
			}
		}
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

// The vector kernels built on the eight-lane exp (softmax, tanh and
// sigmoid, the attention score) agree with float64 math at every length, so the lanes
// and the scalar tails are both covered.
func TestVectorExpKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	var worstSoft, worstTanh, worstDot float64
	for n := 1; n < 70; n++ {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(rng.NormFloat64() * 12)
		}
		x[rng.IntN(n)] = -200 // underflows to 0
		a, b, v := make([]float32, n), make([]float32, n), make([]float32, n)
		for i := range a {
			a[i], b[i], v[i] = float32(rng.NormFloat64()*2), float32(rng.NormFloat64()), float32(rng.NormFloat64())
		}
		m := math.Inf(-1)
		for _, f := range x {
			m = math.Max(m, float64(f))
		}
		var sum float64
		for _, f := range x {
			sum += math.Exp(float64(f) - m)
		}
		want := make([]float64, n)
		for i, f := range x {
			want[i] = math.Exp(float64(f)-m) / sum
		}
		SoftmaxInPlace(x)
		for i := range x {
			worstSoft = math.Max(worstSoft, math.Abs(float64(x[i])-want[i]))
		}
		var dot float64
		for j := range a {
			dot += float64(v[j]) * math.Tanh(float64(a[j])+float64(b[j]))
		}
		worstDot = math.Max(worstDot, math.Abs(float64(TanhAddDot(a, b, v))-dot))
		th, sg := append([]float32(nil), a...), append([]float32(nil), a...)
		TanhInPlace(th)
		SigmoidInPlace(sg)
		for j := range a {
			worstTanh = math.Max(worstTanh, math.Abs(float64(th[j])-math.Tanh(float64(a[j]))))
			worstTanh = math.Max(worstTanh, math.Abs(float64(sg[j])-1/(1+math.Exp(-float64(a[j])))))
		}
	}
	big := []float32{-100, -20, -9, -0.5, 0, 1e-4, 0.5, 9, 20, 100}
	TanhInPlace(big)
	for i, want := range []float64{-1, -1, math.Tanh(-9), math.Tanh(-0.5), 0, math.Tanh(1e-4), math.Tanh(0.5), math.Tanh(9), 1, 1} {
		worstTanh = math.Max(worstTanh, math.Abs(float64(big[i])-want))
	}
	t.Logf("max error: softmax %.2g, tanh and sigmoid %.2g, attention score %.2g", worstSoft, worstTanh, worstDot)
	if worstSoft > 1e-6 || worstTanh > 1e-6 || worstDot > 1e-5 {
		t.Fatalf("softmax %.2g, tanh %.2g, score %.2g: want below 1e-6, 1e-6, 1e-5", worstSoft, worstTanh, worstDot)
	}
}

// MulAddBatch gives each vector the product MulAdd gives it alone, for
// batch sizes across the kernel's group of six and outputs that leave a
// partial last panel.
func TestDenseBatch(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, in := range []int{1, 9, 256} {
		for _, out := range []int{5, 64, 100, 1030} {
			w := make([]float32, in*out)
			for i := range w {
				w[i] = checkpoint.F32FromF16(checkpoint.F16FromF32(float32(rng.NormFloat64())))
			}
			d := NewDense(w, in, out)
			for n := 1; n <= 13; n += 3 {
				xs, ys, want := make([][]float32, n), make([][]float32, n), make([][]float32, n)
				for i := range n {
					xs[i], ys[i] = make([]float32, in), make([]float32, out)
					for j := range xs[i] {
						xs[i][j] = float32(rng.NormFloat64())
					}
					for j := range ys[i] {
						ys[i][j] = float32(j % 5)
					}
					want[i] = append([]float32(nil), ys[i]...)
					d.MulAdd(want[i], xs[i])
				}
				d.MulAddBatch(ys, xs)
				for i := range n {
					for j := range ys[i] {
						if math.Abs(float64(ys[i][j]-want[i][j])) > 1e-5*(1+math.Abs(float64(want[i][j]))) {
							t.Fatalf("in %d out %d n %d: y[%d][%d] = %v, want %v", in, out, n, i, j, ys[i][j], want[i][j])
						}
					}
				}
			}
		}
	}
}

// BenchmarkDenseBatch: five vectors through the 256 x 8018 output layer,
// one after another and as one batch.
func BenchmarkDenseBatch(b *testing.B) {
	const in, out, n = 256, 8018, 5
	w := make([]float32, in*out)
	for i := range w {
		w[i] = float32(i%7) / 8
	}
	d := NewDense(w, in, out)
	xs, ys := make([][]float32, n), make([][]float32, n)
	for i := range n {
		xs[i], ys[i] = make([]float32, in), make([]float32, out)
		for j := range xs[i] {
			xs[i][j] = 1
		}
	}
	b.Run("one-by-one", func(b *testing.B) {
		for b.Loop() {
			for i := range n {
				d.MulAdd(ys[i], xs[i])
			}
		}
	})
	b.Run("batch", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			d.MulAddBatch(ys, xs)
		}
	})
}

// Adam is Algorithm 1 of Kingma and Ba, PyTorch's form: ε is added to
// the bias-corrected sqrt(v̂). A gradient of 1e-8 tells the two forms
// apart (the other adds ε to sqrt(v)): here the first update is lr·0.76
// instead of lr·0.03. Both the vector kernel (length 16) and the scalar
// tail (length 3) are checked against the formula in float64.
func TestAdamAlgorithm1(t *testing.T) {
	for _, n := range []int{3, 16} {
		p := NewParam("p", n)
		opt := NewAdam([]*Param{p})
		const lr, b1, b2, eps = 1e-3, 0.9, 0.999, 1e-8
		w, m, v := make([]float64, n), make([]float64, n), make([]float64, n)
		for step := 1; step <= 3; step++ {
			g := make([]float32, n)
			for j := range g {
				g[j] = float32(1e-8 * float64(j%4+1) * float64(step))
			}
			opt.Step([]*Param{p}, [][]float32{g}, lr, 0)
			for j := range w {
				m[j] = b1*m[j] + (1-b1)*float64(g[j])
				v[j] = b2*v[j] + (1-b2)*float64(g[j])*float64(g[j])
				mh, vh := m[j]/(1-math.Pow(b1, float64(step))), v[j]/(1-math.Pow(b2, float64(step)))
				w[j] -= lr * mh / (math.Sqrt(vh) + eps)
				if d := math.Abs(float64(p.Data[j]) - w[j]); d > 1e-3*math.Abs(w[j]) {
					t.Fatalf("length %d, step %d: w[%d] = %.6g, Algorithm 1 gives %.6g", n, step, j, p.Data[j], w[j])
				}
			}
		}
	}
}

// Adam's vector kernel (and the gradient norm's) give what the scalar
// loop gives, over several steps with clipping, on lengths with tails.
func TestAdamVector(t *testing.T) {
	if !useAVX2 {
		t.Skip("no AVX2+FMA on this CPU")
	}
	rng := rand.New(rand.NewPCG(11, 12))
	var ps, qs []*Param
	var grads [][]float32
	for i, n := range []int{3, 8, 37, 1000} {
		p, q := NewParam(fmt.Sprint("p", i), n), NewParam(fmt.Sprint("q", i), n)
		g := make([]float32, n)
		for j := range n {
			p.Data[j] = float32(rng.NormFloat64())
			q.Data[j] = p.Data[j]
		}
		ps, qs, grads = append(ps, p), append(qs, q), append(grads, g)
	}
	vec, ref := NewAdam(ps), NewAdam(qs)
	for step := range 5 {
		for _, g := range grads {
			for j := range g {
				g[j] = float32(rng.NormFloat64() * 3)
			}
		}
		useAVX2 = true
		nv := vec.Step(ps, grads, 1e-2, 5)
		useAVX2 = false
		nr := ref.Step(qs, grads, 1e-2, 5)
		useAVX2 = true
		if math.Abs(nv-nr) > 1e-9*nr {
			t.Fatalf("step %d: norm %v, scalar %v", step, nv, nr)
		}
		for i := range ps {
			for j := range ps[i].Data {
				if d := math.Abs(float64(ps[i].Data[j] - qs[i].Data[j])); d > 1e-6 {
					t.Fatalf("step %d: %s[%d] = %v, scalar %v", step, ps[i].Name, j, ps[i].Data[j], qs[i].Data[j])
				}
			}
		}
	}
}

// LSTMCell (on the vector tanh where the CPU has it) agrees with the cell
// in float64 math, at sizes with and without a scalar tail.
func TestLSTMCell(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	sig := func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
	var worst float64
	for _, n := range []int{1, 7, 8, 13, 256} {
		gates, h, c := make([]float32, 4*n), make([]float32, n), make([]float32, n)
		for i := range gates {
			gates[i] = float32(rng.NormFloat64() * 4)
		}
		for i := range c {
			c[i] = float32(rng.NormFloat64() * 2)
		}
		wantH, wantC := make([]float64, n), make([]float64, n)
		for j := range n {
			i, f, g, o := sig(float64(gates[j])), sig(float64(gates[n+j])), math.Tanh(float64(gates[2*n+j])), sig(float64(gates[3*n+j]))
			wantC[j] = f*float64(c[j]) + i*g
			wantH[j] = o * math.Tanh(wantC[j])
		}
		LSTMCell(gates, h, c)
		for j := range n {
			worst = math.Max(worst, math.Max(math.Abs(float64(h[j])-wantH[j]), math.Abs(float64(c[j])-wantC[j])))
		}
	}
	t.Logf("max error %.2g", worst)
	if worst > 2e-6 {
		t.Fatalf("max error %.2g against float64, want at most 2e-6", worst)
	}
}

// BenchmarkLSTMCell is one cell of the shipped decoders' size (512 units),
// on the vector tanh ("vector") and in scalar Go ("scalar"), in one run.
func BenchmarkLSTMCell(b *testing.B) {
	const n = 512
	gates, h, c := make([]float32, 4*n), make([]float32, n), make([]float32, n)
	for _, run := range []struct {
		name string
		cell func(gates, h, c []float32)
	}{{"vector", LSTMCell}, {"scalar", lstmCellGo}} {
		b.Run(run.name, func(b *testing.B) {
			for b.Loop() {
				for i := range gates {
					gates[i] = float32(i%17) - 8
				}
				run.cell(gates, h, c)
			}
		})
	}
}

// topKSlow is TopK by a stable sort: the k largest, the first of equal
// values first.
func topKSlow(p []float32, k int) []int {
	idx := make([]int, len(p))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return p[idx[a]] > p[idx[b]] })
	return idx[:min(k, len(p))]
}

// TopK (which skips ahead with the vector kernel where the CPU has it)
// agrees with a sort at every length around the kernel's 8 and 16 lanes,
// with ties, rising values (every one enters the list) and k of 0 to 6.
func TestTopK(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for n := 0; n < 80; n++ {
		for _, kind := range []string{"random", "ties", "rising"} {
			p := make([]float32, n)
			for i := range p {
				switch kind {
				case "random":
					p[i] = rng.Float32()
				case "ties":
					p[i] = float32(rng.IntN(4))
				case "rising":
					p[i] = float32(i)
				}
			}
			for k := 0; k <= 6; k++ {
				if got, want := TopK(p, k), topKSlow(p, k); !slices.Equal(got, want) {
					t.Fatalf("n %d, %s, k %d: %v, want %v", n, kind, k, got, want)
				}
			}
		}
	}
	big := make([]float32, 17036)
	for i := range big {
		big[i] = rng.Float32()
	}
	if got, want := TopK(big, 5), topKSlow(big, 5); !slices.Equal(got, want) {
		t.Fatalf("17036 values: %v, want %v", got, want)
	}
}

// BenchmarkTopK is the search's top 5 of an output distribution of
// en-de's size, with the vector skip and without it, in one run.
func BenchmarkTopK(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	p := make([]float32, 17036)
	for i := range p {
		p[i] = rng.Float32() * rng.Float32() * rng.Float32()
	}
	for _, vec := range []bool{true, false} {
		b.Run(fmt.Sprintf("vector=%v", vec), func(b *testing.B) {
			defer func(old bool) { useAVX2 = old }(useAVX2)
			useAVX2 = useAVX2 && vec
			for b.Loop() {
				TopK(p, 5)
			}
		})
	}
}

// The vector form agrees with the loop at every length around its lanes
// of eight (it fuses 1 - u·u into one rounding, so within a few ulps).
func TestTanhGrad(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 13))
	for n := range 41 {
		u, v := make([]float32, n), make([]float32, n)
		for i := range u {
			u[i], v[i] = float32(math.Tanh(rng.NormFloat64())), float32(rng.NormFloat64())
		}
		got, want := make([]float32, n+1), make([]float32, n)
		got[n] = 7 // past the end: untouched
		TanhGrad(-0.37, u, v, got)
		tanhGradGo(-0.37, u, v, want)
		for i := range want {
			if d := math.Abs(float64(got[i] - want[i])); d > 1e-6*math.Max(1, math.Abs(float64(want[i]))) {
				t.Fatalf("n %d: g[%d] = %v, the loop gives %v", n, i, got[i], want[i])
			}
		}
		if got[n] != 7 {
			t.Fatalf("n %d: wrote past the end", n)
		}
	}
}
