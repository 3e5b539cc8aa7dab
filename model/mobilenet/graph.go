package mobilenet

import (
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"
	"runtime"
	"slices"
	"sync"
)

// Graph is subgraph 0 of a TFLite model compiled into float32 kernels:
// weights dequantised once, every shape checked, activation buffers
// recycled between runs. It is safe for concurrent use: each run takes its
// own set of buffers from a pool.
type Graph struct {
	steps  []step
	consts [][]float32 // per tensor: a dequantised constant that steps read, else nil
	shapes [][]int     // per tensor: the shape it was compiled with
	sizes  []int       // per tensor: element count

	input           int
	inH, inW        int
	inZero, inScale float32 // model input = (pixel - inZero) * inScale
	output          int
	arenas          sync.Pool
}

// Options change how a graph is compiled; the zero value compiles the
// file as it stands.
type Options struct {
	// InputH and InputW, when set, replace the input's spatial size, and
	// every other shape is inferred from it. Two kinds of constants name a
	// map size and follow the input: an AVERAGE_POOL_2D whose window covers
	// its whole input stays a global mean, and a RESIZE_BILINEAR target
	// size is mapped from the file's size of some map to that map's new
	// size. A fixed RESHAPE of a map whose size changed is an error.
	InputH, InputW int
	// Requantize rounds every activation to its tensor's uint8/int8 grid,
	// as the integer kernels the file was made for do, and interpolates
	// RESIZE_BILINEAR on that grid with their rounding. A network whose
	// output is an ARG_MAX over coarse logits needs this to break ties as
	// the file's own runtime does.
	Requantize bool
}

// step is one operator ready to run.
type step struct {
	op   BuiltinOp
	in   []int // tensor indices; constants among them read g.consts
	out  int
	k    kernel
	grid *grid // with Options.Requantize, the output's grid; nil if the kernel rounds itself
	free []int // activations last read by this step
}

// Compile parses a TFLite model and compiles its subgraph 0. Every shape is
// checked here, so Run can only fail on a bad image.
func Compile(data []byte, opts Options) (*Graph, error) {
	m, err := ReadModel(data)
	if err != nil {
		return nil, err
	}
	return compileGraph(m, opts)
}

func compileGraph(m *Model, opts Options) (*Graph, error) {
	sg := &m.Subgraphs[0]
	g := &Graph{
		consts: make([][]float32, len(sg.Tensors)),
		shapes: make([][]int, len(sg.Tensors)),
		sizes:  make([]int, len(sg.Tensors)),
	}
	for i, t := range sg.Tensors {
		g.shapes[i] = ints(t.Shape)
		n, err := elements(g.shapes[i])
		if err != nil {
			return nil, fmt.Errorf("mobilenet: tensor %d (%s): %w", i, t.Name, err)
		}
		g.sizes[i] = n
		if b := m.Buffers[t.Buffer]; len(b) > 0 {
			if g.consts[i], err = dequantize(t, b, n); err != nil {
				return nil, fmt.Errorf("mobilenet: tensor %d (%s): %w", i, t.Name, err)
			}
		}
	}
	if len(sg.Inputs) != 1 || len(sg.Outputs) < 1 {
		return nil, fmt.Errorf("mobilenet: want one input and an output, graph has %d inputs and %d outputs", len(sg.Inputs), len(sg.Outputs))
	}
	b := &builder{m: m, sg: sg, g: g, opts: opts, dims: [2]map[int]int{{}, {}}}
	if err := b.setInput(int(sg.Inputs[0])); err != nil {
		return nil, err
	}
	g.output = int(sg.Outputs[0])

	ready := make([]bool, len(sg.Tensors)) // computed by the time a step runs
	ready[g.input] = true
	for i := range sg.Tensors {
		if g.consts[i] != nil {
			ready[i] = true
		}
	}
	for i, op := range sg.Operators {
		for _, t := range op.Inputs {
			if t >= 0 && !ready[t] {
				return nil, fmt.Errorf("mobilenet: operator %d (%s) reads tensor %d (%s) before any operator writes it", i, m.Op(op), t, sg.Tensors[t].Name)
			}
		}
		s, err := b.compile(op)
		if err != nil {
			return nil, fmt.Errorf("mobilenet: operator %d (%s): %w", i, m.Op(op), err)
		}
		ready[s.out] = true
		g.steps = append(g.steps, s)
	}
	if !ready[g.output] || g.consts[g.output] != nil || g.output == g.input {
		return nil, fmt.Errorf("mobilenet: no operator computes the output tensor %d", g.output)
	}

	// Free each activation after the last step that reads it.
	last := make([]int, len(sg.Tensors))
	for i := range last {
		last[i] = -1
	}
	for i, s := range g.steps {
		for _, t := range s.in {
			last[t] = i
		}
	}
	for t, i := range last {
		if i >= 0 && g.consts[t] == nil && t != g.output {
			g.steps[i].free = append(g.steps[i].free, t)
		}
	}
	// Convolution filters now live packed inside their kernels; keep only
	// the constants that steps read as inputs (14 MB less for MobileNetV2).
	read := make([]bool, len(g.consts))
	for _, s := range g.steps {
		for _, t := range s.in {
			read[t] = true
		}
	}
	for t := range g.consts {
		if !read[t] {
			g.consts[t] = nil
		}
	}
	g.arenas.New = func() any { return &arena{free: map[int][][]float32{}} }
	return g, nil
}

