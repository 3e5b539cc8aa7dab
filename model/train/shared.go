package train

import (
	"fmt"
	"hash"

	"attention/model/nn"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Shared is a (B, S, D) array that every decoder step reads: the source
// (the encoder's states, the projected regions) that each step's context
// sums with its weights, or its attention projection U x, to which each
// step adds W h. Read as an ordinary node, each step's gradient for it is
// a (B, S, D) array of its own, which gorgonia then adds up one array at a
// time: for a caption batch of 64 and 13 steps, 13 arrays of 6.4 MB and 12
// additions for the regions alone, each allocated and cleared per run.
//
// A Shared array is read through a token instead: a scalar node that
// stands for the array (its value is 0 and means nothing). Each step's
// gradient for the token is a scalar too, and the step adds its part of
// the array's gradient into one buffer as a side effect: attention adds
// its gradient for U x as it computes it; a weighted sum records its
// weights and output gradient (B x S and B x D numbers), which are folded
// into the buffer in one pass at the end. The token's own gradient, which
// gorgonia computes only after every step's (it sums them), hands the
// buffer to the array's node.
type Shared struct {
	X   *G.Node // the array, (B, S, D)
	tok *G.Node // the token the steps read
	buf *sharedBuf
}

// sharedBuf is what the ops of one Shared array share within a run.
type sharedBuf struct {
	x       []float32 // the array's value in this run (set by the token)
	B, S, D int
	dx      []float32   // the gradient so far
	w, dy   [][]float32 // weighted sums to fold into dx: weights (B, S), output gradients (B, D)
	used    int         // how many of w and dy this run filled
}

// record keeps a copy of one weighted sum's weights and output gradient.
func (s *sharedBuf) record(w, dy []float32) {
	if s.used == len(s.w) {
		s.w, s.dy = append(s.w, nil), append(s.dy, nil)
	}
	s.w[s.used] = append(s.w[s.used][:0], w...)
	s.dy[s.used] = append(s.dy[s.used][:0], dy...)
	s.used++
}

// fold adds the recorded weighted sums' gradients into dx:
// dx_bs += Σ_k w_k,bs dy_k,b, one row of dx at a time.
func (s *sharedBuf) fold() {
	B, S, D := s.B, s.S, s.D
	for b := range B {
		for i := range S {
			row := s.dx[(b*S+i)*D : (b*S+i+1)*D]
			for k := range s.used {
				if c := s.w[k][b*S+i]; c != 0 {
					nn.Axpy(c, s.dy[k][b*D:(b+1)*D], row)
				}
			}
		}
	}
	s.used = 0
}

// Share makes x3 (B, S, D) a Shared array for the steps of one graph.
func (g *Graph) Share(x3 *G.Node) *Shared {
	if x3.Shape().Dims() != 3 {
		panic(graphError{fmt.Errorf("share: want a (B, S, D) array, got %v", x3.Shape())})
	}
	buf := &sharedBuf{}
	return &Shared{X: x3, tok: g.Must(G.ApplyOp(shareOp{buf: buf}, x3)), buf: buf}
}

// WeightedShared is WeightedSum over a Shared array.
func (g *Graph) WeightedShared(w *G.Node, x *Shared) *G.Node {
	s, ws := x.X.Shape(), w.Shape()
	if len(ws) != 2 || ws[0] != s[0] || ws[1] != s[1] {
		panic(graphError{fmt.Errorf("weighted sum: weights %v do not fit values %v", ws, s)})
	}
	return g.Must(G.ApplyOp(wsumOp{buf: x.buf, shape: [3]int(s)}, w, x.tok))
}

// AdditiveShared is Additive with U x a Shared array.
func (g *Graph) AdditiveShared(h, w *G.Node, ux *Shared, v, maskBias *G.Node) *G.Node {
	wh := g.Mul(h, w)
	s, ws := ux.X.Shape(), wh.Shape()
	if len(ws) != 2 || ws[0] != s[0] || ws[1] != s[2] || v.Shape().TotalSize() != s[2] {
		panic(graphError{fmt.Errorf("attend: W h %v, U x %v and v %v do not fit", ws, s, v.Shape())})
	}
	op := attOp{kind: attScores, memo: &attMemo{}, buf: ux.buf, shape: [3]int(s)}
	if maskBias == nil {
		return g.Must(G.ApplyOp(op, wh, ux.tok, v))
	}
	op.masked = true
	return g.Must(G.ApplyOp(op, wh, ux.tok, v, maskBias))
}

// shareOp is the token (forward) and the array's gradient (backward).
type shareOp struct {
	buf  *sharedBuf
	grad bool // x3, d token -> d x3
}

func (op shareOp) Arity() int {
	if op.grad {
		return 2
	}
	return 1
}

func (op shareOp) Type() hm.Type {
	if op.grad {
		return hm.NewFnType(f32Tensor3, tensor.Float32, f32Tensor3)
	}
	return hm.NewFnType(f32Tensor3, tensor.Float32)
}

func (op shareOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	if !op.grad {
		return tensor.ScalarShape(), nil
	}
	s, ok := in[0].(tensor.Shape)
	if !ok || len(s) != 3 {
		return nil, fmt.Errorf("%s: want a (B, S, D) array, got %v", op, in[0])
	}
	return s.Clone(), nil
}

func (op shareOp) ReturnsPtr() bool      { return false }
func (op shareOp) CallsExtern() bool     { return false }
func (op shareOp) OverwritesInput() int  { return -1 }
func (op shareOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "share%v/%p", op.grad, op.buf) }
func (op shareOp) Hashcode() uint32      { return hashOf(op) }
func (op shareOp) String() string {
	if op.grad {
		return "SharedGrad"
	}
	return "Share"
}

