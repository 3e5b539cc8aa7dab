package train

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// block takes rows (axis 0) or columns (axis 1) [start, start+n) of a
// float32 matrix. It replaces gorgonia's Slice for the unrolled graphs:
// that op returns wrong values once the slice starts at index 256 or more
// (rows of a time-major batch from step 256/B on), which silently fed the
// model other numbers than the serving path computes.
type block struct {
	axis, start, n int
}

// Block is a matrix's rows (axis 0) or columns (axis 1) [start, start+n).
func Block(x *G.Node, axis, start, n int) (*G.Node, error) {
	s := x.Shape()
	if len(s) != 2 || axis < 0 || axis > 1 || start < 0 || n <= 0 || start+n > s[axis] {
		return nil, fmt.Errorf("block: [%d, %d) on axis %d of a %v", start, start+n, axis, s)
	}
	return G.ApplyOp(block{axis, start, n}, x)
}

func (b block) Arity() int                { return 1 }
func (b block) Type() hm.Type             { return hm.NewFnType(f32Matrix, f32Matrix) }
func (b block) ReturnsPtr() bool          { return false }
func (b block) CallsExtern() bool         { return false }
func (b block) OverwritesInput() int      { return -1 }
func (b block) WriteHash(h hash.Hash)     { fmt.Fprintf(h, "block%d[%d:%d]", b.axis, b.start, b.start+b.n) }
func (b block) Hashcode() uint32          { return hashOf(b) }
func (b block) String() string            { return fmt.Sprintf("Block%d[%d:%d]", b.axis, b.start, b.start+b.n) }
func (b block) DiffWRT(inputs int) []bool { return []bool{true} }

func (b block) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, ok := in[0].(tensor.Shape)
	if !ok || len(s) != 2 {
		return nil, fmt.Errorf("block: want a matrix, got %v", in[0])
	}
	out := s.Clone()
	out[b.axis] = b.n
	return out, nil
}

// dense returns a float32 value's data (contiguous, row-major) and shape,
// checking that it has dims dimensions.
func dense(v G.Value, dims int) ([]float32, tensor.Shape, error) {
	d, ok := v.(*tensor.Dense)
	if !ok || d.Dtype() != tensor.Float32 || d.Dims() != dims {
		if ok {
			return nil, nil, fmt.Errorf("want a float32 tensor of %d dimensions, got %v %v", dims, d.Dtype(), d.Shape())
		}
		return nil, nil, fmt.Errorf("want a float32 tensor of %d dimensions, got %T", dims, v)
	}
	if d.IsView() || !d.DataOrder().IsRowMajor() {
		d = d.Materialize().(*tensor.Dense)
	}
	return d.Data().([]float32), d.Shape(), nil
}

// matrix returns a float32 matrix's values as a contiguous row-major
// (rows, cols) slice.
func matrix(v G.Value) ([]float32, int, int, error) {
	x, s, err := dense(v, 2)
	if err != nil {
		return nil, 0, 0, err
	}
	return x, s[0], s[1], nil
}

func (b block) Do(vals ...G.Value) (G.Value, error) {
	x, rows, cols, err := matrix(vals[0])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b, err)
	}
	if b.axis == 0 {
		out := make([]float32, b.n*cols)
		copy(out, x[b.start*cols:(b.start+b.n)*cols])
		return tensor.New(tensor.WithShape(b.n, cols), tensor.WithBacking(out)), nil
	}
	out := make([]float32, rows*b.n)
	for r := 0; r < rows; r++ {
		copy(out[r*b.n:(r+1)*b.n], x[r*cols+b.start:r*cols+b.start+b.n])
	}
	return tensor.New(tensor.WithShape(rows, b.n), tensor.WithBacking(out)), nil
}

func (b block) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	d, err := G.ApplyOp(blockGrad{b}, inputs[0], grad)
	return G.Nodes{d}, err
}

// blockGrad scatters the gradient of a block back into a zero matrix of
// the input's shape.
type blockGrad struct{ b block }

func (g blockGrad) Arity() int           { return 2 }
func (g blockGrad) Type() hm.Type        { return hm.NewFnType(f32Matrix, f32Matrix, f32Matrix) }
func (g blockGrad) ReturnsPtr() bool     { return false }
func (g blockGrad) CallsExtern() bool    { return false }
func (g blockGrad) OverwritesInput() int { return -1 }
func (g blockGrad) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "blockgrad%d[%d:%d]", g.b.axis, g.b.start, g.b.start+g.b.n)
}
func (g blockGrad) Hashcode() uint32 { return hashOf(g) }
func (g blockGrad) String() string   { return "BlockGrad" }

