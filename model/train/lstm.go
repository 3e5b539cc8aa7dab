package train

import (
	"fmt"
	"hash"

	"attention/model/nn"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The LSTM cell as three fused ops, each with a hand-written gradient:
//
//	a = [σ(i), σ(f), tanh(g), σ(o)]   (LSTMActs; its gradient reads a alone)
//	c = a_i⊙a_g + a_f⊙c_prev          (LSTMCellNode)
//	h = a_o⊙tanh(c)                   (LSTMOutNode)
//
// where gates (B, 4n) hold the pre-activations i, f, g, o side by side.
// Built from gorgonia's element-wise ops the same cell takes thirteen ops
// (four column blocks, three sigmoids, two tanhs, three products and a
// sum), each allocating its output and its gradient.

const (
	lstmA     = iota // gates -> a
	lstmAGrad        // a, da -> d gates
	lstmC            // a, [c_prev] -> c
	lstmH            // a, c -> h
	lstmCActs        // a, [c_prev], dc -> d a
	lstmCPrev        // a, dc -> d c_prev
	lstmHActs        // a, c, dh -> d a
	lstmHC           // a, c, dh -> d c
	lstmKinds
)

var lstmNames = [lstmKinds]string{"LSTMActs", "LSTMActsGrad", "LSTMCell", "LSTMOut", "LSTMCellGradActs", "LSTMCellGradPrev", "LSTMOutGradActs", "LSTMOutGradC"}

type lstmOp struct {
	kind, n int
	prev    bool // lstmC, lstmCActs: c_prev is an input
}

// LSTMActs applies the gate nonlinearities to gates (B, 4n): sigmoid on
// the input, forget and output blocks, tanh on the cell block.
func LSTMActs(gates *G.Node, n int) (*G.Node, error) {
	if err := lstmCheck(gates, n); err != nil {
		return nil, err
	}
	return G.ApplyOp(lstmOp{kind: lstmA, n: n}, gates)
}

// LSTMCellNode is c = a_i⊙a_g + a_f⊙cPrev for activations a (B, 4n) from
// LSTMActs; cPrev (B, n) may be nil (a zero state).
func LSTMCellNode(acts, cPrev *G.Node, n int) (*G.Node, error) {
	if err := lstmCheck(acts, n); err != nil {
		return nil, err
	}
	if cPrev == nil {
		return G.ApplyOp(lstmOp{kind: lstmC, n: n}, acts)
	}
	return G.ApplyOp(lstmOp{kind: lstmC, n: n, prev: true}, acts, cPrev)
}

// LSTMOutNode is h = a_o⊙tanh(c) for activations a (B, 4n) and c (B, n).
func LSTMOutNode(acts, c *G.Node, n int) (*G.Node, error) {
	if err := lstmCheck(acts, n); err != nil {
		return nil, err
	}
	return G.ApplyOp(lstmOp{kind: lstmH, n: n}, acts, c)
}

func lstmCheck(gates *G.Node, n int) error {
	if s := gates.Shape(); len(s) != 2 || s[1] != 4*n {
		return fmt.Errorf("lstm: gates must be (B, %d), got %v", 4*n, s)
	}
	return nil
}

func (op lstmOp) Arity() int {
	switch op.kind {
	case lstmA:
		return 1
	case lstmC:
		if op.prev {
			return 2
		}
		return 1
	case lstmCActs:
		if op.prev {
			return 3
		}
		return 2
	case lstmHActs, lstmHC:
		return 3
	}
	return 2
}

func (op lstmOp) Type() hm.Type {
	ts := make([]hm.Type, op.Arity()+1)
	for i := range ts {
		ts[i] = f32Matrix
	}
	return hm.NewFnType(ts...)
}

// wide: the output is (B, 4n), else (B, n).
func (op lstmOp) wide() bool {
	return op.kind == lstmA || op.kind == lstmAGrad || op.kind == lstmCActs || op.kind == lstmHActs
}

func (op lstmOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, ok := in[0].(tensor.Shape)
	if !ok || len(s) != 2 || s[1] != 4*op.n {
		return nil, fmt.Errorf("%s: gates must be (B, %d), got %v", op, 4*op.n, in[0])
	}
	if op.wide() {
		return s.Clone(), nil
	}
	return tensor.Shape{s[0], op.n}, nil
}

func (op lstmOp) ReturnsPtr() bool     { return false }
func (op lstmOp) CallsExtern() bool    { return false }
func (op lstmOp) OverwritesInput() int { return -1 }
func (op lstmOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "lstm%d/%d/%v", op.kind, op.n, op.prev)
}
func (op lstmOp) Hashcode() uint32 { return hashOf(op) }
func (op lstmOp) String() string   { return lstmNames[op.kind] }

