package train

import (
	"math"
	"math/rand/v2"
	"testing"

	"attention/model/nn"

	G "gorgonia.org/gorgonia"
)

// filler returns a function that fills a parameter with normal values of
// the given scale.
func filler(rng *rand.Rand) func(q *nn.Param, scale float64) *nn.Param {
	return func(q *nn.Param, scale float64) *nn.Param {
		for i := range q.Data {
			q.Data[i] = float32(rng.NormFloat64() * scale)
		}
		return q
	}
}

// attentionParams are a query h (B, K), W (K, A), U x (B*S, A), v (A, 1)
// and the values x (B*S, D).
func attentionParams(fill func(*nn.Param, float64) *nn.Param, B, S, K, A, D int) (h, w, ux, v, x *nn.Param) {
	return fill(nn.NewParam("h", B, K), 1), fill(nn.NewParam("w", K, A), 0.5), fill(nn.NewParam("ux", B*S, A), 1),
		fill(nn.NewParam("v", A, 1), 1), fill(nn.NewParam("x", B*S, D), 1)
}

// paddingMask is an additive attention mask (B, S) in which row 0's last
// position and row 1's last two are padding.
func paddingMask(B, S int) *nn.Param {
	mask := nn.NewParam("mask", B, S)
	mask.Data[S-1] = -1e9
	mask.Data[2*S-2], mask.Data[2*S-1] = -1e9, -1e9
	return mask
}

// Fused attention and weighted sum compute the same loss and gradients as
// the same layers written with gorgonia's broadcasting ops, with and
// without a mask, and again after the inputs change between two runs of
// one graph.
func TestAttentionFused(t *testing.T) {
	const B, S, K, A, D = 3, 4, 5, 6, 7
	rng := rand.New(rand.NewPCG(8, 9))
	fill := filler(rng)
	h, w, ux, v, x := attentionParams(fill, B, S, K, A, D)
	wy := fill(nn.NewParam("wy", B, D), 1)
	mask := paddingMask(B, S)
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

// Steps reading Shared arrays, weights and rows (a weighted mean, then
// attention and a context at each of three steps, each step's query made
// from the last context through a SharedWeight plus the step's rows of a
// product; the last query is used by no step, so its product's slot takes
// no part in the loss) give the loss
// and gradients of the same steps reading ordinary nodes, with and without
// a mask, and again after the inputs change between two runs of one graph.
func TestSharedMatchesPerStep(t *testing.T) {
	const B, S, K, A, D, T = 3, 4, 5, 6, 7, 3
	rng := rand.New(rand.NewPCG(10, 11))
	fill := filler(rng)
	h, w, ux, v, x := attentionParams(fill, B, S, K, A, D)
	wc := fill(nn.NewParam("wc", D, K), 0.5)
	wy := fill(nn.NewParam("wy", B, D), 1)
	meanW := fill(nn.NewParam("mean_w", B, S), 1)
	xp, wp := fill(nn.NewParam("xp", T*B, 2), 1), fill(nn.NewParam("wp", 2, K), 0.5)
	mask := paddingMask(B, S)
	params := []*nn.Param{h, w, ux, v, x, wc, xp, wp}

	build := func(shared, masked bool) func() (float32, [][]float32) {
		var lossVal G.Value
		var nodes []*G.Node
		gr, err := Build("shared", func(g *Graph) {
			for _, q := range params {
				nodes = append(nodes, g.Param(q))
			}
			hn, wn, uxn, vn, xn, wcn := nodes[0], nodes[1], nodes[2], nodes[3], nodes[4], nodes[5]
			proj := g.Mul(nodes[6], nodes[7]) // an input for each step, (T*B, K)
			ux3, x3 := g.Reshape(uxn, B, S, A), g.Reshape(xn, B, S, D)
			var mb *G.Node
			if masked {
				mb = g.Param(mask)
			}
			mw, wyn := g.Param(meanW), g.Param(wy)
			var sx, sux *Shared
			var sw, swc *SharedWeight
			var sp *SharedRows
			var l *G.Node
			if shared {
				sx, sux, sw, swc, sp = g.Share(x3), g.Share(ux3), g.ShareWeight(wn), g.ShareWeight(wcn), g.ShareRows(proj)
				l = g.Sum(g.Had(g.WeightedShared(mw, sx), wyn))
			} else {
				l = g.Sum(g.Had(g.Weighted(mw, x3), wyn))
			}
			q := hn
			for t := range T {
				var ctx *G.Node
				if shared {
					ctx = g.WeightedShared(g.AdditiveShared(g.Add(q, sp.Rows(g, t*B, B)), sw, sux, vn, mb), sx)
					q = g.Tanh(g.MulShared(ctx, swc))
				} else {
					ctx = g.Weighted(g.Additive(g.Add(q, g.Rows(proj, t, B)), wn, ux3, vn, mb), x3)
					q = g.Tanh(g.Mul(ctx, wcn))
				}
				l = g.Add(l, g.Sum(g.Had(ctx, wyn)))
			}
			G.Read(l, &lossVal)
			if _, err := G.Grad(l, nodes...); err != nil {
				t.Fatal(err)
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		vm := gr.Machine()
		return func() (float32, [][]float32) {
			defer vm.Reset()
			if err := vm.RunAll(); err != nil {
				t.Fatal(err)
			}
			var grads [][]float32
			for _, n := range nodes {
				gv, err := n.Grad()
				if err != nil {
					t.Fatal(err)
				}
				grads = append(grads, append([]float32(nil), gv.Data().([]float32)...))
			}
			return lossVal.Data().(float32), grads
		}
	}
	compare := func(what string, shared, perStep func() (float32, [][]float32)) {
		t.Helper()
		gl, got := shared()
		wl, want := perStep()
		if math.Abs(float64(gl-wl)) > 1e-4 {
			t.Fatalf("%s: loss shared %v, per step %v", what, gl, wl)
		}
		for k := range want {
			var norm float64
			for _, g := range want[k] {
				norm = max(norm, math.Abs(float64(g)))
			}
			if norm == 0 {
				t.Fatalf("%s: d %s is all zero: the check would pass whatever the shared form computed", what, params[k].Name)
			}
			for i := range want[k] {
				if d := math.Abs(float64(got[k][i] - want[k][i])); d > 1e-5*max(1, norm) {
					t.Fatalf("%s: d %s[%d]: shared %v, per step %v", what, params[k].Name, i, got[k][i], want[k][i])
				}
			}
		}
	}
	for _, masked := range []bool{false, true} {
		shared, perStep := build(true, masked), build(false, masked)
		compare("first run", shared, perStep)
		fill(h, 1)
		fill(x, 1)
		fill(xp, 1)
		compare("second run", shared, perStep)
	}
}
