package train

import (
	"math"
	"math/rand/v2"
	"testing"

	"attention/model/nn"

	G "gorgonia.org/gorgonia"
)

// Fused attention and weighted sum compute the same loss and gradients as
// the same layers written with gorgonia's broadcasting ops, with and
// without a mask, and again after the inputs change between two runs of
// one graph.
func TestAttentionFused(t *testing.T) {
	const B, S, K, A, D = 3, 4, 5, 6, 7
	rng := rand.New(rand.NewPCG(8, 9))
	fill := func(q *nn.Param, scale float64) *nn.Param {
		for i := range q.Data {
			q.Data[i] = float32(rng.NormFloat64() * scale)
		}
		return q
	}
	h, w := fill(nn.NewParam("h", B, K), 1), fill(nn.NewParam("w", K, A), 0.5)
	ux, v := fill(nn.NewParam("ux", B*S, A), 1), fill(nn.NewParam("v", A, 1), 1)
	x := fill(nn.NewParam("x", B*S, D), 1)
	wy := fill(nn.NewParam("wy", B, D), 1)
	mask := nn.NewParam("mask", B, S)
	mask.Data[S-1] = -1e9 // row 0's last position is padding
	mask.Data[2*S-2], mask.Data[2*S-1] = -1e9, -1e9
	params := []*nn.Param{h, w, ux, v, x}

	type result struct {
		loss  float32
		grads [][]float32
	}
	build := func(fused, masked bool) (func() result, error) {
		var lossVal G.Value
		var nodes []*G.Node
		gr, err := Build("attention", func(g *Graph) {
			for _, q := range params {
				nodes = append(nodes, g.Param(q))
			}
			hn, wn, uxn, vn, xn := nodes[0], nodes[1], nodes[2], nodes[3], nodes[4]
			ux3, x3 := g.Reshape(uxn, B, S, A), g.Reshape(xn, B, S, D)
			var mb *G.Node
			if masked {
				mb = g.Param(mask)
			}
			var ctx *G.Node
			if fused {
				ctx = g.Weighted(g.Additive(hn, wn, ux3, vn, mb), x3)
			} else {
				wh := g.Reshape(g.Mul(hn, wn), B, 1, A)
				tt := g.Tanh(g.Must(G.BroadcastAdd(ux3, wh, nil, []byte{1})))
				e := g.Reshape(g.Mul(g.Reshape(tt, B*S, A), vn), B, S)
				if mb != nil {
					e = g.Add(e, mb)
				}
				a := g.Must(G.SoftMax(e))
				prod := g.Must(G.BroadcastHadamardProd(g.Reshape(a, B, S, 1), x3, []byte{2}, nil))
				ctx = g.Sum(prod, 1)
			}
			l := g.Sum(g.Had(ctx, g.Param(wy)))
			G.Read(l, &lossVal)
			if _, err := G.Grad(l, nodes...); err != nil {
				t.Fatal(err)
			}
		})
		if err != nil {
			return nil, err
		}
		vm := gr.Machine()
		return func() result {
			defer vm.Reset()
			if err := vm.RunAll(); err != nil {
				t.Fatal(err)
			}
			r := result{loss: lossVal.Data().(float32)}
			for _, n := range nodes {
				gv, err := n.Grad()
				if err != nil {
					t.Fatal(err)
				}
				r.grads = append(r.grads, append([]float32(nil), gv.Data().([]float32)...))
			}
			return r
		}, nil
	}
	compare := func(what string, got, want result) {
		t.Helper()
		if math.Abs(float64(got.loss-want.loss)) > 1e-4 {
			t.Fatalf("%s: loss fused %v, composed %v", what, got.loss, want.loss)
		}
		for k := range want.grads {
			for i := range want.grads[k] {
				if d := math.Abs(float64(got.grads[k][i] - want.grads[k][i])); d > 1e-4 {
					t.Fatalf("%s: d %s[%d]: fused %v, composed %v", what, params[k].Name, i, got.grads[k][i], want.grads[k][i])
				}
			}
		}
	}
	for _, masked := range []bool{false, true} {
		fused, err := build(true, masked)
		if err != nil {
			t.Fatal(err)
		}
		composed, err := build(false, masked)
		if err != nil {
			t.Fatal(err)
		}
		compare("first run", fused(), composed())
		fill(h, 1)
		fill(ux, 1)
		compare("second run", fused(), composed())
	}
}
