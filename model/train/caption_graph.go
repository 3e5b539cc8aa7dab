package train

import (
	"fmt"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"

	"gorgonia.org/tensor"

	"attention/model/caption"
	"attention/model/nn"
	"attention/model/vocab"
)

// Reg configures the attention regulariser λ Σ_i (τ - Σ_t α_ti)², averaged
// over the batch. TauPerWord false uses τ = 1 (the paper); true uses
// τ = (caption length)/R, which asks for attention spread evenly over the
// caption without asking each region to be looked at for a whole word.
type Reg struct {
	Lambda     float64
	TauPerWord bool
	// Sup is μ, the weight of the attention supervision (0: none).
	Sup float64
}

// supEps keeps -log(mass) finite where the attention misses the object.
const supEps = 1e-4

// graph is the training graph for one batch shape (B, T).
type capGraph struct {
	B, T   int
	vm     G.VM
	params []*G.Node
	grads  G.Nodes

	feat     *tensor.Dense // (B*R, F) batch-major
	meanW    *tensor.Dense // (B, R) 1/R
	startW   *tensor.Dense // (B, R) 1/R, or 0 for a constant start state
	supFrac  *tensor.Dense // (T*B, R) object share of each region at supervised steps
	supW     *tensor.Dense // (T*B) μ/(supervised steps) at those steps, else 0
	tgtIn    *tensor.Dense // (T*B) int, time-major: <s> y_1 ... y_{T-1}
	tgtOut   *tensor.Dense // (T*B) int
	lossW    *tensor.Dense // (T*B) 1/ntokens on real words, else 0
	stepMask *tensor.Dense // (T*B, R) 1 where step t of caption b is real
	tau      *tensor.Dense // (B, R) target total attention per region
	dropEmb  *tensor.Dense // (T*B, E)
	dropPre  *tensor.Dense // (T*B, E)

	loss, nll, reg, sup        *G.Node
	lossVal, nllVal, reV, supV G.Value
}

