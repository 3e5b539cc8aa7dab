package train

import (
	"fmt"

	G "gorgonia.org/gorgonia"

	"attention/model/translate"

	"gorgonia.org/tensor"
)

// graph is the training graph for one batch shape (B, S, T), unrolled over
// time. Its parameter nodes share their backing arrays with Params, so an
// optimiser step on Params is seen by every graph.
type trGraph struct {
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

// buildTranslateGraph unrolls the model for batch B, source length S, target length T.
func buildTranslateGraph(c translate.Config, p *translate.Params, B, S, T int) (*trGraph, error) {
	E, H, D, K, A, O := c.Emb, c.EncHidden, c.D(), c.DecHidden, c.Att, c.PreOut
	gr := &trGraph{B: B, S: S, T: T,
		srcIdx: Ints(S * B), tgtInIdx: Ints(T * B), tgtOut: Ints(T * B), lossW: F32(T * B),
		maskBias: F32(B, S), meanW: F32(B, S), bwdMask: F32(S*B, H),
		dropSrc: F32(S*B, E), dropTgt: F32(T*B, E), dropPre: F32(T*B, O)}
	g, err := Build(fmt.Sprintf("translate: graph B%d S%d T%d", B, S, T), func(g *Graph) {
		node := map[*translate.Param]*G.Node{}
		for _, q := range p.List() {
			var n *G.Node
			switch {
			case q == p.AttV:
				n = g.Param(q, q.Shape[0], 1) // v as a column, so e = tanh(...)·v
			case len(q.Shape) == 1:
				n = g.Param(q, 1, q.Shape[0]) // biases as rows, added to every row
			default:
				n = g.Param(q)
			}
			node[q] = n
			gr.params = append(gr.params, n)
		}
		srcIdx, tgtInIdx, tgtOut := g.Input("src_idx", gr.srcIdx), g.Input("tgt_in_idx", gr.tgtInIdx), g.Input("tgt_out", gr.tgtOut)
		maskBias, meanW, bwdMask, lossW := g.Input("mask_bias", gr.maskBias), g.Input("mean_w", gr.meanW), g.Input("bwd_mask", gr.bwdMask), g.Input("loss_w", gr.lossW)
		dropSrc, dropTgt, dropPre := g.Input("drop_src", gr.dropSrc), g.Input("drop_tgt", gr.dropTgt), g.Input("drop_pre", gr.dropPre)

		// Encoder. Input projections for several steps in one matmul each.
		embS := g.Had(g.Must(G.ByIndices(node[p.SrcEmb], srcIdx, 0)), dropSrc) // (S*B, E)
		xwF := g.StepProj(embS, node[p.FwdWx], node[p.FwdB], S, B)             // x_t·Wx + b  S x (B, 4H)
		xwB := g.StepProj(embS, node[p.BwdWx], node[p.BwdB], S, B)
		hf := make([]*G.Node, S)
		var h, cell *G.Node
		fwdWh, bwdWh := g.ShareWeight(node[p.FwdWh]), g.ShareWeight(node[p.BwdWh])
		for t := 0; t < S; t++ {
			gates := xwF[t]
			if h != nil {
				gates = g.Add(gates, g.MulShared(h, fwdWh)) // + h_{t-1}·Wh
			}
			h, cell = g.LSTM(gates, cell, H) // (B, H)
			// Past a sentence's end the forward state runs on over padding;
			// its outputs there are zeroed so that nothing downstream can
			// send gradient back through them (the serving path has no such
			// positions).
			hf[t] = g.Had(g.Rows(bwdMask, t, B), h)
		}
		// The backward direction starts on padding; the mask keeps its state
		// at zero until the sentence's last word.
		hb := make([]*G.Node, S)
		h, cell = nil, nil
		for t := S - 1; t >= 0; t-- {
			gates := xwB[t]
			if h != nil {
				gates = g.Add(gates, g.MulShared(h, bwdWh))
			}
			hNew, cNew := g.LSTM(gates, cell, H)
			m := g.Rows(bwdMask, t, B) // (B, H)
			if h == nil {
				h, cell = g.Had(m, hNew), g.Had(m, cNew)
			} else {
				h = g.Add(h, g.Had(m, g.Sub(hNew, h))) // h = h + m⊙(h_new - h)
				cell = g.Add(cell, g.Had(m, g.Sub(cNew, cell)))
			}
			hb[t] = h
		}
		xs := make([]*G.Node, S)
		for t := range xs {
			xs[t] = g.Must(Concat(1, hf[t], hb[t])) // x_t = [fwd; bwd]  (B, D)
		}
		x3 := g.Reshape(g.Must(Concat(1, xs...)), B, S, D) // (B, S, D) batch-major
		x2 := g.Reshape(x3, B*S, D)                        // (B*S, D)

		xs3 := g.Share(x3)                                                                // read by every step
		mean := g.WeightedShared(meanW, xs3)                                              // (B, D)
		h = g.Tanh(g.Bias(g.Mul(mean, node[p.InitW]), node[p.InitB]))                     // h_0  (B, K)
		ux3 := g.Share(g.Reshape(g.Bias(g.Mul(x2, node[p.AttU]), node[p.AttB]), B, S, A)) // U x_i + b_a  (B, S, A)
		embT := g.Had(g.Must(G.ByIndices(node[p.TgtEmb], tgtInIdx, 0)), dropTgt)          // emb(y_{t-1})  (T*B, E)
		yw := g.StepProj(embT, node[p.DecWy], node[p.DecB], T, B)                         // T x (B, 4K)
		cell = nil
		hs, cs := make([]*G.Node, T), make([]*G.Node, T)
		// The products every step makes with the same weights.
		wc, wh := g.ShareWeight(node[p.DecWc]), g.ShareWeight(node[p.DecWh])
		var attW *SharedWeight
		if c.Attention {
			attW = g.ShareWeight(node[p.AttW])
		}
		for t := 0; t < T; t++ {
			ctx := mean
			if c.Attention {
				a := g.AdditiveShared(h, attW, ux3, node[p.AttV], maskBias) // a_t  (B, S)
				ctx = g.WeightedShared(a, xs3)                              // c_t  (B, D)
			}
			gates := g.Add(g.Add(yw[t], g.MulShared(ctx, wc)), g.MulShared(h, wh)) // (B, 4K)
			h, cell = g.LSTM(gates, cell, K)
			hs[t], cs[t] = h, ctx
		}
		hAll := g.Must(Concat(0, hs...)) // (T*B, K)
		cAll := g.Must(Concat(0, cs...)) // (T*B, D)
		pre := g.Add(g.Add(g.Mul(hAll, node[p.PreWh]), g.Mul(cAll, node[p.PreWc])), g.Mul(embT, node[p.PreWy]))
		pre = g.Had(g.Tanh(g.Bias(pre, node[p.PreB])), dropPre)  // (T*B, O)
		logits := g.Bias(g.Mul(pre, node[p.OutW]), node[p.OutB]) // (T*B, V)
		nll := g.Must(CrossEntropy(logits, tgtOut, lossW))       // w_t (-log p(y_t))  (T*B)
		gr.loss = g.Sum(nll)                                     // mean NLL per token
		g.Read(gr.loss, &gr.lossVal)
	})
	if err != nil {
		return nil, err
	}
	gr.g = g.G
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
	gr.vm = g.Machine(gr.grads...)
	return gr, nil
}

// run computes the loss and gradients for the inputs already filled in.
func (gr *trGraph) run() (float32, error) {
	defer gr.vm.Reset()
	if err := gr.vm.RunAll(); err != nil {
		return 0, fmt.Errorf("translate: running graph B%d S%d T%d: %w", gr.B, gr.S, gr.T, err)
	}
	return gr.lossVal.Data().(float32), nil
}

// grad returns the gradient of parameter i after run, or nil for a
// parameter the model does not use (attention weights without attention).
func (gr *trGraph) grad(i int) []float32 {
	gv, err := gr.params[i].Grad()
	if err != nil {
		return nil
	}
	return gv.Data().([]float32)
}
