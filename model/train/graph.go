// Package train trains the models: the gorgonia graphs of both models
// (unrolled per batch shape, with fused custom operators for attention, the
// LSTM cell and softmax cross-entropy), the loop that runs epochs, keeps
// the best model by dev score and resumes, and each model's training set-up.
// Only training imports it: the serving path (model/caption,
// model/translate on model/nn's kernels) never links gorgonia.
package train

import (
	"fmt"
	"runtime"
	"slices"

	"attention/model/nn"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Graph wraps a gorgonia graph with helpers for the layers both models
// use. Helpers panic on a graph error; Build turns that into an error, so
// model code reads like the equations instead of a pyramid of checks.
type Graph struct {
	G     *G.ExprGraph
	reads G.Nodes // the values read out after a run (Read)
}

type graphError struct{ err error }

// Build runs f on a new graph, returning the first graph error.
func Build(name string, f func(g *Graph)) (g *Graph, err error) {
	g = &Graph{G: G.NewGraph()}
	defer func() {
		if r := recover(); r != nil {
			if ge, ok := r.(graphError); ok {
				err = fmt.Errorf("%s: %w", name, ge.err)
				return
			}
			err = fmt.Errorf("%s: %v", name, r) // gorgonia panics on some shape errors
		}
	}()
	f(g)
	return g, nil
}

// Must unwraps a node, aborting Build on error.
func (g *Graph) Must(n *G.Node, err error) *G.Node {
	if err != nil {
		panic(graphError{err})
	}
	return n
}

// F32 is a float32 input tensor of the given shape.
func F32(shape ...int) *tensor.Dense {
	return tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(shape...))
}

// Ints is an int input vector of length n.
func Ints(n int) *tensor.Dense {
	return tensor.New(tensor.WithShape(n), tensor.WithBacking(make([]int, n)))
}

// Param makes a node over q's data (no copy) with the given shape, which
// must hold the same number of values (e.g. a bias (n) as (1, n)).
func (g *Graph) Param(q *nn.Param, shape ...int) *G.Node {
	if len(shape) == 0 {
		shape = q.Shape
	}
	val := tensor.New(tensor.WithShape(shape...), tensor.WithBacking(q.Data))
	return G.NewMatrix(g.G, tensor.Float32, G.WithShape(shape...), G.WithName(q.Name), G.WithValue(val))
}

// Input makes a node over an input tensor that the caller refills per batch.
func (g *Graph) Input(name string, v *tensor.Dense) *G.Node {
	switch {
	case v.Dtype() == tensor.Int:
		return G.NewVector(g.G, tensor.Int, G.WithShape(v.Shape()...), G.WithName(name), G.WithValue(v))
	case v.Dims() == 1:
		return G.NewVector(g.G, tensor.Float32, G.WithShape(v.Shape()...), G.WithName(name), G.WithValue(v))
	case v.Dims() == 2:
		return G.NewMatrix(g.G, tensor.Float32, G.WithShape(v.Shape()...), G.WithName(name), G.WithValue(v))
	}
	return G.NewTensor(g.G, tensor.Float32, v.Dims(), G.WithShape(v.Shape()...), G.WithName(name), G.WithValue(v))
}

func (g *Graph) Mul(a, b *G.Node) *G.Node            { return g.Must(G.Mul(a, b)) }
func (g *Graph) Add(a, b *G.Node) *G.Node            { return g.Must(G.Add(a, b)) }
func (g *Graph) Sub(a, b *G.Node) *G.Node            { return g.Must(G.Sub(a, b)) }
func (g *Graph) Had(a, b *G.Node) *G.Node            { return g.Must(G.HadamardProd(a, b)) }
func (g *Graph) Tanh(a *G.Node) *G.Node              { return g.Must(G.Tanh(a)) }
func (g *Graph) Sigmoid(a *G.Node) *G.Node           { return g.Must(G.Sigmoid(a)) }
func (g *Graph) Sum(a *G.Node, along ...int) *G.Node { return g.Must(G.Sum(a, along...)) }

