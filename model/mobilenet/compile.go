package mobilenet

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// compilers builds the kernel of each supported operator. Each reads the
// shapes of its inputs (as compiled, which at another input size are not
// the file's), sets c.in and c.shape, and returns the kernel.
var compilers = map[BuiltinOp]func(c *opc) (kernel, error){
	OpConv2D:          compileConv2D,
	OpDepthwiseConv2D: compileDepthwise,
	OpAveragePool2D:   compilePool,
	OpMaxPool2D:       compilePool,
	OpAdd:             compileAdd,
	OpConcatenation:   compileConcat,
	OpReshape:         compileReshape,
	OpSoftmax:         compileSoftmax,
	OpResizeBilinear:  compileResizeBilinear,
	OpArgMax:          compileArgMax,
	// In float32 both are copies; with Options.Requantize the output's
	// grid makes QUANTIZE the requantisation it is.
	OpQuantize:   compileCopy,
	OpDequantize: compileCopy,
}

// opc is one operator being compiled.
type opc struct {
	b       *builder
	op      Operator
	in      []int // tensors the kernel reads, in order
	shape   []int // the output's shape
	grid    *grid // with Options.Requantize, the output's grid, else nil
	rounded bool  // the kernel rounds to grid itself
}

func (c *opc) shapeOf(t int32) []int { return c.b.g.shapes[t] }

func (c *opc) nhwc(t int32, what string) ([4]int, error) {
	sh := c.shapeOf(t)
	if len(sh) != 4 || sh[0] != 1 {
		return [4]int{}, fmt.Errorf("%s shape %v, want [1 H W C]", what, sh)
	}
	return [4]int(sh), nil
}

// need checks that the first n inputs are present.
func (c *opc) need(n int) error {
	if len(c.op.Inputs) < n {
		return fmt.Errorf("%d inputs, want at least %d", len(c.op.Inputs), n)
	}
	for _, t := range c.op.Inputs[:n] {
		if t < 0 {
			return errors.New("a required input is missing")
		}
	}
	return nil
}

func (c *opc) constant(t int32, what string) ([]float32, error) {
	if v := c.b.g.consts[t]; v != nil {
		return v, nil
	}
	return nil, fmt.Errorf("%s (tensor %d) is not a constant", what, t)
}

// bias is the optional third input, zeros when absent.
func (c *opc) bias(n int) ([]float32, error) {
	if len(c.op.Inputs) < 3 || c.op.Inputs[2] < 0 {
		return make([]float32, n), nil
	}
	b, err := c.constant(c.op.Inputs[2], "bias")
	if err == nil && len(b) != n {
		err = fmt.Errorf("bias has %d values for %d channels", len(b), n)
	}
	return b, err
}

// options returns the operator's options, which must be of type T.
func options[T any](c *opc) (*T, error) {
	if o, ok := c.op.Options.(*T); ok {
		return o, nil
	}
	return nil, fmt.Errorf("missing %s", strings.TrimPrefix(fmt.Sprintf("%T", *new(T)), "mobilenet."))
}

func checkStride(sh, sw, dh, dw int32) error {
	if sh < 1 || sw < 1 || dh < 1 || dw < 1 {
		return fmt.Errorf("stride %dx%d, dilation %dx%d: must be positive", sh, sw, dh, dw)
	}
	return nil
}

// window is the output size and leading padding of a strided, dilated
// window along both axes; it fails where the window does not fit.
func window(pad Padding, in [4]int, kh, kw, sh, sw, dh, dw int) (oh, ow, padT, padL int, err error) {
	oh, padT = samePad(pad, in[1], kh, sh, dh)
	ow, padL = samePad(pad, in[2], kw, sw, dw)
	if oh < 1 || ow < 1 {
		return 0, 0, 0, 0, fmt.Errorf("a %dx%d window (dilation %dx%d) does not fit the %dx%d input", kw, kh, dw, dh, in[2], in[1])
	}
	return oh, ow, padT, padL, nil
}