func ints(s []int32) []int {
	out := make([]int, len(s))
	for i, d := range s {
		out[i] = int(d)
	}
	return out
}

// elements is the element count of a shape, refusing absurd ones.
func elements(shape []int) (int, error) {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("shape %v has a negative dimension", shape)
		}
		n *= d
		if n > 1<<30 {
			return 0, fmt.Errorf("shape %v is too large", shape)
		}
	}
	return n, nil
}

// dequantize turns a constant buffer into float32: (q - zero_point) * scale
// with per-tensor or per-axis parameters; float32 data is read as is, and
// int32 without parameters (shapes, indices) is converted exactly.
func dequantize(t Tensor, b []byte, n int) ([]float32, error) {
	size := map[TensorType]int{Float32: 4, Int32: 4, Uint8: 1, Int8: 1}[t.Type]
	if size == 0 {
		return nil, fmt.Errorf("constant of type %s is not supported", t.Type)
	}
	if len(b) != n*size {
		return nil, fmt.Errorf("buffer holds %d bytes, shape %v of %s needs %d", len(b), t.Shape, t.Type, n*size)
	}
	out := make([]float32, n)
	if t.Type == Float32 {
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
		return out, nil
	}
	q := t.Quant
	if q == nil {
		if t.Type != Int32 {
			return nil, fmt.Errorf("%s constant has no quantisation parameters", t.Type)
		}
		q = &Quantization{Scale: []float32{1}}
	}
	// Element i lies at index (i/inner)%axisLen along the quantised axis.
	axisLen, inner := 1, 1
	if len(q.Scale) > 1 {
		if q.Dim < 0 || int(q.Dim) >= len(t.Shape) || int(t.Shape[q.Dim]) != len(q.Scale) {
			return nil, fmt.Errorf("%d scales along axis %d of shape %v", len(q.Scale), q.Dim, t.Shape)
		}
		axisLen = len(q.Scale)
		for _, d := range t.Shape[q.Dim+1:] {
			inner *= int(d)
		}
	}
	if len(q.ZeroPoint) > 1 && len(q.ZeroPoint) != len(q.Scale) {
		return nil, fmt.Errorf("%d zero points for %d scales", len(q.ZeroPoint), len(q.Scale))
	}
	for i := range out {
		a := (i / inner) % axisLen
		var v int64
		switch t.Type {
		case Uint8:
			v = int64(b[i])
		case Int8:
			v = int64(int8(b[i]))
		case Int32:
			v = int64(int32(binary.LittleEndian.Uint32(b[4*i:])))
		}
		zp := int64(0)
		if len(q.ZeroPoint) == 1 {
			zp = q.ZeroPoint[0]
		} else if len(q.ZeroPoint) > 1 {
			zp = q.ZeroPoint[a]
		}
		out[i] = float32(float64(v-zp) * float64(q.Scale[min(a, len(q.Scale)-1)]))
	}
	return out, nil
}

// gridOf returns the uint8/int8 grid of a quantised activation, nil for
// any other tensor.
func gridOf(t Tensor) *grid {
	q := t.Quant
	if q == nil || len(q.Scale) != 1 || q.Scale[0] <= 0 {
		return nil
	}
	zero := float32(q.ZeroPoint0())
	switch t.Type {
	case Uint8:
		return &grid{scale: q.Scale[0], inv: 1 / q.Scale[0], zero: zero, lo: 0, hi: 255}
	case Int8:
		return &grid{scale: q.Scale[0], inv: 1 / q.Scale[0], zero: zero, lo: -128, hi: 127}
	}
	return nil
}

