package train

import (
	"fmt"
	"hash"

	"attention/model/nn"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Additive attention and the weighted sum as fused ops with hand-written
// gradients. Built from gorgonia's broadcasting ops, each decoder step
// materialises W h repeated over the source (B, S, A) and the weights
// repeated over the features (B, S, D), then sums them away again, in the
// forward and the backward pass alike.

var f32Tensor3 = G.TensorType{Dims: 3, Of: tensor.Float32}

// attMemo keeps tanh(U x + W h) from the forward pass for the gradients,
// valid for the input arrays it was computed from.
type attMemo struct {
	at [2]*float32
	u  []float32
}

// Attend is additive attention given the projections: a = softmax(e) with
// e_bs = v·tanh(ux3_bs + wh_b) + maskBias_bs, for wh (B, A) = W h,
// ux3 (B, S, A) = U x + b, v (A, 1) and maskBias (B, S) or nil.
func Attend(wh, ux3, v, maskBias *G.Node) (*G.Node, error) {
	s, w := ux3.Shape(), wh.Shape()
	if len(s) != 3 || len(w) != 2 || w[0] != s[0] || w[1] != s[2] || v.Shape().TotalSize() != s[2] {
		return nil, fmt.Errorf("attend: W h %v, U x %v and v %v do not fit", w, s, v.Shape())
	}
	op := attOp{kind: attScores, memo: &attMemo{}}
	if maskBias == nil {
		return G.ApplyOp(op, wh, ux3, v)
	}
	op.masked = true
	return G.ApplyOp(op, wh, ux3, v, maskBias)
}

const (
	attScores = iota // wh, ux3, v, [mask] -> a (B, S)
	attGradU         // wh, ux3, v, [mask], a, da -> d ux3 (B, S, A)
	attGradV         // wh, ux3, v, [mask], a, da -> d v (A, 1)
	attGradWH        // wh, token, v, [mask], a, da -> d wh (B, A); adds d ux3 into the Shared buffer
)

// attOp is additive attention and its gradients. With buf set, U x is a
// Shared array (of the given shape) read through its token, the second
// input.
type attOp struct {
	kind   int
	masked bool
	memo   *attMemo
	buf    *sharedBuf
	shape  [3]int
}

func (op attOp) ins() int {
	n := 3
	if op.masked {
		n++
	}
	return n
}

func (op attOp) Arity() int {
	if op.kind == attScores {
		return op.ins()
	}
	return op.ins() + 2
}

func (op attOp) Type() hm.Type {
	ts := []hm.Type{f32Matrix, f32Tensor3, f32Matrix}
	if op.buf != nil {
		ts[1] = tensor.Float32
	}
	if op.masked {
		ts = append(ts, f32Matrix)
	}
	switch op.kind {
	case attScores:
		ts = append(ts, f32Matrix)
	case attGradU:
		ts = append(ts, f32Matrix, f32Matrix, f32Tensor3)
	case attGradV, attGradWH:
		ts = append(ts, f32Matrix, f32Matrix, f32Matrix)
	}
	return hm.NewFnType(ts...)
}

func (op attOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, ok := in[1].(tensor.Shape)
	if op.buf != nil {
		s, ok = tensor.Shape(op.shape[:]), true
	}
	if !ok || len(s) != 3 {
		return nil, fmt.Errorf("%s: U x must be (B, S, A), got %v", op, in[1])
	}
	switch op.kind {
	case attScores:
		return tensor.Shape{s[0], s[1]}, nil
	case attGradU:
		return s.Clone(), nil
	case attGradWH:
		return tensor.Shape{s[0], s[2]}, nil
	}
	return tensor.Shape{s[2], 1}, nil
}

func (op attOp) ReturnsPtr() bool      { return false }
func (op attOp) CallsExtern() bool     { return false }
func (op attOp) OverwritesInput() int  { return -1 }
func (op attOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "attend%d/%v/%p", op.kind, op.masked, op.buf) }
func (op attOp) Hashcode() uint32      { return hashOf(op) }
func (op attOp) String() string {
	return [...]string{"Attend", "AttendGradU", "AttendGradV", "AttendGradWH"}[op.kind]
}