func compileConv2D(c *opc) (kernel, error) {
	o, err := options[Conv2DOptions](c)
	if err != nil {
		return nil, err
	}
	if err := c.need(2); err != nil {
		return nil, err
	}
	if err := checkStride(o.StrideH, o.StrideW, o.DilationH, o.DilationW); err != nil {
		return nil, err
	}
	in, err := c.nhwc(c.op.Inputs[0], "input")
	if err != nil {
		return nil, err
	}
	wsh := c.shapeOf(c.op.Inputs[1]) // [O KH KW C]
	if len(wsh) != 4 || wsh[3] != in[3] || wsh[0] < 1 {
		return nil, fmt.Errorf("filter shape %v does not fit input %v", wsh, in)
	}
	w, err := c.constant(c.op.Inputs[1], "filter")
	if err != nil {
		return nil, err
	}
	b, err := c.bias(wsh[0])
	if err != nil {
		return nil, err
	}
	cv := &conv2D{
		h: in[1], w: in[2], c: in[3], o: wsh[0], kh: wsh[1], kw: wsh[2],
		sh: int(o.StrideH), sw: int(o.StrideW), dh: int(o.DilationH), dw: int(o.DilationW),
		bias: b, act: o.Activation,
	}
	cv.oh, cv.ow, cv.padT, cv.padL, err = window(o.Padding, in, cv.kh, cv.kw, cv.sh, cv.sw, cv.dh, cv.dw)
	if err != nil {
		return nil, err
	}
	cv.direct = cv.kh == 1 && cv.kw == 1 && cv.sh == 1 && cv.sw == 1
	if useAVX2 {
		cv.panels16 = packPanels16(w, cv.o, cv.kh*cv.kw*cv.c)
	} else {
		cv.panels = packPanels(w, cv.o, cv.kh*cv.kw*cv.c) // [O][KH KW C] rows are gemm's w[j][k]
	}
	c.in, c.shape = []int{int(c.op.Inputs[0])}, []int{1, cv.oh, cv.ow, cv.o}
	return cv, nil
}

func compileDepthwise(c *opc) (kernel, error) {
	o, err := options[DepthwiseConv2DOptions](c)
	if err != nil {
		return nil, err
	}
	if err := c.need(2); err != nil {
		return nil, err
	}
	if err := checkStride(o.StrideH, o.StrideW, o.DilationH, o.DilationW); err != nil {
		return nil, err
	}
	in, err := c.nhwc(c.op.Inputs[0], "input")
	if err != nil {
		return nil, err
	}
	wsh := c.shapeOf(c.op.Inputs[1]) // [1 KH KW C*mult]
	if len(wsh) != 4 {
		return nil, fmt.Errorf("filter shape %v, want [1 KH KW C*multiplier]", wsh)
	}
	mult := int(o.DepthMultiplier)
	if mult < 1 {
		mult = wsh[3] / max(in[3], 1) // some converters leave it 0
	}
	if wsh[0] != 1 || mult < 1 || in[3]*mult != wsh[3] {
		return nil, fmt.Errorf("filter %v, input %v and depth multiplier %d do not fit", wsh, in, o.DepthMultiplier)
	}
	w, err := c.constant(c.op.Inputs[1], "filter")
	if err != nil {
		return nil, err
	}
	b, err := c.bias(wsh[3])
	if err != nil {
		return nil, err
	}
	d := &depthwise{
		h: in[1], w: in[2], c: in[3], o: wsh[3], kh: wsh[1], kw: wsh[2],
		sh: int(o.StrideH), sw: int(o.StrideW), dh: int(o.DilationH), dw: int(o.DilationW),
		mult: mult, weights: w, bias: b, act: o.Activation,
	}
	d.oh, d.ow, d.padT, d.padL, err = window(o.Padding, in, d.kh, d.kw, d.sh, d.sw, d.dh, d.dw)
	if err != nil {
		return nil, err
	}
	c.in, c.shape = []int{int(c.op.Inputs[0])}, []int{1, d.oh, d.ow, d.o}
	return d, nil
}