// Bias adds a (1, n) row to every row of x (N, n).
func (g *Graph) Bias(x, b *G.Node) *G.Node { return g.Must(Bias(x, b)) }

// Rows is rows [t*n, (t+1)*n) of x: step t of a time-major matrix.
func (g *Graph) Rows(x *G.Node, t, n int) *G.Node { return g.Must(Block(x, 0, t*n, n)) }

// StepProj returns x_t·w + b for each of the steps row blocks x_t (n
// rows each, time-major) of x: one matrix product for all steps, whose
// row blocks the steps read through SharedRows. (Read through gorgonia's
// row blocks, the gradient of each block would be a matrix of the whole
// product's size, summed one per step: O(steps²) in the backward pass.)
func (g *Graph) StepProj(x, w, b *G.Node, steps, n int) []*G.Node {
	p := g.ShareRows(g.Bias(g.Mul(x, w), b)) // (steps*n, out)
	out := make([]*G.Node, steps)
	for t := range out {
		out[t] = p.Rows(g, t*n, n)
	}
	return out
}

// Cols is columns [i*n, (i+1)*n) of x.
func (g *Graph) Cols(x *G.Node, i, n int) *G.Node { return g.Must(Block(x, 1, i*n, n)) }

// Reshape views x with a new shape.
func (g *Graph) Reshape(x *G.Node, s ...int) *G.Node { return g.Must(G.Reshape(x, s)) }

// LSTM applies one step: gates (B, 4n) in the order input, forget, cell,
// output; c = f⊙c + i⊙g; h = o⊙tanh(c). cPrev may be nil (zero state).
// The cell is three fused ops (LSTMActs, LSTMCellNode, LSTMOutNode).
func (g *Graph) LSTM(gates, cPrev *G.Node, n int) (h, c *G.Node) {
	a := g.Must(LSTMActs(gates, n))
	c = g.Must(LSTMCellNode(a, cPrev, n))
	return g.Must(LSTMOutNode(a, c, n)), c
}

// Weighted is Σ_i w_bi x_bi: w (B, S), x3 (B, S, D) -> (B, D).
func (g *Graph) Weighted(w, x3 *G.Node) *G.Node { return g.Must(WeightedSum(w, x3)) }

// Additive is Bahdanau attention: scores e_bi = v·tanh(W h_b + ux_bi) plus
// maskBias (0, or a large negative number on padding), softmax over i.
// h (B, K), w (K, A), ux3 (B, S, A) = U x + b precomputed, v (A, 1),
// maskBias (B, S) or nil. Returns the weights a (B, S).
func (g *Graph) Additive(h, w, ux3, v, maskBias *G.Node) *G.Node {
	return g.Must(Attend(g.Mul(h, w), ux3, v, maskBias))
}

// Read has the value of n copied into *into at every run.
func (g *Graph) Read(n *G.Node, into *G.Value) { g.reads = append(g.reads, G.Read(n, into)) }

// Machine compiles g into a tape machine. Given the nodes to keep (the
// gradients), it compiles only the part of g that they and the values read
// (Read) need: symbolic differentiation also makes the gradients of inputs
// (the region features, the dropout masks), which nothing uses; with none,
// all of g. The machine is one that the garbage collector can free:
// gorgonia sets a finalizer on every tape machine (it only matters for
// CUDA); a finalizer on an object inside a reference cycle keeps the whole
// cycle alive, so each rebuilt graph, with every value it held, would leak.
func (g *Graph) Machine(keep ...*G.Node) G.VM {
	eg := g.G
	if len(keep) > 0 {
		eg = eg.SubgraphRoots(append(slices.Clone(g.reads), keep...)...)
	}
	vm := G.NewTapeMachine(eg)
	runtime.SetFinalizer(vm, nil)
	return vm
}