func buildCaptionGraph(c caption.Config, p *caption.Params, reg Reg, B, T int) (*capGraph, error) {
	R, F, D, E, K, A := c.R(), c.Feat, c.Proj, c.Emb, c.Hidden, c.Att
	gr := &capGraph{B: B, T: T, feat: F32(B*R, F), meanW: F32(B, R), tgtIn: Ints(T * B), tgtOut: Ints(T * B),
		lossW: F32(T * B), stepMask: F32(T*B, R), tau: F32(B, R), dropEmb: F32(T*B, E), dropPre: F32(T*B, E),
		startW: F32(B, R), supFrac: F32(T*B, R), supW: F32(T * B)}
	g, err := Build(fmt.Sprintf("caption: graph B%d T%d", B, T), func(g *Graph) {
		node := map[*caption.Param]*G.Node{}
		for _, q := range p.List() {
			var n *G.Node
			switch {
			case q == p.AttV:
				n = g.Param(q, q.Shape[0], 1)
			case len(q.Shape) == 1:
				n = g.Param(q, 1, q.Shape[0])
			default:
				n = g.Param(q)
			}
			node[q] = n
			gr.params = append(gr.params, n)
		}
		feat, meanW := g.Input("feat", gr.feat), g.Input("mean_w", gr.meanW)
		tgtIn, tgtOut, lossW := g.Input("tgt_in", gr.tgtIn), g.Input("tgt_out", gr.tgtOut), g.Input("loss_w", gr.lossW)
		stepMask, tau := g.Input("step_mask", gr.stepMask), g.Input("tau", gr.tau)
		dropEmb, dropPre := g.Input("drop_emb", gr.dropEmb), g.Input("drop_pre", gr.dropPre)
		startW, supFrac, supW := g.Input("start_w", gr.startW), g.Input("sup_frac", gr.supFrac), g.Input("sup_w", gr.supW)

		x2 := g.Bias(g.Mul(feat, node[p.ProjW]), node[p.ProjB])                           // x_i  (B*R, D)
		x3 := g.Share(g.Reshape(x2, B, R, D))                                             // (B, R, D), read by every step
		mean := g.WeightedShared(meanW, x3)                                               // (B, D)
		start := g.WeightedShared(startW, x3)                                             // mean, or 0  (B, D)
		h := g.Tanh(g.Bias(g.Mul(start, node[p.InitHW]), node[p.InitHB]))                 // h_0  (B, K)
		cell := g.Tanh(g.Bias(g.Mul(start, node[p.InitCW]), node[p.InitCB]))              // c_0  (B, K)
		ux3 := g.Share(g.Reshape(g.Bias(g.Mul(x2, node[p.AttU]), node[p.AttB]), B, R, A)) // U x_i + b_a  (B, R, A)
		emb := g.Had(g.Must(G.ByIndices(node[p.Emb], tgtIn, 0)), dropEmb)                 // emb(y_{t-1})  (T*B, E)
		yw := g.StepProj(emb, node[p.DecWy], node[p.DecB], T, B)                          // T x (B, 4K)
		hs, zs := make([]*G.Node, T), make([]*G.Node, T)
		var attSum *G.Node                     // Σ_t α_ti over real steps  (B, R)
		var supSum *G.Node                     // Σ_t w_t log(Σ_i m_ti α_ti + ε)  (scalar)
		plus := func(sum, x *G.Node) *G.Node { // sum + x, x when there is no sum yet
			if sum == nil {
				return x
			}
			return g.Add(sum, x)
		}
		var supCol, eps *G.Node // supW as a column, ε: made once, read at every step
		if c.Attention && reg.Sup > 0 {
			supCol, eps = g.Reshape(supW, T*B, 1), G.NewConstant(float32(supEps))
		}
		// The products every step makes with the same weights.
		wz, wh := g.ShareWeight(node[p.DecWz]), g.ShareWeight(node[p.DecWh])
		var attW *SharedWeight
		if c.Attention {
			attW = g.ShareWeight(node[p.AttW])
		}
		for t := 0; t < T; t++ {
			z := mean
			if c.Attention {
				a := g.AdditiveShared(h, attW, ux3, node[p.AttV], nil)                             // α_t  (B, R)
				beta := g.Sigmoid(g.Bias(g.Mul(h, node[p.GateW]), node[p.GateB]))                  // β_t  (B, 1)
				z = g.Must(G.BroadcastHadamardProd(g.WeightedShared(a, x3), beta, nil, []byte{1})) // z_t  (B, D)
				am := g.Had(a, g.Rows(stepMask, t, B))
				attSum = plus(attSum, am)
				if reg.Sup > 0 {
					mass := g.Sum(g.Had(a, g.Rows(supFrac, t, B)), 1) // Σ_i m_ti α_ti  (B)
					logm := g.Must(G.Log(g.Add(mass, eps)))           // (B)
					wt := g.Reshape(g.Rows(supCol, t, B), B)          // (B)
					term := g.Sum(g.Had(logm, wt))
					supSum = plus(supSum, term)
				}
			}
			gates := g.Add(g.Add(yw[t], g.MulShared(z, wz)), g.MulShared(h, wh)) // (B, 4K)
			h, cell = g.LSTM(gates, cell, K)
			hs[t], zs[t] = h, z
		}
		hAll := g.Must(Concat(0, hs...)) // (T*B, K)
		zAll := g.Must(Concat(0, zs...)) // (T*B, D)
		pre := g.Add(g.Add(emb, g.Mul(hAll, node[p.OutLh])), g.Mul(zAll, node[p.OutLz]))
		pre = g.Had(pre, dropPre)                                   // emb + L_h h + L_z z  (T*B, E)
		logits := g.Bias(g.Mul(pre, node[p.OutW]), node[p.OutB])    // (T*B, V)
		gr.nll = g.Sum(g.Must(CrossEntropy(logits, tgtOut, lossW))) // mean NLL per word
		gr.loss = gr.nll
		if c.Attention && reg.Lambda > 0 {
			d := g.Sub(tau, attSum)
			scale := G.NewConstant(float32(reg.Lambda / float64(B)))
			gr.reg = g.Must(G.Mul(scale, g.Sum(g.Had(d, d)))) // λ/B Σ (τ - Σ_t α)²
			gr.loss = g.Add(gr.nll, gr.reg)
			g.Read(gr.reg, &gr.reV)
		}
		if supSum != nil {
			gr.sup = g.Must(G.Neg(supSum)) // μ mean over supervised steps of -log mass
			gr.loss = g.Add(gr.loss, gr.sup)
			g.Read(gr.sup, &gr.supV)
		}
		g.Read(gr.loss, &gr.lossVal)
		g.Read(gr.nll, &gr.nllVal)
	})
	if err != nil {
		return nil, err
	}
	wrt := gr.params
	if !c.Attention {
		wrt = nil
		for i, q := range p.List() {
			if q != p.AttW && q != p.AttU && q != p.AttB && q != p.AttV && q != p.GateW && q != p.GateB {
				wrt = append(wrt, gr.params[i])
			}
		}
	}
	if gr.grads, err = G.Grad(gr.loss, wrt...); err != nil {
		return nil, fmt.Errorf("caption: gradients: %w", err)
	}
	gr.vm = g.Machine(gr.grads...)
	return gr, nil
}

