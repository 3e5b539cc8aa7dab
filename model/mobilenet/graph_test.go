package mobilenet

import (
	"encoding/binary"
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// testModel builds a float32 model in memory, so the compiler and the
// kernels can be tested without a file.
type testModel struct{ m *Model }

func newTestModel() *testModel {
	return &testModel{&Model{Buffers: [][]byte{nil}, Subgraphs: []Subgraph{{}}}}
}

// tensor adds a float32 tensor, a constant when data is not nil.
func (tm *testModel) tensor(shape []int32, data []float32) int32 {
	return tm.typed(shape, Float32, data)
}

func (tm *testModel) typed(shape []int32, typ TensorType, data []float32) int32 {
	t := Tensor{Shape: shape, Type: typ}
	if data != nil {
		b := make([]byte, 4*len(data))
		for i, v := range data {
			if typ == Int32 {
				binary.LittleEndian.PutUint32(b[4*i:], uint32(int32(v)))
			} else {
				binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
			}
		}
		t.Buffer = uint32(len(tm.m.Buffers))
		tm.m.Buffers = append(tm.m.Buffers, b)
	}
	sg := &tm.m.Subgraphs[0]
	sg.Tensors = append(sg.Tensors, t)
	return int32(len(sg.Tensors) - 1)
}

func (tm *testModel) op(code BuiltinOp, opts any, in []int32, out int32) {
	idx := slices.IndexFunc(tm.m.OperatorCodes, func(c OperatorCode) bool { return c.Builtin == code })
	if idx < 0 {
		idx = len(tm.m.OperatorCodes)
		tm.m.OperatorCodes = append(tm.m.OperatorCodes, OperatorCode{Builtin: code, Version: 1})
	}
	sg := &tm.m.Subgraphs[0]
	sg.Operators = append(sg.Operators, Operator{Opcode: uint32(idx), Inputs: in, Outputs: []int32{out}, Options: opts})
}

func (tm *testModel) io(in, out int32) {
	tm.m.Subgraphs[0].Inputs, tm.m.Subgraphs[0].Outputs = []int32{in}, []int32{out}
}

// randomImage returns a w x h image and the model input it stands for,
// (p - 128) / 128 per channel, row-major [H][W][RGB].
func randomImage(rng *rand.Rand, w, h int) (*image.NRGBA, []float32) {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	x := make([]float32, 0, w*h*3)
	for y := range h {
		for xx := range w {
			c := color.NRGBA{uint8(rng.IntN(256)), uint8(rng.IntN(256)), uint8(rng.IntN(256)), 255}
			img.SetNRGBA(xx, y, c)
			x = append(x, (float32(c.R)-128)/128, (float32(c.G)-128)/128, (float32(c.B)-128)/128)
		}
	}
	return img, x
}

// naiveConv is a direct dilated convolution with TF's SAME padding:
// depthwise (each output channel j filters input channel j/mult) when
// depthwise is set, else full over all input channels with w [O KH KW C].
func naiveConv(x []float32, h, w, c int, wt []float32, o, kh, kw, stride, dil int, depthwise bool) (out []float32, oh, ow int) {
	oh, padT := samePad(PaddingSame, h, kh, stride, dil)
	ow, padL := samePad(PaddingSame, w, kw, stride, dil)
	out = make([]float32, oh*ow*o)
	for oy := range oh {
		for ox := range ow {
			for j := range o {
				var sum float64
				for ky := range kh {
					for kx := range kw {
						iy, ix := oy*stride-padT+ky*dil, ox*stride-padL+kx*dil
						if iy < 0 || iy >= h || ix < 0 || ix >= w {
							continue
						}
						if depthwise {
							sum += float64(x[(iy*w+ix)*c+j/(o/c)] * wt[(ky*kw+kx)*o+j])
							continue
						}
						for ci := range c {
							sum += float64(x[(iy*w+ix)*c+ci] * wt[((j*kh+ky)*kw+kx)*c+ci])
						}
					}
				}
				out[(oy*ow+ox)*o+j] = float32(sum)
			}
		}
	}
	return out, oh, ow
}

func closeTo(t *testing.T, what string, got, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range want {
		if d := math.Abs(float64(got[i] - want[i])); d > tol*(1+math.Abs(float64(want[i]))) {
			t.Fatalf("%s: [%d] = %v, want %v", what, i, got[i], want[i])
		}
	}
}

// Dilated (atrous) CONV_2D and DEPTHWISE_CONV_2D, strided or not, on the
// AVX2 paths (8 channels) and the portable ones (3 channels, multiplier 2).
func TestDilatedConvolutions(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const h, w = 11, 9
	img, x := randomImage(rng, w, h)
	for _, tc := range []struct {
		name         string
		depthwise    bool
		o, k, stride int
		dil          int
	}{
		{"conv d2", false, 8, 3, 1, 2},
		{"conv d3 s2", false, 5, 3, 2, 3},
		{"depthwise d2 mult2", true, 6, 3, 1, 2},
		{"depthwise d2 s2 mult2", true, 6, 3, 2, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tm := newTestModel()
			in := tm.tensor([]int32{1, h, w, 3}, nil)
			var wt []float32
			var filter int32
			if tc.depthwise {
				wt = randSlice(rng, tc.k*tc.k*tc.o)
				filter = tm.tensor([]int32{1, int32(tc.k), int32(tc.k), int32(tc.o)}, wt)
			} else {
				wt = randSlice(rng, tc.o*tc.k*tc.k*3)
				filter = tm.tensor([]int32{int32(tc.o), int32(tc.k), int32(tc.k), 3}, wt)
			}
			want, oh, ow := naiveConv(x, h, w, 3, wt, tc.o, tc.k, tc.k, tc.stride, tc.dil, tc.depthwise)
			out := tm.tensor([]int32{1, int32(oh), int32(ow), int32(tc.o)}, nil)
			s, d := int32(tc.stride), int32(tc.dil)
			if tc.depthwise {
				tm.op(OpDepthwiseConv2D, &DepthwiseConv2DOptions{StrideH: s, StrideW: s, DepthMultiplier: int32(tc.o / 3), DilationH: d, DilationW: d}, []int32{in, filter, -1}, out)
			} else {
				tm.op(OpConv2D, &Conv2DOptions{StrideH: s, StrideW: s, DilationH: d, DilationW: d}, []int32{in, filter, -1}, out)
			}
			tm.io(in, out)
			g, err := compileGraph(tm.m, Options{})
			if err != nil {
				t.Fatal(err)
			}
			got, err := g.Run(img)
			if err != nil {
				t.Fatal(err)
			}
			closeTo(t, tc.name, got, want, 1e-4)
		})
	}
	// The AVX2 3x3 depthwise kernel takes dilated taps too: 16 channels.
	tm := newTestModel()
	in := tm.tensor([]int32{1, h, w, 3}, nil)
	w1 := randSlice(rng, 16*3)
	mid := tm.tensor([]int32{1, h, w, 16}, nil)
	tm.op(OpConv2D, &Conv2DOptions{StrideH: 1, StrideW: 1, DilationH: 1, DilationW: 1}, []int32{in, tm.tensor([]int32{16, 1, 1, 3}, w1)}, mid)
	w2 := randSlice(rng, 9*16)
	out := tm.tensor([]int32{1, h, w, 16}, nil)
	tm.op(OpDepthwiseConv2D, &DepthwiseConv2DOptions{StrideH: 1, StrideW: 1, DepthMultiplier: 1, DilationH: 2, DilationW: 2, Activation: ActRelu6}, []int32{mid, tm.tensor([]int32{1, 3, 3, 16}, w2)}, out)
	tm.io(in, out)
	g, err := compileGraph(tm.m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := g.Run(img)
	if err != nil {
		t.Fatal(err)
	}
	y, _, _ := naiveConv(x, h, w, 3, w1, 16, 1, 1, 1, 1, false)
	want, _, _ := naiveConv(y, h, w, 16, w2, 16, 3, 3, 1, 2, true)
	for i, v := range want {
		want[i] = min(max(v, 0), 6)
	}
	closeTo(t, "1x1 conv then dilated 3x3 depthwise", got, want, 1e-4)
}

func TestResizeBilinear(t *testing.T) {
	// One row [0 10] widened to 4 pixels under each sampling rule.
	for _, tc := range []struct {
		align, half bool
		want        []float32
	}{
		{false, false, []float32{0, 5, 10, 10}},
		{true, false, []float32{0, 10.0 / 3, 20.0 / 3, 10}},
		{false, true, []float32{0, 2.5, 7.5, 10}},
	} {
		k := &resizeBilinear{h: 1, w: 2, c: 1, oh: 1, ow: 4, ys: lerps(1, 1, tc.align, tc.half), xs: lerps(2, 4, tc.align, tc.half)}
		got := make([]float32, 4)
		k.run([][]float32{{0, 10}}, got, &arena{free: map[int][][]float32{}})
		closeTo(t, "resize", got, tc.want, 1e-6)
	}
	// align_corners maps corners onto corners exactly: 33 -> 513 steps by 1/16.
	for i, l := range lerps(33, 513, true, false) {
		if v := float32(l.i0) + l.f; v != float32(i)/16 || l.i1 > 32 {
			t.Fatalf("sample %d at %v (rows %d, %d), want %v", i, v, l.i0, l.i1, float32(i)/16)
		}
	}
	// On a grid, interpolated levels round half up, as TFLite's uint8 kernel.
	g := &grid{scale: 0.5, inv: 2, zero: 10, lo: 0, hi: 255}
	k := &resizeBilinear{h: 1, w: 2, c: 1, oh: 1, ow: 3, ys: lerps(1, 1, true, false), xs: lerps(2, 3, true, false), q: g}
	got := make([]float32, 3)
	k.run([][]float32{{(3 - 10) * 0.5, (4 - 10) * 0.5}}, got, &arena{free: map[int][][]float32{}})
	closeTo(t, "requantised resize", got, []float32{-3.5, -3, -3}, 0) // levels 3, 3.5 -> 4, 4
}

func TestSnap(t *testing.T) {
	g := &grid{scale: 0.2, inv: 5, zero: 36, lo: 0, hi: 255}
	x := []float32{-100, 0, 0.29, 0.31, 1e6, -7.2, 43.79, 0.1, 0.5, 1, 2, 3, 4, 5, 6, 7} // 0.1 and 0.5 are halves: up
	want := []float32{-7.2, 0, 0.2, 0.4, 43.8, -7.2, 43.8, 0.2, 0.6, 1, 2, 3, 4, 5, 6, 7}
	g.snap(x)
	closeTo(t, "snap", x, want, 1e-6)
	// The AVX2 loop and the portable one agree away from exact halves.
	rng := rand.New(rand.NewPCG(5, 6))
	a := make([]float32, 1003)
	for i := range a {
		a[i] = float32(rng.NormFloat64() * 30)
	}
	b := slices.Clone(a)
	g.snap(a)
	for i, v := range b {
		b[i] = (g.round(g.level(v)) - g.zero) * g.scale
	}
	closeTo(t, "snap vs portable", a, b, 1e-6)
}

func TestConcatAndArgMax(t *testing.T) {
	// [2][2] and [2][1] along axis 1 -> [2][3].
	k := concat{outer: 2, chunks: []int{2, 1}}
	got := make([]float32, 6)
	k.run([][]float32{{1, 2, 3, 4}, {5, 6}}, got, nil)
	closeTo(t, "concat", got, []float32{1, 2, 5, 3, 4, 6}, 0)

	// Along the middle axis of [1][3][2]; the first of equal maxima wins.
	am := argMax{outer: 1, n: 3, inner: 2}
	got = make([]float32, 2)
	am.run([][]float32{{1, 7, 4, 7, 4, 0}}, got, nil)
	closeTo(t, "argmax", got, []float32{1, 0}, 0)
}

// deeplabLike is DeepLab's head in miniature at a 33x33 input: a stride-2
// convolution, a global average pool broadcast back by RESIZE_BILINEAR,
// concatenation, upsampling to the input size and ARG_MAX.
func deeplabLike(rng *rand.Rand) *testModel {
	tm := newTestModel()
	in := tm.tensor([]int32{1, 33, 33, 3}, nil)
	feat := tm.tensor([]int32{1, 17, 17, 4}, nil)
	tm.op(OpConv2D, &Conv2DOptions{StrideH: 2, StrideW: 2, DilationH: 1, DilationW: 1, Activation: ActRelu}, []int32{in, tm.tensor([]int32{4, 3, 3, 3}, randSlice(rng, 4*27)), tm.tensor([]int32{4}, randSlice(rng, 4))}, feat)
	pooled := tm.tensor([]int32{1, 1, 1, 4}, nil)
	tm.op(OpAveragePool2D, &Pool2DOptions{Padding: PaddingValid, StrideH: 1, StrideW: 1, FilterH: 17, FilterW: 17}, []int32{feat}, pooled)
	spread := tm.tensor([]int32{1, 17, 17, 4}, nil)
	tm.op(OpResizeBilinear, &ResizeBilinearOptions{AlignCorners: true}, []int32{pooled, tm.typed([]int32{2}, Int32, []float32{17, 17})}, spread)
	cat := tm.tensor([]int32{1, 17, 17, 8}, nil)
	tm.op(OpConcatenation, &ConcatenationOptions{Axis: 3}, []int32{spread, feat}, cat)
	logits := tm.tensor([]int32{1, 17, 17, 3}, nil)
	tm.op(OpConv2D, &Conv2DOptions{StrideH: 1, StrideW: 1, DilationH: 1, DilationW: 1}, []int32{cat, tm.tensor([]int32{3, 1, 1, 8}, randSlice(rng, 24))}, logits)
	up := tm.tensor([]int32{1, 33, 33, 3}, nil)
	tm.op(OpResizeBilinear, &ResizeBilinearOptions{AlignCorners: true}, []int32{logits, tm.typed([]int32{2}, Int32, []float32{33, 33})}, up)
	classes := tm.typed([]int32{1, 33, 33}, Int64, nil)
	tm.op(OpArgMax, &ArgMaxOptions{OutputType: Int64}, []int32{up, tm.typed(nil, Int32, []float32{3})}, classes)
	tm.io(in, classes)
	return tm
}

func TestCompileResizedInput(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	tm := deeplabLike(rng)
	g, err := compileGraph(tm.m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if sh := g.OutputShape(); !slices.Equal(sh, []int{1, 33, 33}) {
		t.Fatalf("output shape %v", sh)
	}
	img, _ := randomImage(rng, 33, 33)
	out, err := g.Run(img)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range out {
		if v != 0 && v != 1 && v != 2 {
			t.Fatalf("class %v", v)
		}
	}

	// At 21x25 every map follows: feature 11x13, logits upsampled to 21x25.
	g, err = compileGraph(tm.m, Options{InputH: 21, InputW: 25})
	if err != nil {
		t.Fatal(err)
	}
	if sh := g.OutputShape(); !slices.Equal(sh, []int{1, 21, 25}) {
		t.Fatalf("output shape at 21x25: %v", sh)
	}
	for _, s := range g.steps {
		if pl, ok := s.k.(*pool2D); ok && (pl.fh != 11 || pl.fw != 13 || pl.oh != 1 || pl.ow != 1) {
			t.Errorf("pool at 21x25: %dx%d window, %dx%d out; want a global 11x13 mean", pl.fw, pl.fh, pl.ow, pl.oh)
		}
	}
	if _, err := g.Run(img); err == nil || !strings.Contains(err.Error(), "takes 25x21") {
		t.Errorf("33x33 image into a 25x21 graph: %v", err)
	}
	small, _ := randomImage(rng, 25, 21)
	if _, err := g.Run(small); err != nil {
		t.Fatal(err)
	}

	// A size in the file that names no map cannot follow the input.
	bad := deeplabLike(rng)
	size := bad.m.Subgraphs[0].Operators[5].Inputs[1]
	binary.LittleEndian.PutUint32(bad.m.Buffers[bad.m.Subgraphs[0].Tensors[size].Buffer], 30)
	if _, err := compileGraph(bad.m, Options{InputH: 21, InputW: 21}); err == nil || !strings.Contains(err.Error(), "cannot follow") {
		t.Errorf("resize to a size of no map: %v", err)
	}
	if _, err := compileGraph(tm.m, Options{InputH: -1, InputW: 5}); err == nil {
		t.Error("negative input size: no error")
	}
}