func (op attOp) DiffWRT(inputs int) []bool {
	d := make([]bool, inputs)
	if op.kind == attScores {
		d[0], d[1], d[2] = true, true, true
	}
	return d
}

func (op attOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if op.kind != attScores {
		return nil, fmt.Errorf("%s: no second derivative", op)
	}
	args := append(append(G.Nodes{}, inputs...), output, grad)
	grad1 := op
	grad1.kind = attGradV
	dv, err := G.ApplyOp(grad1, args...)
	if err != nil {
		return nil, err
	}
	var dwh, du *G.Node
	if op.buf != nil {
		// d U x goes into the Shared buffer as d W h is summed from it;
		// the token's gradient waits for it.
		grad1.kind = attGradWH
		if dwh, err = G.ApplyOp(grad1, args...); err != nil {
			return nil, err
		}
		du, err = G.ApplyOp(stepDone{kind: "attend"}, dwh)
	} else {
		grad1.kind = attGradU
		if du, err = G.ApplyOp(grad1, args...); err != nil {
			return nil, err
		}
		dwh, err = G.Sum(du, 1) // W h is added at every source position
	}
	if err != nil {
		return nil, err
	}
	out := G.Nodes{dwh, du, dv}
	if op.masked {
		out = append(out, nil)
	}
	return out, nil
}

// tanhs returns u = tanh(ux3 + wh) (B*S*A). The gradients take it from
// the memo when the forward pass computed it from these arrays; the
// forward pass always computes it (a graph run again may refill the same
// arrays with new values).
func (op attOp) tanhs(wh, ux []float32, B, S, A int, fresh bool) []float32 {
	m := op.memo
	if m == nil {
		m = &attMemo{}
	}
	key := [2]*float32{&wh[0], &ux[0]}
	if !fresh && m.at == key && len(m.u) == B*S*A {
		return m.u
	}
	if len(m.u) != B*S*A {
		m.u = make([]float32, B*S*A)
	}
	for b := range B {
		w := wh[b*A : (b+1)*A]
		for s := range S {
			o := (b*S + s) * A
			u, x := m.u[o:o+A], ux[o:o+A]
			for k := range A {
				u[k] = x[k] + w[k]
			}
			nn.TanhInPlace(u)
		}
	}
	m.at = key
	return m.u
}