func (op lstmOp) DiffWRT(inputs int) []bool {
	d := make([]bool, inputs)
	for i := range d {
		d[i] = op.kind == lstmA || op.kind == lstmC || op.kind == lstmH
	}
	return d
}

func (op lstmOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	n := op.n
	switch op.kind {
	case lstmA:
		d, err := G.ApplyOp(lstmOp{kind: lstmAGrad, n: n}, output, grad)
		return G.Nodes{d}, err
	case lstmC:
		args := append(append(G.Nodes{}, inputs...), grad)
		da, err := G.ApplyOp(lstmOp{kind: lstmCActs, n: n, prev: op.prev}, args...)
		if err != nil || !op.prev {
			return G.Nodes{da}, err
		}
		dp, err := G.ApplyOp(lstmOp{kind: lstmCPrev, n: n}, inputs[0], grad)
		return G.Nodes{da, dp}, err
	case lstmH:
		da, err := G.ApplyOp(lstmOp{kind: lstmHActs, n: n}, inputs[0], inputs[1], grad)
		if err != nil {
			return nil, err
		}
		dc, err := G.ApplyOp(lstmOp{kind: lstmHC, n: n}, inputs[0], inputs[1], grad)
		return G.Nodes{da, dc}, err
	}
	return nil, fmt.Errorf("%s: no second derivative", op)
}

func (op lstmOp) Do(vals ...G.Value) (G.Value, error) {
	if len(vals) != op.Arity() {
		return nil, fmt.Errorf("%s: %d inputs, want %d", op, len(vals), op.Arity())
	}
	ins := make([][]float32, len(vals))
	rows := 0
	for i, v := range vals {
		x, r, c, err := matrix(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		want := op.n
		if i == 0 || (op.kind == lstmAGrad && i == 1) {
			want = 4 * op.n
		}
		if c != want || (i > 0 && r != rows) {
			return nil, fmt.Errorf("%s: input %d is (%d, %d), want (%d, %d)", op, i, r, c, rows, want)
		}
		ins[i], rows = x, r
	}
	n := op.n
	width := n
	if op.wide() {
		width = 4 * n
	}
	out := make([]float32, rows*width)
	for b := range rows {
		a := ins[0][b*4*n : (b+1)*4*n]
		ai, af, ag, ao := a[:n], a[n:2*n], a[2*n:3*n], a[3*n:]
		row := func(k int) []float32 { return ins[k][b*n : (b+1)*n] }
		o := out[b*width : (b+1)*width]
		switch op.kind {
		case lstmA:
			copy(o, a)
			nn.SigmoidInPlace(o[:2*n])   // i, f
			nn.TanhInPlace(o[2*n : 3*n]) // g
			nn.SigmoidInPlace(o[3*n:])   // o
		case lstmAGrad:
			da := ins[1][b*4*n : (b+1)*4*n]
			for j, y := range a {
				if j >= 2*n && j < 3*n {
					o[j] = da[j] * (1 - y*y)
				} else {
					o[j] = da[j] * y * (1 - y)
				}
			}
		case lstmC:
			for j := range n {
				o[j] = ai[j] * ag[j]
			}
			if op.prev {
				cp := row(1)
				for j := range n {
					o[j] += af[j] * cp[j]
				}
			}
		case lstmH:
			copy(o, row(1))
			nn.TanhInPlace(o)
			for j := range n {
				o[j] *= ao[j]
			}
		case lstmCActs:
			dc := row(len(ins) - 1)
			for j := range n {
				o[j] = dc[j] * ag[j]
				o[2*n+j] = dc[j] * ai[j]
			}
			if op.prev {
				cp := row(1)
				for j := range n {
					o[n+j] = dc[j] * cp[j]
				}
			}
		case lstmCPrev:
			dc := row(1)
			for j := range n {
				o[j] = dc[j] * af[j]
			}
		case lstmHActs:
			t, dh := o[3*n:], row(2)
			copy(t, row(1))
			nn.TanhInPlace(t)
			for j := range n {
				t[j] *= dh[j]
			}
		case lstmHC:
			copy(o, row(1))
			nn.TanhInPlace(o)
			dh := row(2)
			for j, t := range o[:n] {
				o[j] = dh[j] * ao[j] * (1 - t*t)
			}
		}
	}
	return tensor.New(tensor.WithShape(rows, width), tensor.WithBacking(out)), nil
}