// run executes steps[:n] on img and returns a copy of tensor want.
func (g *Graph) run(img image.Image, n, want int) ([]float32, error) {
	a := g.arenas.Get().(*arena)
	defer g.arenas.Put(a)
	a.crew = startCrew(runtime.GOMAXPROCS(0) - 1)
	defer func() { a.crew.finish(); a.crew = nil }()
	vals := make([][]float32, len(g.consts))
	copy(vals, g.consts)
	in := a.get(g.sizes[g.input])
	if err := g.pixels(img, in); err != nil {
		a.put(in)
		return nil, err
	}
	vals[g.input] = in
	args := make([][]float32, 0, 2)
	for _, s := range g.steps[:n] {
		args = args[:0]
		for _, t := range s.in {
			args = append(args, vals[t])
		}
		vals[s.out] = a.get(g.sizes[s.out])
		s.k.run(args, vals[s.out], a)
		if s.grid != nil {
			s.grid.snap(vals[s.out])
		}
		for _, t := range s.free {
			if t != want {
				a.put(vals[t])
				vals[t] = nil
			}
		}
	}
	out := append([]float32(nil), vals[want]...)
	for t, v := range vals {
		if g.consts[t] == nil {
			a.put(v)
		}
	}
	return out, nil
}

// pixels writes img as the model's float input, (p - zero) * scale per
// channel, row-major [H][W][RGB].
func (g *Graph) pixels(img image.Image, dst []float32) error {
	b := img.Bounds()
	if b.Dx() != g.inW || b.Dy() != g.inH {
		return fmt.Errorf("mobilenet: image is %dx%d, the model takes %dx%d", b.Dx(), b.Dy(), g.inW, g.inH)
	}
	z, sc := g.inZero, g.inScale
	i := 0
	put := func(r, g, bl uint8) {
		dst[i] = (float32(r) - z) * sc
		dst[i+1] = (float32(g) - z) * sc
		dst[i+2] = (float32(bl) - z) * sc
		i += 3
	}
	switch im := img.(type) {
	case *image.NRGBA:
		for y := b.Min.Y; y < b.Max.Y; y++ {
			row := im.Pix[im.PixOffset(b.Min.X, y):]
			for x := 0; x < b.Dx(); x++ {
				put(row[4*x], row[4*x+1], row[4*x+2])
			}
		}
	case *image.RGBA: // what image/png and x/image/bmp decode opaque images to
		for y := b.Min.Y; y < b.Max.Y; y++ {
			row := im.Pix[im.PixOffset(b.Min.X, y):]
			for x := 0; x < b.Dx(); x++ {
				if row[4*x+3] == 255 {
					put(row[4*x], row[4*x+1], row[4*x+2])
				} else {
					c := color.NRGBAModel.Convert(im.RGBAAt(b.Min.X+x, y)).(color.NRGBA)
					put(c.R, c.G, c.B)
				}
			}
		}
	case *image.YCbCr: // what image/jpeg decodes to
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				yi, ci := im.YOffset(x, y), im.COffset(x, y)
				put(color.YCbCrToRGB(im.Y[yi], im.Cb[ci], im.Cr[ci]))
			}
		}
	default:
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
				put(c.R, c.G, c.B)
			}
		}
	}
	return nil
}

// Run runs the whole graph on img, which must have the input size, and
// returns the output tensor, row-major in OutputShape. Integer outputs
// (ARG_MAX indices) come as exact float32 values.
func (g *Graph) Run(img image.Image) ([]float32, error) {
	return g.run(img, len(g.steps), g.output)
}

// InputSize is the image size the graph takes.
func (g *Graph) InputSize() (width, height int) { return g.inW, g.inH }

// OutputShape is the shape of the output tensor as compiled.
func (g *Graph) OutputShape() []int { return slices.Clone(g.shapes[g.output]) }

// builder holds what the operator compilers share while a graph compiles.
type builder struct {
	m       *Model
	sg      *Subgraph
	g       *Graph
	opts    Options
	resized bool // the input size differs from the file's
	// dims maps a map height (dims[0]) or width (dims[1]) in the file to
	// the one compiled, -1 where two maps of one size in the file differ.
	dims [2]map[int]int
}

