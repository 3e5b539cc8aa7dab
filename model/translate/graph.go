package translate

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// graph is the training graph for one batch shape (B, S, T), unrolled over
// time. Its parameter nodes share their backing arrays with Params, so an
// optimiser step on Params is seen by every graph.
type graph struct {
	B, S, T int
	g       *G.ExprGraph
	vm      G.VM
	params  []*G.Node
	grads   G.Nodes

	// Inputs, refilled for every batch. Time-major rows are t*B + b.
	srcIdx   *tensor.Dense // (S*B) int, time-major
	tgtInIdx *tensor.Dense // (T*B) int, time-major: <s> y_1 ... y_{T-1}
	tgtOut   *tensor.Dense // (T*B) int: the word to predict at each position
	lossW    *tensor.Dense // (T*B) 1/ntokens at real target words, 0 on padding
	maskBias *tensor.Dense // (B, S) 0 on words, -1e9 on padding
	meanW    *tensor.Dense // (B, S) 1/len on words, 0 on padding
	bwdMask  *tensor.Dense // (S*B, H) 1 on words, 0 on padding, time-major
	dropSrc  *tensor.Dense // (S*B, E) inverted-dropout mask
	dropTgt  *tensor.Dense // (T*B, E)
	dropPre  *tensor.Dense // (T*B, O)

	loss    *G.Node
	lossVal G.Value
}

func f32(shape ...int) *tensor.Dense {
	return tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(shape...))
}

func ints(n int) *tensor.Dense {
	return tensor.New(tensor.WithShape(n), tensor.WithBacking(make([]int, n)))
}

