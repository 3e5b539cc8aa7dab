package train

import (
	"math"
	"math/rand/v2"
	"testing"

	"attention/model/nn"

	G "gorgonia.org/gorgonia"
)

// The fused cell computes the same h, c and gradients as the cell written
// with gorgonia's own element-wise ops, over two steps (so the gradient
// flows through c_prev) and from a zero state.
func TestLSTMFused(t *testing.T) {
	const B, n = 3, 5
	rng := rand.New(rand.NewPCG(4, 5))
	fill := func(q *nn.Param, scale float64) *nn.Param {
		for i := range q.Data {
			q.Data[i] = float32(rng.NormFloat64() * scale)
		}
		return q
	}
	g1, g2 := fill(nn.NewParam("g1", B, 4*n), 2), fill(nn.NewParam("g2", B, 4*n), 2)
	wh, wc := fill(nn.NewParam("wh", B, n), 1), fill(nn.NewParam("wc", B, n), 1)

	run := func(fused bool) (loss float32, grads [2][]float32) {
		var lossVal G.Value
		var gs [2]*G.Node
		gr, err := Build("lstm", func(g *Graph) {
			a, b := g.Param(g1), g.Param(g2)
			gs = [2]*G.Node{a, b}
			cell := func(gates, cPrev *G.Node) (h, c *G.Node) {
				if fused {
					return g.LSTM(gates, cPrev, n)
				}
				i := g.Sigmoid(g.Cols(gates, 0, n))
				f := g.Sigmoid(g.Cols(gates, 1, n))
				gg := g.Tanh(g.Cols(gates, 2, n))
				o := g.Sigmoid(g.Cols(gates, 3, n))
				c = g.Had(i, gg)
				if cPrev != nil {
					c = g.Add(g.Had(f, cPrev), c)
				}
				return g.Had(o, g.Tanh(c)), c
			}
			_, c1 := cell(a, nil)
			h2, c2 := cell(b, c1)
			l := g.Add(g.Sum(g.Had(h2, g.Param(wh))), g.Sum(g.Had(c2, g.Param(wc))))
			G.Read(l, &lossVal)
			if _, err := G.Grad(l, a, b); err != nil {
				t.Fatal(err)
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		vm := gr.Machine()
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		for k, node := range gs {
			gv, err := node.Grad()
			if err != nil {
				t.Fatal(err)
			}
			grads[k] = append([]float32(nil), gv.Data().([]float32)...)
		}
		return lossVal.Data().(float32), grads
	}
	lf, gf := run(true)
	lr, gr := run(false)
	if math.Abs(float64(lf-lr)) > 1e-5 {
		t.Fatalf("loss: fused %v, element-wise %v", lf, lr)
	}
	for k := range gf {
		for i := range gf[k] {
			if d := math.Abs(float64(gf[k][i] - gr[k][i])); d > 1e-5 {
				t.Fatalf("gates %d gradient [%d]: fused %v, element-wise %v", k+1, i, gf[k][i], gr[k][i])
			}
		}
	}
}