func (b *builder) setInput(idx int) error {
	t := b.sg.Tensors[idx]
	if len(t.Shape) != 4 || t.Shape[0] != 1 || t.Shape[3] != 3 {
		return fmt.Errorf("mobilenet: input shape %v, want [1 H W 3]", t.Shape)
	}
	g := b.g
	g.input = idx
	g.inH, g.inW = int(t.Shape[1]), int(t.Shape[2])
	if b.opts.InputH > 0 || b.opts.InputW > 0 {
		if b.opts.InputH < 1 || b.opts.InputW < 1 || b.opts.InputH*b.opts.InputW > 1<<24 {
			return fmt.Errorf("mobilenet: input size %dx%d is impossible", b.opts.InputW, b.opts.InputH)
		}
		g.inH, g.inW = b.opts.InputH, b.opts.InputW
		b.resized = g.inH != int(t.Shape[1]) || g.inW != int(t.Shape[2])
	}
	if err := b.setShape(idx, []int{1, g.inH, g.inW, 3}); err != nil {
		return fmt.Errorf("mobilenet: input: %w", err)
	}
	switch {
	case t.Type == Uint8 && t.Quant != nil:
		// The float network saw exactly the values the uint8 input stands for.
		g.inZero, g.inScale = float32(t.Quant.ZeroPoint0()), t.Quant.Scale[0]
	case t.Type == Int8 && t.Quant != nil:
		// An int8 input holds pixel-128.
		g.inZero, g.inScale = float32(t.Quant.ZeroPoint0()+128), t.Quant.Scale[0]
	case t.Type == Float32:
		g.inZero, g.inScale = 128, 1.0/128
	default:
		return fmt.Errorf("mobilenet: input type %s without quantisation parameters", t.Type)
	}
	return nil
}

// compile checks one operator's inputs, infers its output shape and builds
// its kernel.
func (b *builder) compile(op Operator) (step, error) {
	s := step{op: b.m.Op(op)}
	if len(op.Outputs) != 1 {
		return s, fmt.Errorf("%d outputs, want 1", len(op.Outputs))
	}
	s.out = int(op.Outputs[0])
	if b.g.consts[s.out] != nil || s.out == b.g.input {
		return s, errors.New("writes a constant or the graph input")
	}
	compile, ok := compilers[s.op]
	if !ok {
		return s, errors.New("operator not supported")
	}
	if k := activationOf(op.Options); k != ActNone && k != ActRelu && k != ActRelu6 && k != ActReluN1To1 && k != ActTanh {
		return s, fmt.Errorf("fused activation %d not supported", k)
	}
	c := &opc{b: b, op: op}
	if b.opts.Requantize {
		c.grid = gridOf(b.sg.Tensors[s.out])
	}
	k, err := compile(c)
	if err != nil {
		return s, err
	}
	if err := b.setShape(s.out, c.shape); err != nil {
		return s, err
	}
	s.in, s.k = c.in, k
	if !c.rounded {
		s.grid = c.grid
	}
	return s, nil
}

// setShape records the inferred shape of tensor t. At the file's input
// size it must be the file's shape; at another, only the spatial sizes
// (axes 1 and 2 of a map) may differ.
func (b *builder) setShape(t int, shape []int) error {
	file := ints(b.sg.Tensors[t].Shape)
	if !b.resized && !slices.Equal(shape, file) {
		return fmt.Errorf("output shape in the file is %v, but the operator gives %v", file, shape)
	}
	if b.resized {
		if len(shape) != len(file) {
			return fmt.Errorf("output shape in the file is %v, but the operator gives %v", file, shape)
		}
		for i := range shape {
			spatial := len(shape) >= 3 && (i == 1 || i == 2)
			if !spatial && shape[i] != file[i] {
				return fmt.Errorf("output shape in the file is %v, but at input size %dx%d the operator gives %v", file, b.g.inW, b.g.inH, shape)
			}
			if spatial {
				m := b.dims[i-1]
				if old, ok := m[file[i]]; ok && old != shape[i] {
					m[file[i]] = -1
				} else {
					m[file[i]] = shape[i]
				}
			}
		}
	}
	n, err := elements(shape)
	if err != nil {
		return err
	}
	b.g.shapes[t], b.g.sizes[t] = shape, n
	return nil
}

// mapSize turns a map size named by a constant in the file into the size
// of that map at the compiled input size.
func (b *builder) mapSize(h, w int) (int, int, error) {
	if !b.resized {
		return h, w, nil
	}
	nh, okH := b.dims[0][h]
	nw, okW := b.dims[1][w]
	if !okH || !okW || nh < 0 || nw < 0 {
		return 0, 0, fmt.Errorf("size %dx%d is no single map's size in the file, so it cannot follow a resized input", w, h)
	}
	return nh, nw, nil
}
