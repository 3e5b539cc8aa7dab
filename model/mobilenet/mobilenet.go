// Package mobilenet runs an ImageNet MobileNetV2 read from a quantised
// TFLite file. Weights are dequantised once at load time and the network
// runs in float32 in pure Go, interpreting the file's graph op by op. The
// encoder's main product is the last convolutional feature map (7x7 regions
// of 1280 features for a 224x224 photo), which an attention captioner
// attends over; Classify keeps the ImageNet head for checking the weights.
package mobilenet

import (
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"
	"sync"

	"github.com/disintegration/imaging"
)

// Encoder is a compiled MobileNet graph. It is safe for concurrent use.
type Encoder struct {
	steps  []step
	consts [][]float32 // per tensor: a dequantised constant that steps read, else nil
	sizes  []int       // per tensor: element count

	input               int
	inH, inW            int
	inZero, inScale     float32 // model input = (pixel - inZero) * inScale
	output              int
	feature             int // input of the global average pool
	featSteps           int // steps[:featSteps] compute feature
	featH, featW, featC int
	arenas              sync.Pool
}

// step is one operator ready to run.
type step struct {
	op   BuiltinOp
	in   []int // tensor indices; constants among them read e.consts
	out  int
	k    kernel
	free []int // activations last read by this step
}

// Load parses a TFLite MobileNet, dequantises its weights and prepares the
// graph of subgraph 0. Every shape is checked here, so Regions and Classify
// can only fail on a bad image.
func Load(data []byte) (*Encoder, error) {
	m, err := ReadModel(data)
	if err != nil {
		return nil, err
	}
	sg := &m.Subgraphs[0]
	e := &Encoder{
		consts:  make([][]float32, len(sg.Tensors)),
		sizes:   make([]int, len(sg.Tensors)),
		feature: -1,
	}
	for i, t := range sg.Tensors {
		n := 1
		for _, d := range t.Shape {
			n *= int(d)
			if n > 1<<30 {
				return nil, fmt.Errorf("mobilenet: tensor %d (%s): shape %v is too large", i, t.Name, t.Shape)
			}
		}
		e.sizes[i] = n
		if b := m.Buffers[t.Buffer]; len(b) > 0 {
			if e.consts[i], err = dequantize(t, b, n); err != nil {
				return nil, fmt.Errorf("mobilenet: tensor %d (%s): %w", i, t.Name, err)
			}
		}
	}
	if len(sg.Inputs) != 1 || len(sg.Outputs) < 1 {
		return nil, fmt.Errorf("mobilenet: want one input and an output, graph has %d inputs and %d outputs", len(sg.Inputs), len(sg.Outputs))
	}
	if err := e.setInput(sg.Tensors[sg.Inputs[0]], int(sg.Inputs[0])); err != nil {
		return nil, err
	}
	e.output = int(sg.Outputs[0])

	ready := make([]bool, len(sg.Tensors)) // computed by the time a step runs
	ready[e.input] = true
	for i := range sg.Tensors {
		if e.consts[i] != nil {
			ready[i] = true
		}
	}
	for i, op := range sg.Operators {
		s, err := e.compile(m, sg, op)
		if err != nil {
			return nil, fmt.Errorf("mobilenet: operator %d (%s): %w", i, m.Op(op), err)
		}
		for _, t := range s.in {
			if !ready[t] {
				return nil, fmt.Errorf("mobilenet: operator %d (%s) reads tensor %d (%s) before any operator writes it", i, s.op, t, sg.Tensors[t].Name)
			}
		}
		if s.op == OpAveragePool2D && e.feature < 0 {
			e.feature, e.featSteps = s.in[0], i
			sh := sg.Tensors[s.in[0]].Shape
			e.featH, e.featW, e.featC = int(sh[1]), int(sh[2]), int(sh[3])
		}
		ready[s.out] = true
		e.steps = append(e.steps, s)
	}
	if !ready[e.output] || e.consts[e.output] != nil || e.output == e.input {
		return nil, fmt.Errorf("mobilenet: no operator computes the output tensor %d", e.output)
	}
	if e.feature < 0 {
		return nil, errors.New("mobilenet: graph has no AVERAGE_POOL_2D, so there is no region feature map")
	}

	// Free each activation after the last step that reads it.
	last := make([]int, len(sg.Tensors))
	for i := range last {
		last[i] = -1
	}
	for i, s := range e.steps {
		for _, t := range s.in {
			last[t] = i
		}
	}
	for t, i := range last {
		if i >= 0 && e.consts[t] == nil && t != e.output && t != e.feature {
			e.steps[i].free = append(e.steps[i].free, t)
		}
	}
	// Convolution filters now live packed inside their kernels; keep only
	// the constants that steps read as inputs (14 MB less for MobileNetV2).
	read := make([]bool, len(e.consts))
	for _, s := range e.steps {
		for _, t := range s.in {
			read[t] = true
		}
	}
	for t := range e.consts {
		if !read[t] {
			e.consts[t] = nil
		}
	}
	e.arenas.New = func() any { return &arena{free: map[int][][]float32{}} }
	return e, nil
}

