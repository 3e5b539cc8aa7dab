package train

import (
	"fmt"
	"hash"

	"attention/model/nn"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// biasOp adds a bias row b (1, N) to every row of x (M, N). gorgonia's
// BroadcastAdd first repeats b into an (M, N) matrix (8.4 MB for the
// caption model's output layer over a batch) and then adds two matrices;
// this adds b row by row. Its gradients: dy itself for x, and dy's column
// sums for b.
type biasOp struct{ grad bool } // grad: dy -> column sums

// Bias is x + b with b (1, N) added to each row of x (M, N).
func Bias(x, b *G.Node) (*G.Node, error) {
	xs, bs := x.Shape(), b.Shape()
	if xs.Dims() != 2 || bs.Dims() != 2 || bs[0] != 1 || bs[1] != xs[1] {
		return nil, fmt.Errorf("bias: a bias of %v for rows of %v", bs, xs)
	}
	return G.ApplyOp(biasOp{}, x, b)
}

func (op biasOp) Arity() int {
	if op.grad {
		return 1
	}
	return 2
}

func (op biasOp) Type() hm.Type {
	if op.grad {
		return hm.NewFnType(f32Matrix, f32Matrix)
	}
	return hm.NewFnType(f32Matrix, f32Matrix, f32Matrix)
}

func (op biasOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, ok := in[0].(tensor.Shape)
	if !ok || len(s) != 2 {
		return nil, fmt.Errorf("%s: want a matrix, got %v", op, in[0])
	}
	if op.grad {
		return tensor.Shape{1, s[1]}, nil
	}
	return s.Clone(), nil
}

func (op biasOp) ReturnsPtr() bool      { return false }
func (op biasOp) CallsExtern() bool     { return false }
func (op biasOp) OverwritesInput() int  { return -1 }
func (op biasOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "bias%v", op.grad) }
func (op biasOp) Hashcode() uint32      { return hashOf(op) }
func (op biasOp) String() string {
	if op.grad {
		return "BiasGrad"
	}
	return "Bias"
}

func (op biasOp) DiffWRT(inputs int) []bool {
	d := make([]bool, inputs)
	for i := range d {
		d[i] = !op.grad
	}
	return d
}

func (op biasOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if op.grad {
		return nil, fmt.Errorf("%s: no second derivative", op)
	}
	db, err := G.ApplyOp(biasOp{grad: true}, grad)
	return G.Nodes{grad, db}, err
}

func (op biasOp) Do(vals ...G.Value) (G.Value, error) {
	if len(vals) != op.Arity() {
		return nil, fmt.Errorf("%s: %d inputs, want %d", op, len(vals), op.Arity())
	}
	x, m, n, err := matrix(vals[0])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if op.grad {
		db := make([]float32, n)
		for i := range m {
			nn.Axpy(1, x[i*n:(i+1)*n], db)
		}
		return tensor.New(tensor.WithShape(1, n), tensor.WithBacking(db)), nil
	}
	b, _, bn, err := matrix(vals[1])
	if err != nil || bn != n || len(b) != n {
		return nil, fmt.Errorf("%s: a bias of %d for rows of %d", op, len(b), n)
	}
	y := make([]float32, m*n)
	copy(y, x)
	for i := range m {
		nn.Axpy(1, b, y[i*n:(i+1)*n])
	}
	return tensor.New(tensor.WithShape(m, n), tensor.WithBacking(y)), nil
}