// compilePool builds AVERAGE_POOL_2D and MAX_POOL_2D. A VALID window as
// large as its input in the file is a global pool, and stays one when the
// input is resized (DeepLab's image-level ASPP branch).
func compilePool(c *opc) (kernel, error) {
	o, err := options[Pool2DOptions](c)
	if err != nil {
		return nil, err
	}
	if err := c.need(1); err != nil {
		return nil, err
	}
	if err := checkStride(o.StrideH, o.StrideW, 1, 1); err != nil {
		return nil, err
	}
	in, err := c.nhwc(c.op.Inputs[0], "input")
	if err != nil {
		return nil, err
	}
	if o.FilterH < 1 || o.FilterW < 1 {
		return nil, fmt.Errorf("filter %dx%d", o.FilterW, o.FilterH)
	}
	fh, fw := int(o.FilterH), int(o.FilterW)
	if file := c.b.sg.Tensors[c.op.Inputs[0]].Shape; o.Padding == PaddingValid && len(file) == 4 && fh == int(file[1]) && fw == int(file[2]) {
		fh, fw = in[1], in[2]
	}
	pl := &pool2D{
		h: in[1], w: in[2], c: in[3], fh: fh, fw: fw,
		sh: int(o.StrideH), sw: int(o.StrideW), max: c.b.m.Op(c.op) == OpMaxPool2D, act: o.Activation,
	}
	pl.oh, pl.ow, pl.padT, pl.padL, err = window(o.Padding, in, pl.fh, pl.fw, pl.sh, pl.sw, 1, 1)
	if err != nil {
		return nil, err
	}
	c.in, c.shape = []int{int(c.op.Inputs[0])}, []int{1, pl.oh, pl.ow, pl.c}
	return pl, nil
}

func compileAdd(c *opc) (kernel, error) {
	if err := c.need(2); err != nil {
		return nil, err
	}
	a, b := c.op.Inputs[0], c.op.Inputs[1]
	if !slices.Equal(c.shapeOf(a), c.shapeOf(b)) {
		return nil, fmt.Errorf("shapes %v + %v; broadcasting is not supported", c.shapeOf(a), c.shapeOf(b))
	}
	var act Activation
	if o, ok := c.op.Options.(*AddOptions); ok {
		act = o.Activation
	}
	c.in, c.shape = []int{int(a), int(b)}, slices.Clone(c.shapeOf(a))
	return add{act: act}, nil
}

// compileConcat builds CONCATENATION along any axis: the output is outer
// rows, each the inputs' rows side by side.
func compileConcat(c *opc) (kernel, error) {
	o, err := options[ConcatenationOptions](c)
	if err != nil {
		return nil, err
	}
	if err := c.need(max(len(c.op.Inputs), 1)); err != nil {
		return nil, err
	}
	first := c.shapeOf(c.op.Inputs[0])
	axis := int(o.Axis)
	if axis < 0 {
		axis += len(first)
	}
	if axis < 0 || axis >= len(first) {
		return nil, fmt.Errorf("axis %d of a %d-D tensor", o.Axis, len(first))
	}
	out := slices.Clone(first)
	out[axis] = 0
	k := concat{outer: 1, act: o.Activation}
	for _, d := range first[:axis] {
		k.outer *= d
	}
	for _, t := range c.op.Inputs {
		sh := c.shapeOf(t)
		if len(sh) != len(first) {
			return nil, fmt.Errorf("inputs of shapes %v and %v", first, sh)
		}
		for i := range sh {
			if i != axis && sh[i] != first[i] {
				return nil, fmt.Errorf("inputs of shapes %v and %v differ off axis %d", first, sh, axis)
			}
		}
		out[axis] += sh[axis]
		k.chunks = append(k.chunks, c.b.g.sizes[t]/max(k.outer, 1))
		c.in = append(c.in, int(t))
	}
	c.shape = out
	return k, nil
}

// compileReshape keeps the file's output shape, which must hold as many
// elements as the input has now.
func compileReshape(c *opc) (kernel, error) {
	if err := c.need(1); err != nil {
		return nil, err
	}
	in := c.op.Inputs[0]
	out := ints(c.b.sg.Tensors[c.op.Outputs[0]].Shape)
	if n, _ := elements(out); n != c.b.g.sizes[in] {
		return nil, fmt.Errorf("%v to %v changes the element count", c.shapeOf(in), out)
	}
	c.in, c.shape = []int{int(in)}, out
	return identity{}, nil
}