func (op attOp) Do(vals ...G.Value) (G.Value, error) {
	if len(vals) != op.Arity() {
		return nil, fmt.Errorf("%s: %d inputs, want %d", op, len(vals), op.Arity())
	}
	ux, s, err := op.buf.values(vals[1], op.shape)
	if err != nil {
		return nil, fmt.Errorf("%s: U x: %w", op, err)
	}
	B, S, A := s[0], s[1], s[2]
	wh, _, err := dense(vals[0], 2)
	if err != nil || len(wh) != B*A {
		return nil, fmt.Errorf("%s: W h must be (%d, %d)", op, B, A)
	}
	v, _, err := dense(vals[2], 2)
	if err != nil || len(v) != A {
		return nil, fmt.Errorf("%s: v must be (%d, 1)", op, A)
	}
	var mask []float32
	if op.masked {
		if mask, _, err = dense(vals[3], 2); err != nil || len(mask) != B*S {
			return nil, fmt.Errorf("%s: the mask must be (%d, %d)", op, B, S)
		}
	}
	u := op.tanhs(wh, ux, B, S, A, op.kind == attScores)
	if op.kind == attScores {
		out := make([]float32, B*S)
		for b := range B {
			e := out[b*S : (b+1)*S]
			for s := range S {
				e[s] = nn.Dot(u[(b*S+s)*A:(b*S+s+1)*A], v)
				if mask != nil {
					e[s] += mask[b*S+s]
				}
			}
			nn.SoftmaxInPlace(e)
		}
		return tensor.New(tensor.WithShape(B, S), tensor.WithBacking(out)), nil
	}
	n := op.ins()
	a, _, err1 := dense(vals[n], 2)
	da, _, err2 := dense(vals[n+1], 2)
	if err1 != nil || err2 != nil || len(a) != B*S || len(da) != B*S {
		return nil, fmt.Errorf("%s: the weights and their gradient must be (%d, %d)", op, B, S)
	}
	// Softmax backward: de_s = a_s (da_s - Σ_s' a_s' da_s').
	de := make([]float32, B*S)
	for b := range B {
		var dot float32
		for s := range S {
			dot += a[b*S+s] * da[b*S+s]
		}
		for s := range S {
			de[b*S+s] = a[b*S+s] * (da[b*S+s] - dot)
		}
	}
	if op.kind == attGradV {
		dv := make([]float32, A)
		for i, d := range de {
			if d != 0 {
				nn.Axpy(d, u[i*A:(i+1)*A], dv)
			}
		}
		return tensor.New(tensor.WithShape(A, 1), tensor.WithBacking(dv)), nil
	}
	if op.kind == attGradWH {
		// d ux_bs = de_bs v (1 - u_bs²), added into the shared gradient,
		// and d wh_b = Σ_s d ux_bs.
		dwh, g := make([]float32, B*A), make([]float32, A)
		for i, d := range de {
			if d == 0 {
				continue
			}
			nn.TanhGrad(d, u[i*A:(i+1)*A], v, g)
			nn.Axpy(1, g, op.buf.dx[i*A:(i+1)*A])
			nn.Axpy(1, g, dwh[(i/S)*A:(i/S+1)*A])
		}
		return tensor.New(tensor.WithShape(B, A), tensor.WithBacking(dwh)), nil
	}
	du := make([]float32, B*S*A)
	for i, d := range de {
		if d == 0 {
			continue
		}
		nn.TanhGrad(d, u[i*A:(i+1)*A], v, du[i*A:(i+1)*A])
	}
	return tensor.New(tensor.WithShape(B, S, A), tensor.WithBacking(du)), nil
}

// WeightedSum is Σ_s w_bs x_bsd: w (B, S), x3 (B, S, D) -> (B, D).
func WeightedSum(w, x3 *G.Node) (*G.Node, error) {
	s, ws := x3.Shape(), w.Shape()
	if len(s) != 3 || len(ws) != 2 || ws[0] != s[0] || ws[1] != s[1] {
		return nil, fmt.Errorf("weighted sum: weights %v do not fit values %v", ws, s)
	}
	return G.ApplyOp(wsumOp{}, w, x3)
}

const (
	wsumFwd    = iota // w, x3 -> (B, D)
	wsumGradW         // w, x3, dy -> (B, S)
	wsumGradX         // w, x3, dy -> (B, S, D)
	wsumRecord        // w, token, dy -> 0, recording w and dy in the Shared buffer
)

// wsumOp is the weighted sum and its gradients. With buf set, the values
// are a Shared array (of the given shape) read through its token, the
// second input.
type wsumOp struct {
	kind  int
	buf   *sharedBuf
	shape [3]int
}

func (op wsumOp) Arity() int {
	if op.kind == wsumFwd {
		return 2
	}
	return 3
}

func (op wsumOp) Type() hm.Type {
	var x hm.Type = f32Tensor3
	if op.buf != nil {
		x = tensor.Float32
	}
	switch op.kind {
	case wsumGradW:
		return hm.NewFnType(f32Matrix, x, f32Matrix, f32Matrix)
	case wsumGradX:
		return hm.NewFnType(f32Matrix, x, f32Matrix, f32Tensor3)
	case wsumRecord:
		return hm.NewFnType(f32Matrix, x, f32Matrix, tensor.Float32)
	}
	return hm.NewFnType(f32Matrix, x, f32Matrix)
}