func (g blockGrad) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, ok := in[0].(tensor.Shape)
	if !ok {
		return nil, fmt.Errorf("block gradient: bad input shape")
	}
	return s.Clone(), nil
}

func (g blockGrad) Do(vals ...G.Value) (G.Value, error) {
	xs, ok := vals[0].(tensor.Tensor)
	if !ok {
		return nil, fmt.Errorf("block gradient: want a matrix")
	}
	rows, cols := xs.Shape()[0], xs.Shape()[1]
	gv, _, _, err := matrix(vals[1])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", g, err)
	}
	out := make([]float32, rows*cols)
	b := g.b
	if b.axis == 0 {
		copy(out[b.start*cols:(b.start+b.n)*cols], gv)
	} else {
		for r := 0; r < rows; r++ {
			copy(out[r*cols+b.start:r*cols+b.start+b.n], gv[r*b.n:(r+1)*b.n])
		}
	}
	return tensor.New(tensor.WithShape(rows, cols), tensor.WithBacking(out)), nil
}

// Concat joins float32 matrices along axis 0 (rows) or 1 (columns). It
// replaces gorgonia's Concat, whose gradient is cut out with its Slice and
// so is wrong for every piece that starts at index 256 or more: the
// encoder's outputs, joined across 512-wide time steps, and the decoder's
// states, joined across time at batch 64, trained on wrong gradients.
// The gradient of each piece here is a Block of the output's gradient.
func Concat(axis int, xs ...*G.Node) (*G.Node, error) {
	if len(xs) == 0 || axis < 0 || axis > 1 {
		return nil, fmt.Errorf("concat: %d matrices on axis %d", len(xs), axis)
	}
	s0 := xs[0].Shape()
	widths := make([]int, len(xs))
	for i, x := range xs {
		s := x.Shape()
		if len(s) != 2 || s[1-axis] != s0[1-axis] {
			return nil, fmt.Errorf("concat: matrix %d is %v, the first is %v (axis %d)", i, s, s0, axis)
		}
		widths[i] = s[axis]
	}
	return G.ApplyOp(concat{axis: axis, widths: widths}, xs...)
}

type concat struct {
	axis   int
	widths []int
}

func (c concat) Arity() int { return len(c.widths) }
func (c concat) Type() hm.Type {
	ts := make([]hm.Type, len(c.widths)+1)
	for i := range ts {
		ts[i] = f32Matrix
	}
	return hm.NewFnType(ts...)
}
func (c concat) ReturnsPtr() bool      { return false }
func (c concat) CallsExtern() bool     { return false }
func (c concat) OverwritesInput() int  { return -1 }
func (c concat) WriteHash(h hash.Hash) { fmt.Fprintf(h, "concat%d%v", c.axis, c.widths) }
func (c concat) Hashcode() uint32      { return hashOf(c) }
func (c concat) String() string        { return fmt.Sprintf("Concat%d%v", c.axis, c.widths) }
func (c concat) DiffWRT(n int) []bool {
	d := make([]bool, n)
	for i := range d {
		d[i] = true
	}
	return d
}

func (c concat) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, ok := in[0].(tensor.Shape)
	if !ok || len(s) != 2 {
		return nil, fmt.Errorf("concat: want matrices, got %v", in[0])
	}
	out := s.Clone()
	out[c.axis] = 0
	for _, w := range c.widths {
		out[c.axis] += w
	}
	return out, nil
}

func (c concat) Do(vals ...G.Value) (G.Value, error) {
	total := 0
	for _, w := range c.widths {
		total += w
	}
	var rows, cols int
	parts := make([][]float32, len(vals))
	for i, v := range vals {
		x, r, cl, err := matrix(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c, err)
		}
		parts[i], rows, cols = x, r, cl
	}
	if c.axis == 0 {
		out := make([]float32, 0, total*cols)
		for _, p := range parts {
			out = append(out, p...)
		}
		return tensor.New(tensor.WithShape(total, cols), tensor.WithBacking(out)), nil
	}
	out := make([]float32, rows*total)
	off := 0
	for i, p := range parts {
		w := c.widths[i]
		for r := 0; r < rows; r++ {
			copy(out[r*total+off:r*total+off+w], p[r*w:(r+1)*w])
		}
		off += w
	}
	return tensor.New(tensor.WithShape(rows, total), tensor.WithBacking(out)), nil
}

func (c concat) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	out := make(G.Nodes, len(inputs))
	off := 0
	for i, w := range c.widths {
		d, err := Block(grad, c.axis, off, w)
		if err != nil {
			return nil, err
		}
		out[i] = d
		off += w
	}
	return out, nil
}