func (e *Encoder) setInput(t Tensor, idx int) error {
	if len(t.Shape) != 4 || t.Shape[0] != 1 || t.Shape[3] != 3 {
		return fmt.Errorf("mobilenet: input shape %v, want [1 H W 3]", t.Shape)
	}
	e.input = idx
	e.inH, e.inW = int(t.Shape[1]), int(t.Shape[2])
	switch {
	case t.Type == Uint8 && t.Quant != nil:
		// The float network saw exactly the values the uint8 input stands for.
		e.inZero, e.inScale = float32(t.Quant.ZeroPoint0()), t.Quant.Scale[0]
	case t.Type == Int8 && t.Quant != nil:
		// An int8 input holds pixel-128.
		e.inZero, e.inScale = float32(t.Quant.ZeroPoint0()+128), t.Quant.Scale[0]
	case t.Type == Float32:
		e.inZero, e.inScale = 128, 1.0/128
	default:
		return fmt.Errorf("mobilenet: input type %s without quantisation parameters", t.Type)
	}
	return nil
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

// compile checks one operator's shapes and builds its kernel.
func (e *Encoder) compile(m *Model, sg *Subgraph, op Operator) (step, error) {
	s := step{op: m.Op(op)}
	if len(op.Outputs) != 1 {
		return s, fmt.Errorf("%d outputs, want 1", len(op.Outputs))
	}
	s.out = int(op.Outputs[0])
	if e.consts[s.out] != nil || s.out == e.input {
		return s, errors.New("writes a constant or the graph input")
	}
	shape := func(t int32) []int {
		out := make([]int, len(sg.Tensors[t].Shape))
		for i, d := range sg.Tensors[t].Shape {
			out[i] = int(d)
		}
		return out
	}
	nhwc := func(t int32, what string) ([4]int, error) {
		sh := shape(t)
		if len(sh) != 4 || sh[0] != 1 {
			return [4]int{}, fmt.Errorf("%s shape %v, want [1 H W C]", what, sh)
		}
		return [4]int(sh), nil
	}
	need := func(n int) error {
		if len(op.Inputs) < n {
			return fmt.Errorf("%d inputs, want at least %d", len(op.Inputs), n)
		}
		for _, t := range op.Inputs[:n] {
			if t < 0 {
				return errors.New("a required input is missing")
			}
		}
		return nil
	}
	constant := func(t int32, what string) ([]float32, error) {
		if c := e.consts[t]; c != nil {
			return c, nil
		}
		return nil, fmt.Errorf("%s (tensor %d) is not a constant", what, t)
	}
	bias := func(n int) ([]float32, error) {
		if len(op.Inputs) < 3 || op.Inputs[2] < 0 {
			return make([]float32, n), nil
		}
		b, err := constant(op.Inputs[2], "bias")
		if err == nil && len(b) != n {
			err = fmt.Errorf("bias has %d values for %d channels", len(b), n)
		}
		return b, err
	}
	stride := func(sh, sw, dh, dw int32) error {
		if sh < 1 || sw < 1 || dh < 1 || dw < 1 {
			return fmt.Errorf("stride %dx%d, dilation %dx%d: must be positive", sh, sw, dh, dw)
		}
		return nil
	}

	switch s.op {
	case OpConv2D:
		o, ok := op.Options.(*Conv2DOptions)
		if !ok {
			return s, errors.New("missing Conv2DOptions")
		}
		if err := need(2); err != nil {
			return s, err
		}
		if err := stride(o.StrideH, o.StrideW, o.DilationH, o.DilationW); err != nil {
			return s, err
		}
		in, err := nhwc(op.Inputs[0], "input")
		if err != nil {
			return s, err
		}
		out, err := nhwc(op.Outputs[0], "output")
		if err != nil {
			return s, err
		}
		wsh := shape(op.Inputs[1]) // [O KH KW C]
		if len(wsh) != 4 || wsh[3] != in[3] || wsh[0] != out[3] {
			return s, fmt.Errorf("filter shape %v does not fit input %v and output %v", wsh, in, out)
		}
		w, err := constant(op.Inputs[1], "filter")
		if err != nil {
			return s, err
		}
		b, err := bias(out[3])
		if err != nil {
			return s, err
		}
		cv := &conv2D{
			h: in[1], w: in[2], c: in[3], o: out[3], kh: wsh[1], kw: wsh[2],
			sh: int(o.StrideH), sw: int(o.StrideW), dh: int(o.DilationH), dw: int(o.DilationW),
			bias: b, act: o.Activation,
		}
		var oh, ow int
		oh, cv.padT = samePad(o.Padding, cv.h, cv.kh, cv.sh, cv.dh)
		ow, cv.padL = samePad(o.Padding, cv.w, cv.kw, cv.sw, cv.dw)
		if oh != out[1] || ow != out[2] {
			return s, fmt.Errorf("output %v, but the convolution gives %dx%d", out, oh, ow)
		}
		cv.oh, cv.ow = oh, ow
		cv.direct = cv.kh == 1 && cv.kw == 1 && cv.sh == 1 && cv.sw == 1
		if useAVX2 {
			cv.panels16 = packPanels16(w, cv.o, cv.kh*cv.kw*cv.c)
		} else {
			cv.panels = packPanels(w, cv.o, cv.kh*cv.kw*cv.c) // [O][KH KW C] rows are gemm's w[j][k]
		}
		s.in, s.k = []int{int(op.Inputs[0])}, cv
	case OpDepthwiseConv2D:
		o, ok := op.Options.(*DepthwiseConv2DOptions)
		if !ok {
			return s, errors.New("missing DepthwiseConv2DOptions")
		}
		if err := need(2); err != nil {
			return s, err
		}
		if err := stride(o.StrideH, o.StrideW, o.DilationH, o.DilationW); err != nil {
			return s, err
		}
		in, err := nhwc(op.Inputs[0], "input")
		if err != nil {
			return s, err
		}
		out, err := nhwc(op.Outputs[0], "output")
		if err != nil {
			return s, err
		}
		wsh := shape(op.Inputs[1]) // [1 KH KW C*mult]
		mult := int(o.DepthMultiplier)
		if mult < 1 {
			mult = out[3] / max(in[3], 1) // some converters leave it 0
		}
		if len(wsh) != 4 || wsh[0] != 1 || wsh[3] != out[3] || in[3]*mult != out[3] {
			return s, fmt.Errorf("filter %v, input %v, output %v and depth multiplier %d do not fit", wsh, in, out, o.DepthMultiplier)
		}
		w, err := constant(op.Inputs[1], "filter")
		if err != nil {
			return s, err
		}
		b, err := bias(out[3])
		if err != nil {
			return s, err
		}
		d := &depthwise{
			h: in[1], w: in[2], c: in[3], o: out[3], kh: wsh[1], kw: wsh[2],
			sh: int(o.StrideH), sw: int(o.StrideW), dh: int(o.DilationH), dw: int(o.DilationW),
			mult: mult, weights: w, bias: b, act: o.Activation,
		}
		var oh, ow int
		oh, d.padT = samePad(o.Padding, d.h, d.kh, d.sh, d.dh)
		ow, d.padL = samePad(o.Padding, d.w, d.kw, d.sw, d.dw)
		if oh != out[1] || ow != out[2] {
			return s, fmt.Errorf("output %v, but the convolution gives %dx%d", out, oh, ow)
		}
		d.oh, d.ow = oh, ow
		s.in, s.k = []int{int(op.Inputs[0])}, d
	case OpAveragePool2D, OpMaxPool2D:
		o, ok := op.Options.(*Pool2DOptions)
		if !ok {
			return s, errors.New("missing Pool2DOptions")
		}
		if err := need(1); err != nil {
			return s, err
		}
		if err := stride(o.StrideH, o.StrideW, 1, 1); err != nil {
			return s, err
		}
		in, err := nhwc(op.Inputs[0], "input")
		if err != nil {
			return s, err
		}
		out, err := nhwc(op.Outputs[0], "output")
		if err != nil {
			return s, err
		}
		if o.FilterH < 1 || o.FilterW < 1 || out[3] != in[3] {
			return s, fmt.Errorf("filter %dx%d from %v to %v", o.FilterH, o.FilterW, in, out)
		}
		pl := &pool2D{
			h: in[1], w: in[2], c: in[3], fh: int(o.FilterH), fw: int(o.FilterW),
			sh: int(o.StrideH), sw: int(o.StrideW), max: s.op == OpMaxPool2D, act: o.Activation,
		}
		var oh, ow int
		oh, pl.padT = samePad(o.Padding, pl.h, pl.fh, pl.sh, 1)
		ow, pl.padL = samePad(o.Padding, pl.w, pl.fw, pl.sw, 1)
		if oh != out[1] || ow != out[2] {
			return s, fmt.Errorf("output %v, but pooling gives %dx%d", out, oh, ow)
		}
		pl.oh, pl.ow = oh, ow
		s.in, s.k = []int{int(op.Inputs[0])}, pl
	case OpAdd:
		if err := need(2); err != nil {
			return s, err
		}
		a, b, c := op.Inputs[0], op.Inputs[1], op.Outputs[0]
		if !equalShape(shape(a), shape(b)) || !equalShape(shape(a), shape(c)) {
			return s, fmt.Errorf("shapes %v + %v -> %v; broadcasting is not supported", shape(a), shape(b), shape(c))
		}
		var act Activation
		if o, ok := op.Options.(*AddOptions); ok {
			act = o.Activation
		}
		s.in, s.k = []int{int(a), int(b)}, add{act: act}
	case OpReshape:
		if err := need(1); err != nil {
			return s, err
		}
		if e.sizes[op.Inputs[0]] != e.sizes[s.out] {
			return s, fmt.Errorf("%v to %v changes the element count", shape(op.Inputs[0]), shape(op.Outputs[0]))
		}
		s.in, s.k = []int{int(op.Inputs[0])}, reshape{}
	case OpSoftmax:
		if err := need(1); err != nil {
			return s, err
		}
		sh := shape(op.Outputs[0])
		if len(sh) == 0 || sh[len(sh)-1] < 1 || !equalShape(sh, shape(op.Inputs[0])) {
			return s, fmt.Errorf("shapes %v -> %v", shape(op.Inputs[0]), sh)
		}
		beta := float32(1)
		if o, ok := op.Options.(*SoftmaxOptions); ok && o.Beta != 0 {
			beta = o.Beta
		}
		s.in, s.k = []int{int(op.Inputs[0])}, softmax{n: sh[len(sh)-1], beta: beta}
	default:
		return s, errors.New("operator not supported")
	}
	if k := activationOf(op.Options); k != ActNone && k != ActRelu && k != ActRelu6 && k != ActReluN1To1 && k != ActTanh {
		return s, fmt.Errorf("fused activation %d not supported", k)
	}
	return s, nil
}

func activationOf(o any) Activation {
	switch o := o.(type) {
	case *Conv2DOptions:
		return o.Activation
	case *DepthwiseConv2DOptions:
		return o.Activation
	case *Pool2DOptions:
		return o.Activation
	case *AddOptions:
		return o.Activation
	}
	return ActNone
}

func equalShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// run executes steps[:n] on img and returns a copy of tensor want.
func (e *Encoder) run(img image.Image, n, want int) ([]float32, error) {
	a := e.arenas.Get().(*arena)
	defer e.arenas.Put(a)
	vals := make([][]float32, len(e.consts))
	copy(vals, e.consts)
	in := a.get(e.sizes[e.input])
	if err := e.pixels(img, in); err != nil {
		a.put(in)
		return nil, err
	}
	vals[e.input] = in
	args := make([][]float32, 0, 2)
	for _, s := range e.steps[:n] {
		args = args[:0]
		for _, t := range s.in {
			args = append(args, vals[t])
		}
		vals[s.out] = a.get(e.sizes[s.out])
		s.k.run(args, vals[s.out], a)
		for _, t := range s.free {
			a.put(vals[t])
			vals[t] = nil
		}
	}
	out := append([]float32(nil), vals[want]...)
	for t, v := range vals {
		if e.consts[t] == nil {
			a.put(v)
		}
	}
	return out, nil
}

// pixels writes img as the model's float input, (p - zero) * scale per
// channel, row-major [H][W][RGB].
func (e *Encoder) pixels(img image.Image, dst []float32) error {
	b := img.Bounds()
	if b.Dx() != e.inW || b.Dy() != e.inH {
		return fmt.Errorf("mobilenet: image is %dx%d, the model takes %dx%d (see Preprocess)", b.Dx(), b.Dy(), e.inW, e.inH)
	}
	z, sc := e.inZero, e.inScale
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

// Regions returns the last convolutional feature map, the input of the
// global average pool: rows x cols regions of depth features, row-major
// (r, c, d). For MobileNetV2 at 224x224 that is 7x7x1280. img must have
// the model's input size (224x224); Preprocess makes any photo fit.
func (e *Encoder) Regions(img image.Image) (feat []float32, rows, cols, depth int, err error) {
	feat, err = e.run(img, e.featSteps, e.feature)
	if err != nil {
		return nil, 0, 0, 0, err
	}
	return feat, e.featH, e.featW, e.featC, nil
}

// Classify runs the whole network and returns the class probabilities
// (1001 for this model, index 0 being "background").
func (e *Encoder) Classify(img image.Image) ([]float32, error) {
	return e.run(img, len(e.steps), e.output)
}

// InputSize is the image size the model takes, e.g. 224x224.
func (e *Encoder) InputSize() (width, height int) { return e.inW, e.inH }

// Preprocess scales img so that it covers 224x224 and crops the centre.
func Preprocess(img image.Image) *image.NRGBA {
	return imaging.Fill(img, 224, 224, imaging.Center, imaging.Lanczos)
}