func compileSoftmax(c *opc) (kernel, error) {
	if err := c.need(1); err != nil {
		return nil, err
	}
	sh := c.shapeOf(c.op.Inputs[0])
	if len(sh) == 0 || sh[len(sh)-1] < 1 {
		return nil, fmt.Errorf("input shape %v", sh)
	}
	beta := float32(1)
	if o, ok := c.op.Options.(*SoftmaxOptions); ok && o.Beta != 0 {
		beta = o.Beta
	}
	c.in, c.shape = []int{int(c.op.Inputs[0])}, slices.Clone(sh)
	return softmax{n: sh[len(sh)-1], beta: beta}, nil
}

// compileResizeBilinear builds RESIZE_BILINEAR to the constant size of
// input 1. With Options.Requantize and the same grid in and out (which
// TFLite's uint8 kernel requires) it interpolates on the grid as that
// kernel does.
func compileResizeBilinear(c *opc) (kernel, error) {
	var o ResizeBilinearOptions
	if p, ok := c.op.Options.(*ResizeBilinearOptions); ok {
		o = *p
	}
	if o.AlignCorners && o.HalfPixelCenters {
		return nil, errors.New("align_corners and half_pixel_centers together")
	}
	if err := c.need(2); err != nil {
		return nil, err
	}
	in, err := c.nhwc(c.op.Inputs[0], "input")
	if err != nil {
		return nil, err
	}
	size, err := c.constant(c.op.Inputs[1], "size")
	if err != nil {
		return nil, err
	}
	if len(size) != 2 || size[0] < 1 || size[1] < 1 || size[0] > 1<<15 || size[1] > 1<<15 {
		return nil, fmt.Errorf("size %v, want [height width]", size)
	}
	h, w, err := c.b.mapSize(int(size[0]), int(size[1]))
	if err != nil {
		return nil, err
	}
	k := &resizeBilinear{
		h: in[1], w: in[2], c: in[3], oh: h, ow: w,
		ys: lerps(in[1], h, o.AlignCorners, o.HalfPixelCenters),
		xs: lerps(in[2], w, o.AlignCorners, o.HalfPixelCenters),
	}
	if g := gridOf(c.b.sg.Tensors[c.op.Inputs[0]]); c.grid != nil && g != nil && *g == *c.grid {
		k.q, c.rounded = c.grid, true
	}
	c.in, c.shape = []int{int(c.op.Inputs[0])}, []int{1, h, w, in[3]}
	return k, nil
}

// compileArgMax builds ARG_MAX along the constant axis of input 1; the
// output holds the indices as float32, exact below 2^24.
func compileArgMax(c *opc) (kernel, error) {
	if err := c.need(2); err != nil {
		return nil, err
	}
	if t := c.b.sg.Tensors[c.op.Outputs[0]].Type; t != Int32 && t != Int64 {
		return nil, fmt.Errorf("output type %s, want INT32 or INT64", t)
	}
	sh := c.shapeOf(c.op.Inputs[0])
	ax, err := c.constant(c.op.Inputs[1], "axis")
	if err != nil {
		return nil, err
	}
	if len(ax) != 1 {
		return nil, fmt.Errorf("%d axes, want 1", len(ax))
	}
	axis := int(ax[0])
	if axis < 0 {
		axis += len(sh)
	}
	if axis < 0 || axis >= len(sh) || sh[axis] < 1 || sh[axis] > 1<<24 {
		return nil, fmt.Errorf("axis %v of shape %v", ax[0], sh)
	}
	k := argMax{outer: 1, n: sh[axis], inner: 1}
	for _, d := range sh[:axis] {
		k.outer *= d
	}
	for _, d := range sh[axis+1:] {
		k.inner *= d
	}
	c.in = []int{int(c.op.Inputs[0])}
	c.shape = slices.Concat(sh[:axis], sh[axis+1:])
	return k, nil
}

func compileCopy(c *opc) (kernel, error) {
	if err := c.need(1); err != nil {
		return nil, err
	}
	c.in, c.shape = []int{int(c.op.Inputs[0])}, slices.Clone(c.shapeOf(c.op.Inputs[0]))
	return identity{}, nil
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
	case *ConcatenationOptions:
		return o.Activation
	}
	return ActNone
}
