package train

import (
	"fmt"
	"hash"

	"attention/model/nn"

	"github.com/chewxy/hm"
	"gonum.org/v1/gonum/blas"
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

// zeroed is buf cleared for a new run, or a new zero buffer when buf is
// not n long.
func zeroed(buf []float32, n int) []float32 {
	if len(buf) != n {
		return make([]float32, n)
	}
	clear(buf)
	return buf
}

// values is an op's (B, S, D) input: v itself when the op reads an
// ordinary node (b is nil), else the Shared array of that shape that v, a
// token, stands for.
func (b *sharedBuf) values(v G.Value, shape [3]int) ([]float32, tensor.Shape, error) {
	if b == nil {
		return dense(v, 3)
	}
	s := tensor.Shape(shape[:])
	if len(b.x) != s.TotalSize() {
		return nil, nil, fmt.Errorf("the shared array of %v has not been read in this run", s)
	}
	return b.x, s, nil
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

// AdditiveShared is Additive with W a SharedWeight and U x a Shared
// array.
func (g *Graph) AdditiveShared(h *G.Node, w *SharedWeight, ux *Shared, v, maskBias *G.Node) *G.Node {
	wh := g.MulShared(h, w)
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
		b.dx = zeroed(b.dx, len(x))
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

// SharedWeight is a weight matrix (K, N) that every decoder step multiplies
// a (B, K) input by: W h, W z. Through gorgonia's Mul, each step's
// gradient for it is a (K, N) product of its own (4 MB for a 512x2048
// LSTM matrix) and gorgonia adds the steps' up one at a time. Through a
// SharedWeight, each step's input and output gradient go into a slot of
// two stacked arrays (T x (B, K) and T x (B, N)), and the weight's
// gradient is one product over all of them, X^T dY, made after every
// step's (the steps' scalar gradients for the token, which gorgonia sums,
// are its input).
type SharedWeight struct {
	W   *G.Node
	tok *G.Node
	buf *weightBuf
}

// weightBuf is what the ops of one SharedWeight share within a run.
type weightBuf struct {
	w        []float32 // the weight's value in this run
	K, N     int
	B        int // rows of every input
	slots    int // products made with the weight (one slot each)
	x, dy    []float32
	recorded []bool // slots whose output gradient this run wrote
}

// ShareWeight makes w (K, N) a SharedWeight.
func (g *Graph) ShareWeight(w *G.Node) *SharedWeight {
	s := w.Shape()
	if s.Dims() != 2 {
		panic(graphError{fmt.Errorf("share weight: want a matrix, got %v", s)})
	}
	buf := &weightBuf{K: s[0], N: s[1]}
	return &SharedWeight{W: w, tok: g.Must(G.ApplyOp(weightOp{kind: weightShare, buf: buf}, w)), buf: buf}
}

// MulShared is x W for x (B, K); every product with one SharedWeight has
// the same B.
func (g *Graph) MulShared(x *G.Node, w *SharedWeight) *G.Node {
	s, b := x.Shape(), w.buf
	if s.Dims() != 2 || s[1] != b.K || (b.slots > 0 && s[0] != b.B) {
		panic(graphError{fmt.Errorf("shared weight (%d, %d): an input of %v (rows %d before)", b.K, b.N, s, b.B)})
	}
	b.B = s[0]
	op := weightOp{kind: weightMul, buf: b, slot: b.slots}
	b.slots++
	return g.Must(G.ApplyOp(op, x, w.tok))
}

const (
	weightShare  = iota // w -> token
	weightGrad          // w, d token -> d w
	weightMul           // x, token -> x w; keeps x in its slot
	weightGradX         // x, token, dy -> dy w^T
	weightRecord        // x, token, dy -> 0; keeps dy in its slot
)

type weightOp struct {
	kind int
	buf  *weightBuf
	slot int
}

func (op weightOp) Arity() int { return [...]int{1, 2, 2, 3, 3}[op.kind] }

func (op weightOp) Type() hm.Type {
	switch op.kind {
	case weightShare:
		return hm.NewFnType(f32Matrix, tensor.Float32)
	case weightGrad, weightMul:
		return hm.NewFnType(f32Matrix, tensor.Float32, f32Matrix)
	case weightGradX:
		return hm.NewFnType(f32Matrix, tensor.Float32, f32Matrix, f32Matrix)
	}
	return hm.NewFnType(f32Matrix, tensor.Float32, f32Matrix, tensor.Float32)
}

func (op weightOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, ok := in[0].(tensor.Shape)
	if !ok || len(s) != 2 {
		return nil, fmt.Errorf("%s: want a matrix, got %v", op, in[0])
	}
	switch op.kind {
	case weightShare, weightRecord:
		return tensor.ScalarShape(), nil
	case weightMul:
		return tensor.Shape{s[0], op.buf.N}, nil
	}
	return s.Clone(), nil
}

func (op weightOp) ReturnsPtr() bool     { return false }
func (op weightOp) CallsExtern() bool    { return false }
func (op weightOp) OverwritesInput() int { return -1 }
func (op weightOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "weight%d/%p/%d", op.kind, op.buf, op.slot)
}
func (op weightOp) Hashcode() uint32 { return hashOf(op) }
func (op weightOp) String() string {
	return [...]string{"ShareWeight", "SharedWeightGrad", "MulShared", "MulSharedGradX", "MulSharedRecord"}[op.kind]
}

func (op weightOp) DiffWRT(inputs int) []bool {
	d := make([]bool, inputs)
	switch op.kind {
	case weightShare:
		d[0] = true
	case weightMul:
		d[0], d[1] = true, true
	}
	return d
}

func (op weightOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	switch op.kind {
	case weightShare:
		dw, err := G.ApplyOp(weightOp{kind: weightGrad, buf: op.buf}, inputs[0], grad)
		return G.Nodes{dw}, err
	case weightMul:
		g1 := op
		g1.kind = weightGradX
		dx, err := G.ApplyOp(g1, inputs[0], inputs[1], grad)
		if err != nil {
			return nil, err
		}
		g1.kind = weightRecord
		dtok, err := G.ApplyOp(g1, inputs[0], inputs[1], grad)
		return G.Nodes{dx, dtok}, err
	}
	return nil, fmt.Errorf("%s: no second derivative", op)
}

func (op weightOp) Do(vals ...G.Value) (G.Value, error) {
	if len(vals) != op.Arity() {
		return nil, fmt.Errorf("%s: %d inputs, want %d", op, len(vals), op.Arity())
	}
	a, s, err := dense(vals[0], 2)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	b := op.buf
	bl := G.WhichBLAS()
	switch op.kind {
	case weightShare:
		// A new run: the steps read this value and fill their slots.
		if s[0] != b.K || s[1] != b.N {
			return nil, fmt.Errorf("%s: the weight is %v, want (%d, %d)", op, s, b.K, b.N)
		}
		b.w = a
		if n := b.slots * b.B; len(b.x) != n*b.K {
			b.x, b.dy, b.recorded = make([]float32, n*b.K), make([]float32, n*b.N), make([]bool, b.slots)
		}
		clear(b.recorded)
		return G.NewF32(0), nil
	case weightGrad:
		// Slots whose product took no part in the loss add nothing.
		for i, ok := range b.recorded {
			if !ok {
				clear(b.dy[i*b.B*b.N : (i+1)*b.B*b.N])
			}
		}
		dw := make([]float32, b.K*b.N)
		bl.Sgemm(blas.Trans, blas.NoTrans, b.K, b.N, b.slots*b.B, 1, b.x, b.K, b.dy, b.N, 0, dw, b.N)
		return tensor.New(tensor.WithShape(b.K, b.N), tensor.WithBacking(dw)), nil
	}
	B := s[0]
	if len(b.w) != b.K*b.N || s[1] != b.K || B != b.B {
		return nil, fmt.Errorf("%s: an input of %v for a weight (%d, %d) with %d rows a step, or a run that has not read it", op, s, b.K, b.N, b.B)
	}
	if op.kind == weightMul {
		copy(b.x[op.slot*B*b.K:], a)
		y := make([]float32, B*b.N)
		bl.Sgemm(blas.NoTrans, blas.NoTrans, B, b.N, b.K, 1, a, b.K, b.w, b.N, 0, y, b.N)
		return tensor.New(tensor.WithShape(B, b.N), tensor.WithBacking(y)), nil
	}
	dy, _, err := dense(vals[2], 2)
	if err != nil || len(dy) != B*b.N {
		return nil, fmt.Errorf("%s: the output gradient must be (%d, %d)", op, B, b.N)
	}
	if op.kind == weightRecord {
		copy(b.dy[op.slot*B*b.N:], dy)
		b.recorded[op.slot] = true
		return G.NewF32(0), nil
	}
	dx := make([]float32, B*b.K)
	bl.Sgemm(blas.NoTrans, blas.Trans, B, b.K, b.N, 1, dy, b.N, b.w, b.N, 0, dx, b.K)
	return tensor.New(tensor.WithShape(B, b.K), tensor.WithBacking(dx)), nil
}

// SharedRows is a matrix (M, N) whose row blocks the steps read, one
// block a step: the input projections of all steps, made as one product.
// Through gorgonia, each block's gradient is a matrix of the whole
// product's size, zero but for the block, and gorgonia adds one per step;
// through SharedRows each step adds its block's gradient into its rows of
// one buffer.
type SharedRows struct {
	X   *G.Node
	tok *G.Node
	buf *rowsBuf
}

// rowsBuf is what the ops of one SharedRows share within a run.
type rowsBuf struct {
	x    []float32 // the matrix's value in this run
	M, N int
	dx   []float32 // the gradient so far
}

// ShareRows makes x (M, N) a SharedRows.
func (g *Graph) ShareRows(x *G.Node) *SharedRows {
	s := x.Shape()
	if s.Dims() != 2 {
		panic(graphError{fmt.Errorf("share rows: want a matrix, got %v", s)})
	}
	buf := &rowsBuf{M: s[0], N: s[1]}
	return &SharedRows{X: x, tok: g.Must(G.ApplyOp(rowsOp{kind: rowsShare, buf: buf}, x)), buf: buf}
}

// Rows is rows [start, start+n) of x.
func (x *SharedRows) Rows(g *Graph, start, n int) *G.Node {
	if start < 0 || n <= 0 || start+n > x.buf.M {
		panic(graphError{fmt.Errorf("rows [%d, %d) of a matrix of %d", start, start+n, x.buf.M)})
	}
	return g.Must(G.ApplyOp(rowsOp{kind: rowsRead, buf: x.buf, start: start, n: n}, x.tok))
}

const (
	rowsShare  = iota // x -> token
	rowsGrad          // x, d token -> d x
	rowsRead          // token -> rows
	rowsRecord        // token, d rows -> 0; adds d rows into the buffer
)

type rowsOp struct {
	kind     int
	buf      *rowsBuf
	start, n int
}

func (op rowsOp) Arity() int { return [...]int{1, 2, 1, 2}[op.kind] }

func (op rowsOp) Type() hm.Type {
	switch op.kind {
	case rowsShare:
		return hm.NewFnType(f32Matrix, tensor.Float32)
	case rowsGrad:
		return hm.NewFnType(f32Matrix, tensor.Float32, f32Matrix)
	case rowsRead:
		return hm.NewFnType(tensor.Float32, f32Matrix)
	}
	return hm.NewFnType(tensor.Float32, f32Matrix, tensor.Float32)
}

func (op rowsOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	switch op.kind {
	case rowsGrad:
		return tensor.Shape{op.buf.M, op.buf.N}, nil
	case rowsRead:
		return tensor.Shape{op.n, op.buf.N}, nil
	}
	return tensor.ScalarShape(), nil
}

func (op rowsOp) ReturnsPtr() bool     { return false }
func (op rowsOp) CallsExtern() bool    { return false }
func (op rowsOp) OverwritesInput() int { return -1 }
func (op rowsOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "rows%d/%p[%d:%d]", op.kind, op.buf, op.start, op.start+op.n)
}
func (op rowsOp) Hashcode() uint32 { return hashOf(op) }
func (op rowsOp) String() string {
	return [...]string{"ShareRows", "SharedRowsGrad", "SharedRows", "SharedRowsRecord"}[op.kind]
}

func (op rowsOp) DiffWRT(inputs int) []bool {
	d := make([]bool, inputs)
	d[0] = op.kind == rowsShare || op.kind == rowsRead
	return d
}

func (op rowsOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	g1 := op
	switch op.kind {
	case rowsShare:
		g1.kind = rowsGrad
		dx, err := G.ApplyOp(g1, inputs[0], grad)
		return G.Nodes{dx}, err
	case rowsRead:
		g1.kind = rowsRecord
		dtok, err := G.ApplyOp(g1, inputs[0], grad)
		return G.Nodes{dtok}, err
	}
	return nil, fmt.Errorf("%s: no second derivative", op)
}

func (op rowsOp) Do(vals ...G.Value) (G.Value, error) {
	if len(vals) != op.Arity() {
		return nil, fmt.Errorf("%s: %d inputs, want %d", op, len(vals), op.Arity())
	}
	b := op.buf
	switch op.kind {
	case rowsShare:
		x, s, err := dense(vals[0], 2)
		if err != nil || s[0] != b.M || s[1] != b.N {
			return nil, fmt.Errorf("%s: want a (%d, %d) matrix, got %v (%v)", op, b.M, b.N, s, err)
		}
		// A new run: the steps read this value and add into a cleared
		// gradient.
		b.x = x
		b.dx = zeroed(b.dx, len(x))
		return G.NewF32(0), nil
	case rowsGrad:
		if len(b.dx) != b.M*b.N {
			return nil, fmt.Errorf("%s: the gradient of a run that has not read the matrix", op)
		}
		// The buffer itself: the next run clears it before anything adds in.
		return tensor.New(tensor.WithShape(b.M, b.N), tensor.WithBacking(b.dx)), nil
	}
	if len(b.x) != b.M*b.N {
		return nil, fmt.Errorf("%s: a run that has not read the matrix", op)
	}
	lo, hi := op.start*b.N, (op.start+op.n)*b.N
	if op.kind == rowsRead {
		y := make([]float32, hi-lo)
		copy(y, b.x[lo:hi])
		return tensor.New(tensor.WithShape(op.n, b.N), tensor.WithBacking(y)), nil
	}
	dy, _, err := dense(vals[1], 2)
	if err != nil || len(dy) != hi-lo {
		return nil, fmt.Errorf("%s: the gradient must be (%d, %d)", op, op.n, b.N)
	}
	nn.Axpy(1, dy, b.dx[lo:hi])
	return G.NewF32(0), nil
}
