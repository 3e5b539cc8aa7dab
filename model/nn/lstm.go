package nn

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The LSTM cell as two fused ops, each with a hand-written gradient:
//
//	c = σ(i)⊙tanh(g) + σ(f)⊙c_prev   (LSTMCellNode)
//	h = σ(o)⊙tanh(c)                  (LSTMOutNode)
//
// where gates (B, 4n) hold the pre-activations i, f, g, o side by side.
// Built from gorgonia's element-wise ops the same cell takes thirteen ops
// (four column blocks, three sigmoids, two tanhs, three products and a
// sum), each allocating its output and its gradient; fused it takes two.

const (
	lstmC      = iota // gates, [c_prev] -> c
	lstmH             // gates, c -> h
	lstmCGates        // gates, [c_prev], dc -> d gates
	lstmCPrev         // gates, dc -> d c_prev
	lstmHGates        // gates, c, dh -> d gates
	lstmHC            // gates, c, dh -> d c
	lstmKinds
)

var lstmNames = [lstmKinds]string{"LSTMCell", "LSTMOut", "LSTMCellGradGates", "LSTMCellGradPrev", "LSTMOutGradGates", "LSTMOutGradC"}

type lstmOp struct {
	kind, n int
	prev    bool // lstmC, lstmCGates: c_prev is an input
}

// LSTMCellNode is c = σ(i)⊙tanh(g) + σ(f)⊙cPrev for gates (B, 4n); cPrev
// (B, n) may be nil (a zero state).
func LSTMCellNode(gates, cPrev *G.Node, n int) (*G.Node, error) {
	if err := lstmCheck(gates, n); err != nil {
		return nil, err
	}
	if cPrev == nil {
		return G.ApplyOp(lstmOp{kind: lstmC, n: n}, gates)
	}
	return G.ApplyOp(lstmOp{kind: lstmC, n: n, prev: true}, gates, cPrev)
}

// LSTMOutNode is h = σ(o)⊙tanh(c) for gates (B, 4n) and c (B, n).
func LSTMOutNode(gates, c *G.Node, n int) (*G.Node, error) {
	if err := lstmCheck(gates, n); err != nil {
		return nil, err
	}
	return G.ApplyOp(lstmOp{kind: lstmH, n: n}, gates, c)
}

func lstmCheck(gates *G.Node, n int) error {
	if s := gates.Shape(); len(s) != 2 || s[1] != 4*n {
		return fmt.Errorf("lstm: gates must be (B, %d), got %v", 4*n, s)
	}
	return nil
}

func (op lstmOp) Arity() int {
	switch op.kind {
	case lstmC:
		if op.prev {
			return 2
		}
		return 1
	case lstmCGates:
		if op.prev {
			return 3
		}
		return 2
	case lstmHGates, lstmHC:
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

func (op lstmOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, ok := in[0].(tensor.Shape)
	if !ok || len(s) != 2 || s[1] != 4*op.n {
		return nil, fmt.Errorf("%s: gates must be (B, %d), got %v", op, 4*op.n, in[0])
	}
	if op.kind == lstmCGates || op.kind == lstmHGates {
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
		d[i] = op.kind == lstmC || op.kind == lstmH
	}
	return d
}

func (op lstmOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	n := op.n
	switch op.kind {
	case lstmC:
		args := append(append(G.Nodes{}, inputs...), grad)
		dg, err := G.ApplyOp(lstmOp{kind: lstmCGates, n: n, prev: op.prev}, args...)
		if err != nil || !op.prev {
			return G.Nodes{dg}, err
		}
		dp, err := G.ApplyOp(lstmOp{kind: lstmCPrev, n: n}, inputs[0], grad)
		return G.Nodes{dg, dp}, err
	case lstmH:
		dg, err := G.ApplyOp(lstmOp{kind: lstmHGates, n: n}, inputs[0], inputs[1], grad)
		if err != nil {
			return nil, err
		}
		dc, err := G.ApplyOp(lstmOp{kind: lstmHC, n: n}, inputs[0], inputs[1], grad)
		return G.Nodes{dg, dc}, err
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
		if i == 0 {
			want = 4 * op.n
		}
		if c != want || (i > 0 && r != rows) {
			return nil, fmt.Errorf("%s: input %d is (%d, %d), want (%d, %d)", op, i, r, c, rows, want)
		}
		ins[i], rows = x, r
	}
	n := op.n
	width := n
	if op.kind == lstmCGates || op.kind == lstmHGates {
		width = 4 * n
	}
	out := make([]float32, rows*width)
	for b := range rows {
		g := ins[0][b*4*n : (b+1)*4*n]
		gi, gf, gg, gOut := g[:n], g[n:2*n], g[2*n:3*n], g[3*n:]
		row := func(k int) []float32 { return ins[k][b*n : (b+1)*n] }
		o := out[b*width : (b+1)*width]
		switch op.kind {
		case lstmC:
			for j := range n {
				o[j] = Sigmoid(gi[j]) * Tanh(gg[j])
			}
			if op.prev {
				cp := row(1)
				for j := range n {
					o[j] += Sigmoid(gf[j]) * cp[j]
				}
			}
		case lstmH:
			c := row(1)
			for j := range n {
				o[j] = Sigmoid(gOut[j]) * Tanh(c[j])
			}
		case lstmCGates:
			dc := row(len(ins) - 1)
			for j := range n {
				i, t := Sigmoid(gi[j]), Tanh(gg[j])
				o[j] = dc[j] * t * i * (1 - i)
				o[2*n+j] = dc[j] * i * (1 - t*t)
			}
			if op.prev {
				cp := row(1)
				for j := range n {
					f := Sigmoid(gf[j])
					o[n+j] = dc[j] * cp[j] * f * (1 - f)
				}
			}
		case lstmCPrev:
			dc := row(1)
			for j := range n {
				o[j] = dc[j] * Sigmoid(gf[j])
			}
		case lstmHGates:
			c, dh := row(1), row(2)
			for j := range n {
				s := Sigmoid(gOut[j])
				o[3*n+j] = dh[j] * Tanh(c[j]) * s * (1 - s)
			}
		case lstmHC:
			c, dh := row(1), row(2)
			for j := range n {
				t := Tanh(c[j])
				o[j] = dh[j] * Sigmoid(gOut[j]) * (1 - t*t)
			}
		}
	}
	return tensor.New(tensor.WithShape(rows, width), tensor.WithBacking(out)), nil
}