// fill loads a batch (len(batch) <= B; missing rows are padding).
func (gr *capGraph) fill(c caption.Config, reg Reg, batch []caption.Example, drop float64, rng *rand.Rand) (ntok int) {
	B, T, R, F := gr.B, gr.T, c.R(), c.Feat
	feat := gr.feat.Data().([]float32)
	meanW, tau := gr.meanW.Data().([]float32), gr.tau.Data().([]float32)
	startW, supFrac, supW := gr.startW.Data().([]float32), gr.supFrac.Data().([]float32), gr.supW.Data().([]float32)
	clear(supFrac)
	clear(supW)
	nsup := 0
	for _, ex := range batch {
		for _, m := range ex.Target {
			if m != nil {
				nsup++
			}
		}
	}
	tin, tout := gr.tgtIn.Data().([]int), gr.tgtOut.Data().([]int)
	lossW, mask := gr.lossW.Data().([]float32), gr.stepMask.Data().([]float32)
	for _, ex := range batch {
		ntok += len(ex.Words) + 1
	}
	clear(mask)
	for b := 0; b < B; b++ {
		var ex caption.Example
		if b < len(batch) {
			ex = batch[b]
			copy(feat[b*R*F:(b+1)*R*F], ex.Feat)
		} else {
			clear(feat[b*R*F : (b+1)*R*F])
		}
		n := len(ex.Words) + 1 // words and </s>
		tv := float32(1)
		if reg.TauPerWord {
			tv = float32(n) / float32(R)
		}
		for i := 0; i < R; i++ {
			// Without attention (Show and Tell) the image enters once,
			// through the start state: the steps read no context.
			meanW[b*R+i] = 1 / float32(R)
			if !c.Attention {
				meanW[b*R+i] = 0
			}
			startW[b*R+i] = 1 / float32(R)
			if c.ConstStart {
				startW[b*R+i] = 0
			}
			tau[b*R+i] = 0
			if b < len(batch) {
				tau[b*R+i] = tv
			}
		}
		for t := 0; t < T; t++ {
			in, out, w := vocab.Pad, vocab.Pad, float32(0)
			if b < len(batch) && t < n {
				in, out, w = vocab.BOS, vocab.EOS, 1/float32(ntok)
				if t > 0 {
					in = ex.Words[t-1]
				}
				if t < len(ex.Words) {
					out = ex.Words[t]
				}
				row := mask[(t*B+b)*R : (t*B+b+1)*R]
				for i := range row {
					row[i] = 1
				}
				if t < len(ex.Target) && ex.Target[t] != nil && reg.Sup > 0 {
					copy(supFrac[(t*B+b)*R:(t*B+b+1)*R], ex.Target[t])
					supW[t*B+b] = float32(reg.Sup) / float32(nsup)
				}
			}
			tin[t*B+b], tout[t*B+b], lossW[t*B+b] = in, out, w
		}
	}
	nn.FillDropout(gr.dropEmb.Data().([]float32), drop, rng)
	nn.FillDropout(gr.dropPre.Data().([]float32), drop, rng)
	return ntok
}

// run computes the loss terms and gradients.
func (gr *capGraph) run() (loss, nll, reg, sup float32, err error) {
	defer gr.vm.Reset()
	if err := gr.vm.RunAll(); err != nil {
		return 0, 0, 0, 0, fmt.Errorf("caption: running graph B%d T%d: %w", gr.B, gr.T, err)
	}
	if gr.reV != nil {
		reg = gr.reV.Data().(float32)
	}
	if gr.supV != nil {
		sup = gr.supV.Data().(float32)
	}
	return gr.lossVal.Data().(float32), gr.nllVal.Data().(float32), reg, sup, nil
}

func (gr *capGraph) grad(i int) []float32 {
	gv, err := gr.params[i].Grad()
	if err != nil {
		return nil
	}
	return gv.Data().([]float32)
}