func (op wsumOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, ok := in[1].(tensor.Shape)
	if op.buf != nil {
		s, ok = tensor.Shape(op.shape[:]), true
	}
	if !ok || len(s) != 3 {
		return nil, fmt.Errorf("%s: values must be (B, S, D), got %v", op, in[1])
	}
	switch op.kind {
	case wsumGradW:
		return tensor.Shape{s[0], s[1]}, nil
	case wsumGradX:
		return s.Clone(), nil
	case wsumRecord:
		return tensor.ScalarShape(), nil
	}
	return tensor.Shape{s[0], s[2]}, nil
}

func (op wsumOp) ReturnsPtr() bool      { return false }
func (op wsumOp) CallsExtern() bool     { return false }
func (op wsumOp) OverwritesInput() int  { return -1 }
func (op wsumOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "wsum%d/%p", op.kind, op.buf) }
func (op wsumOp) Hashcode() uint32      { return hashOf(op) }
func (op wsumOp) String() string {
	return [...]string{"WeightedSum", "WeightedSumGradW", "WeightedSumGradX", "WeightedSumRecord"}[op.kind]
}

func (op wsumOp) DiffWRT(inputs int) []bool {
	d := make([]bool, inputs)
	for i := range d {
		d[i] = op.kind == wsumFwd
	}
	return d
}

func (op wsumOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if op.kind != wsumFwd {
		return nil, fmt.Errorf("%s: no second derivative", op)
	}
	grad1 := op
	grad1.kind = wsumGradW
	dw, err := G.ApplyOp(grad1, inputs[0], inputs[1], grad)
	if err != nil {
		return nil, err
	}
	grad1.kind = wsumGradX
	if op.buf != nil {
		grad1.kind = wsumRecord // folded into the Shared gradient at the end
	}
	dx, err := G.ApplyOp(grad1, inputs[0], inputs[1], grad)
	return G.Nodes{dw, dx}, err
}

func (op wsumOp) Do(vals ...G.Value) (G.Value, error) {
	if len(vals) != op.Arity() {
		return nil, fmt.Errorf("%s: %d inputs, want %d", op, len(vals), op.Arity())
	}
	x, s, err := op.buf.values(vals[1], op.shape)
	if err != nil {
		return nil, fmt.Errorf("%s: values: %w", op, err)
	}
	B, S, D := s[0], s[1], s[2]
	w, _, err := dense(vals[0], 2)
	if err != nil || len(w) != B*S {
		return nil, fmt.Errorf("%s: weights must be (%d, %d)", op, B, S)
	}
	switch op.kind {
	case wsumFwd:
		y := make([]float32, B*D)
		for b := range B {
			for s := range S {
				if c := w[b*S+s]; c != 0 {
					nn.Axpy(c, x[(b*S+s)*D:(b*S+s+1)*D], y[b*D:(b+1)*D])
				}
			}
		}
		return tensor.New(tensor.WithShape(B, D), tensor.WithBacking(y)), nil
	}
	dy, _, err := dense(vals[2], 2)
	if err != nil || len(dy) != B*D {
		return nil, fmt.Errorf("%s: the gradient must be (%d, %d)", op, B, D)
	}
	if op.kind == wsumRecord {
		op.buf.record(w, dy)
		return G.NewF32(0), nil
	}
	if op.kind == wsumGradW {
		dw := make([]float32, B*S)
		for b := range B {
			for s := range S {
				dw[b*S+s] = nn.Dot(x[(b*S+s)*D:(b*S+s+1)*D], dy[b*D:(b+1)*D])
			}
		}
		return tensor.New(tensor.WithShape(B, S), tensor.WithBacking(dw)), nil
	}
	dx := make([]float32, B*S*D)
	for b := range B {
		for s := range S {
			if c := w[b*S+s]; c != 0 {
				nn.Axpy(c, dy[b*D:(b+1)*D], dx[(b*S+s)*D:(b*S+s+1)*D])
			}
		}
	}
	return tensor.New(tensor.WithShape(B, S, D), tensor.WithBacking(dx)), nil
}