func (op shareOp) DiffWRT(inputs int) []bool {
	d := make([]bool, inputs)
	d[0] = !op.grad
	return d
}

func (op shareOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if op.grad {
		return nil, fmt.Errorf("%s: no second derivative", op)
	}
	dx, err := G.ApplyOp(shareOp{buf: op.buf, grad: true}, inputs[0], grad)
	return G.Nodes{dx}, err
}

func (op shareOp) Do(vals ...G.Value) (G.Value, error) {
	if len(vals) != op.Arity() {
		return nil, fmt.Errorf("%s: %d inputs, want %d", op, len(vals), op.Arity())
	}
	x, s, err := dense(vals[0], 3)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	b := op.buf
	if !op.grad {
		// A new run: the steps read this value and add into a cleared
		// gradient.
		b.x, b.B, b.S, b.D = x, s[0], s[1], s[2]
		if len(b.dx) != len(x) {
			b.dx = make([]float32, len(x))
		} else {
			clear(b.dx)
		}
		b.used = 0
		return G.NewF32(0), nil
	}
	if len(b.dx) != len(x) {
		return nil, fmt.Errorf("%s: the gradient of a run that has not read the array", op)
	}
	b.fold()
	// The buffer itself: the next run clears it before anything adds in.
	return tensor.New(tensor.WithShape(s.Clone()...), tensor.WithBacking(b.dx)), nil
}

// stepDone is a step's (scalar) gradient for a token: 0, computed after
// the step has added its part of the array's gradient (by the op whose
// output is its input), so that the token's gradient comes after all.
type stepDone struct{ kind string }

func (op stepDone) Arity() int { return 1 }
func (op stepDone) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(a, tensor.Float32)
}
func (op stepDone) InferShape(...G.DimSizer) (tensor.Shape, error) { return tensor.ScalarShape(), nil }
func (op stepDone) ReturnsPtr() bool                               { return false }
func (op stepDone) CallsExtern() bool                              { return false }
func (op stepDone) OverwritesInput() int                           { return -1 }
func (op stepDone) WriteHash(h hash.Hash)                          { fmt.Fprintf(h, "stepDone/%s", op.kind) }
func (op stepDone) Hashcode() uint32                               { return hashOf(op) }
func (op stepDone) String() string                                 { return "StepDone/" + op.kind }
func (op stepDone) DiffWRT(inputs int) []bool                      { return make([]bool, inputs) }
func (op stepDone) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, fmt.Errorf("%s: not differentiable", op)
}
func (op stepDone) Do(...G.Value) (G.Value, error) { return G.NewF32(0), nil }
