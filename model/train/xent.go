package train

import (
	"fmt"
	"hash"
	"hash/fnv"
	"math"

	"attention/model/nn"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// CrossEntropy returns the weighted negative log-likelihood per row,
// w_n (logsumexp(z_n) - z_n[y_n]), as one fused op. Built from LogSoftMax,
// a one-hot product and a sum, the same loss moves about six (N, V)
// tensors per step through memory; fused, its gradient is one:
// w_n g_n (softmax(z_n) - onehot(y_n)).
func CrossEntropy(logits, targets, weights *G.Node) (*G.Node, error) {
	return G.ApplyOp(xentOp{memo: &xentMemo{}}, logits, targets, weights)
}

// xentMemo carries the forward pass's exponentials e^(z - max) and their
// row sums to the gradient, which then needs no exponentials of its own.
// It is valid for the logits array it was computed from (at).
type xentMemo struct {
	at   *float32
	exps []float32
	sums []float64
}

var (
	f32Matrix = G.TensorType{Dims: 2, Of: tensor.Float32}
	f32Vector = G.TensorType{Dims: 1, Of: tensor.Float32}
	intVector = G.TensorType{Dims: 1, Of: tensor.Int}
)

type xentOp struct{ memo *xentMemo }

func (xentOp) Arity() int { return 3 }
func (xentOp) Type() hm.Type {
	return hm.NewFnType(f32Matrix, intVector, f32Vector, f32Vector)
}
func (xentOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, ok := in[0].(tensor.Shape)
	if !ok || len(s) != 2 {
		return nil, fmt.Errorf("cross-entropy: logits must be a matrix, got %v", in[0])
	}
	return tensor.Shape{s[0]}, nil
}
func (xentOp) ReturnsPtr() bool      { return false }
func (xentOp) CallsExtern() bool     { return false }
func (xentOp) OverwritesInput() int  { return -1 }
func (xentOp) WriteHash(h hash.Hash) { fmt.Fprint(h, "xent") }
func (op xentOp) Hashcode() uint32   { return hashOf(op) }
func (xentOp) String() string        { return "CrossEntropy" }

func hashOf(op G.Op) uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}

func xentInputs(vals []G.Value) (z []float32, n, v int, y []int, w []float32, err error) {
	zt, ok := vals[0].(tensor.Tensor)
	if !ok || zt.Dims() != 2 {
		return nil, 0, 0, nil, nil, fmt.Errorf("cross-entropy: logits must be a float32 matrix")
	}
	n, v = zt.Shape()[0], zt.Shape()[1]
	z, ok1 := zt.Data().([]float32)
	y, ok2 := vals[1].Data().([]int)
	w, ok3 := vals[2].Data().([]float32)
	if !ok1 || !ok2 || !ok3 || len(y) != n || len(w) != n {
		return nil, 0, 0, nil, nil, fmt.Errorf("cross-entropy: want float32 logits (N, V), int targets (N), float32 weights (N)")
	}
	return z, n, v, y, w, nil
}

func (op xentOp) Do(vals ...G.Value) (G.Value, error) {
	z, n, v, y, w, err := xentInputs(vals)
	if err != nil {
		return nil, err
	}
	mm := op.memo
	if mm == nil {
		mm = &xentMemo{}
	}
	if len(mm.exps) != n*v {
		mm.exps, mm.sums = make([]float32, n*v), make([]float64, n)
	}
	mm.at = &z[0]
	out := make([]float32, n)
	for i := 0; i < n; i++ {
		mm.sums[i] = 0
		if w[i] == 0 {
			continue
		}
		row, e := z[i*v:(i+1)*v], mm.exps[i*v:(i+1)*v]
		m := nn.Max(row)
		copy(e, row)
		sum := nn.ExpShift(e, m)
		mm.sums[i] = sum
		out[i] = w[i] * float32(float64(m)+math.Log(sum)-float64(row[y[i]]))
	}
	return tensor.New(tensor.WithShape(n), tensor.WithBacking(out)), nil
}

func (op xentOp) DiffWRT(inputs int) []bool { return []bool{true, false, false} }

func (op xentOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	g, err := G.ApplyOp(xentGradOp(op), inputs[0], inputs[1], inputs[2], grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{g, nil, nil}, nil
}

// xentGradOp is d(loss)/d(logits) given the gradient of the per-row loss.
type xentGradOp struct{ memo *xentMemo }

func (xentGradOp) Arity() int { return 4 }
func (xentGradOp) Type() hm.Type {
	return hm.NewFnType(f32Matrix, intVector, f32Vector, f32Vector, f32Matrix)
}
func (xentGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, ok := in[0].(tensor.Shape)
	if !ok {
		return nil, fmt.Errorf("cross-entropy gradient: bad logits shape")
	}
	return s.Clone(), nil
}
func (xentGradOp) ReturnsPtr() bool      { return false }
func (xentGradOp) CallsExtern() bool     { return false }
func (xentGradOp) OverwritesInput() int  { return -1 }
func (xentGradOp) WriteHash(h hash.Hash) { fmt.Fprint(h, "xent-grad") }
func (op xentGradOp) Hashcode() uint32   { return hashOf(op) }
func (xentGradOp) String() string        { return "CrossEntropyGrad" }

func (op xentGradOp) Do(vals ...G.Value) (G.Value, error) {
	z, n, v, y, w, err := xentInputs(vals[:3])
	if err != nil {
		return nil, err
	}
	gOut, ok := vals[3].Data().([]float32)
	if !ok || len(gOut) != n {
		return nil, fmt.Errorf("cross-entropy gradient: want a float32 (N) upstream gradient")
	}
	memo := op.memo != nil && op.memo.at == &z[0] && len(op.memo.exps) == n*v
	d := make([]float32, n*v)
	for i := 0; i < n; i++ {
		scale := w[i] * gOut[i]
		if scale == 0 {
			continue
		}
		row, drow := z[i*v:(i+1)*v], d[i*v:(i+1)*v]
		// softmax(row) = e^(z - max) / Σ, from the forward pass when it ran
		// on these logits. Words far below the best (share under e^-60)
		// get exactly zero: their share would be a subnormal float32, and
		// the matrix products downstream run many times slower on
		// subnormals (training slowed 2-3x as the output distributions
		// sharpened).
		var sum float64
		if memo {
			copy(drow, op.memo.exps[i*v:(i+1)*v])
			sum = op.memo.sums[i]
		}
		if sum == 0 {
			copy(drow, row)
			sum = nn.ExpShift(drow, nn.Max(row))
		}
		k := scale / float32(sum)
		cut := float32(math.Exp(-60) * sum)
		for j, e := range drow {
			if e < cut {
				drow[j] = 0
			} else {
				drow[j] = k * e
			}
		}
		drow[y[i]] -= scale
	}
	return tensor.New(tensor.WithShape(n, v), tensor.WithBacking(d)), nil
}