// buildGraph unrolls the model for batch b, source length s, target length t.
func buildGraph(c Config, p *Params, B, S, T int) (gr *graph, err error) {
	defer func() {
		// gorgonia reports some shape errors by panicking; turn them into errors.
		if r := recover(); r != nil {
			err = fmt.Errorf("translate: building graph B%d S%d T%d: %v", B, S, T, r)
		}
	}()
	E, H, D, K, A, O := c.Emb, c.EncHidden, c.D(), c.DecHidden, c.Att, c.PreOut
	g := G.NewGraph()
	gr = &graph{B: B, S: S, T: T, g: g,
		srcIdx: ints(S * B), tgtInIdx: ints(T * B), tgtOut: ints(T * B), lossW: f32(T * B),
		maskBias: f32(B, S), meanW: f32(B, S), bwdMask: f32(S*B, H),
		dropSrc: f32(S*B, E), dropTgt: f32(T*B, E), dropPre: f32(T*B, O)}

	node := map[*Param]*G.Node{}
	for _, q := range p.List() {
		shape := q.Shape
		if len(shape) == 1 {
			shape = []int{1, shape[0]} // biases as row vectors, broadcast over rows
		}
		if q == p.AttV {
			shape = []int{q.Shape[0], 1} // v as a column, so e = tanh(...)·v
		}
		val := tensor.New(tensor.WithShape(shape...), tensor.WithBacking(q.Data))
		n := G.NewMatrix(g, tensor.Float32, G.WithShape(shape...), G.WithName(q.Name), G.WithValue(val))
		node[q] = n
		gr.params = append(gr.params, n)
	}
	input := func(name string, v *tensor.Dense) *G.Node {
		var n *G.Node
		if v.Dtype() == tensor.Int {
			n = G.NewVector(g, tensor.Int, G.WithShape(v.Shape()...), G.WithName(name), G.WithValue(v))
		} else if v.Dims() == 1 {
			n = G.NewVector(g, tensor.Float32, G.WithShape(v.Shape()...), G.WithName(name), G.WithValue(v))
		} else {
			n = G.NewMatrix(g, tensor.Float32, G.WithShape(v.Shape()...), G.WithName(name), G.WithValue(v))
		}
		return n
	}
	srcIdx, tgtInIdx, tgtOut := input("src_idx", gr.srcIdx), input("tgt_in_idx", gr.tgtInIdx), input("tgt_out", gr.tgtOut)
	maskBias, meanW, bwdMask, lossW := input("mask_bias", gr.maskBias), input("mean_w", gr.meanW), input("bwd_mask", gr.bwdMask), input("loss_w", gr.lossW)
	dropSrc, dropTgt, dropPre := input("drop_src", gr.dropSrc), input("drop_tgt", gr.dropTgt), input("drop_pre", gr.dropPre)

	must := func(n *G.Node, e error) *G.Node {
		if e != nil {
			panic(e)
		}
		return n
	}
	mul := func(a, b *G.Node) *G.Node { return must(G.Mul(a, b)) }
	add := func(a, b *G.Node) *G.Node { return must(G.Add(a, b)) }
	had := func(a, b *G.Node) *G.Node { return must(G.HadamardProd(a, b)) }
	bias := func(x, b *G.Node) *G.Node { return must(G.BroadcastAdd(x, b, nil, []byte{0})) }
	rows := func(x *G.Node, t, n int) *G.Node { return must(G.Slice(x, G.S(t*n, (t+1)*n))) }
	cols := func(x *G.Node, i, n int) *G.Node { return must(G.Slice(x, nil, G.S(i*n, (i+1)*n))) }
	reshape := func(x *G.Node, s ...int) *G.Node { return must(G.Reshape(x, s)) }

	// lstm: c = f⊙c + i⊙g; h = o⊙tanh(c). gates (B, 4n); c may be nil (zero).
	lstm := func(gates, cPrev *G.Node, n int) (h, c *G.Node) {
		i := must(G.Sigmoid(cols(gates, 0, n)))
		f := must(G.Sigmoid(cols(gates, 1, n)))
		gg := must(G.Tanh(cols(gates, 2, n)))
		o := must(G.Sigmoid(cols(gates, 3, n)))
		c = had(i, gg)
		if cPrev != nil {
			c = add(had(f, cPrev), c)
		}
		return had(o, must(G.Tanh(c))), c
	}

	// Encoder. Input projections for all steps in one matmul each.
	embS := had(must(G.ByIndices(node[p.SrcEmb], srcIdx, 0)), dropSrc) // (S*B, E)
	xwF := bias(mul(embS, node[p.FwdWx]), node[p.FwdB])                // (S*B, 4H)
	xwB := bias(mul(embS, node[p.BwdWx]), node[p.BwdB])                // (S*B, 4H)
	hf := make([]*G.Node, S)
	var h, cell *G.Node
	for t := 0; t < S; t++ {
		gates := rows(xwF, t, B) // x_t·Wx + b  (B, 4H)
		if h != nil {
			gates = add(gates, mul(h, node[p.FwdWh])) // + h_{t-1}·Wh
		}
		h, cell = lstm(gates, cell, H) // (B, H)
		hf[t] = h
	}
	// The backward direction starts on padding; the mask keeps its state at
	// zero until the sentence's last word.
	hb := make([]*G.Node, S)
	h, cell = nil, nil
	for t := S - 1; t >= 0; t-- {
		gates := rows(xwB, t, B)
		if h != nil {
			gates = add(gates, mul(h, node[p.BwdWh]))
		}
		hNew, cNew := lstm(gates, cell, H)
		m := rows(bwdMask, t, B) // (B, H)
		if h == nil {
			h, cell = had(m, hNew), had(m, cNew)
		} else {
			h = add(h, had(m, must(G.Sub(hNew, h)))) // h = h + m⊙(h_new - h)
			cell = add(cell, had(m, must(G.Sub(cNew, cell))))
		}
		hb[t] = h
	}
	xs := make([]*G.Node, S)
	for t := range xs {
		xs[t] = must(G.Concat(1, hf[t], hb[t])) // x_t = [fwd; bwd]  (B, D)
	}
	x3 := reshape(must(G.Concat(1, xs...)), B, S, D) // (B, S, D) batch-major
	x2 := reshape(x3, B*S, D)                        // (B*S, D)

	// weighted sums Σ_i w_bi x_bi, for the context and the mean.
	weighted := func(w *G.Node) *G.Node { // w (B, S) -> (B, D)
		prod := must(G.BroadcastHadamardProd(reshape(w, B, S, 1), x3, []byte{2}, nil)) // (B, S, D)
		return must(G.Sum(prod, 1))
	}
	mean := weighted(meanW)                                              // (B, D)
	h = must(G.Tanh(bias(mul(mean, node[p.InitW]), node[p.InitB])))      // h_0  (B, K)
	ux3 := reshape(bias(mul(x2, node[p.AttU]), node[p.AttB]), B, S, A)   // U x_i + b_a  (B, S, A)
	embT := had(must(G.ByIndices(node[p.TgtEmb], tgtInIdx, 0)), dropTgt) // emb(y_{t-1})  (T*B, E)
	yw := bias(mul(embT, node[p.DecWy]), node[p.DecB])                   // (T*B, 4K)
	cell = nil
	hs, cs := make([]*G.Node, T), make([]*G.Node, T)
	for t := 0; t < T; t++ {
		ctx := mean
		if c.Attention {
			wh := reshape(mul(h, node[p.AttW]), B, 1, A)                     // W h_{t-1}  (B, 1, A)
			s := must(G.Tanh(must(G.BroadcastAdd(ux3, wh, nil, []byte{1})))) // (B, S, A)
			e := reshape(mul(reshape(s, B*S, A), node[p.AttV]), B, S)        // e_ti = v·tanh(...)  (B, S)
			a := must(G.SoftMax(add(e, maskBias)))                           // a_t  (B, S)
			ctx = weighted(a)                                                // c_t  (B, D)
		}
		gates := add(add(rows(yw, t, B), mul(ctx, node[p.DecWc])), mul(h, node[p.DecWh])) // (B, 4K)
		h, cell = lstm(gates, cell, K)
		hs[t], cs[t] = h, ctx
	}
	hAll := must(G.Concat(0, hs...)) // (T*B, K)
	cAll := must(G.Concat(0, cs...)) // (T*B, D)
	pre := add(add(mul(hAll, node[p.PreWh]), mul(cAll, node[p.PreWc])), mul(embT, node[p.PreWy]))
	pre = had(must(G.Tanh(bias(pre, node[p.PreB]))), dropPre) // (T*B, O)
	logits := bias(mul(pre, node[p.OutW]), node[p.OutB])      // (T*B, V)
	nll := must(crossEntropy(logits, tgtOut, lossW))          // w_t (-log p(y_t))  (T*B)
	gr.loss = must(G.Sum(nll))                                // mean NLL per token
	G.Read(gr.loss, &gr.lossVal)

	wrt := gr.params
	if !c.Attention {
		wrt = nil
		for i, q := range p.List() {
			if q != p.AttW && q != p.AttU && q != p.AttB && q != p.AttV {
				wrt = append(wrt, gr.params[i])
			}
		}
	}
	if gr.grads, err = G.Grad(gr.loss, wrt...); err != nil {
		return nil, fmt.Errorf("translate: gradients: %w", err)
	}
	gr.vm = G.NewTapeMachine(g)
	return gr, nil
}

// run computes the loss and gradients for the inputs already filled in.
func (gr *graph) run() (float32, error) {
	defer gr.vm.Reset()
	if err := gr.vm.RunAll(); err != nil {
		return 0, fmt.Errorf("translate: running graph B%d S%d T%d: %w", gr.B, gr.S, gr.T, err)
	}
	return gr.lossVal.Data().(float32), nil
}

// grad returns the gradient of parameter i after run.
func (gr *graph) grad(i int) []float32 {
	gv, err := gr.params[i].Grad()
	if err != nil {
		return nil // not part of this model (attention weights without attention)
	}
	return gv.Data().([]float32)
}
