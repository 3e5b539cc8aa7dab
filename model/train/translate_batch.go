package train

import (
	"math/rand/v2"

	"gorgonia.org/tensor"

	"attention/model/nn"
	"attention/model/translate"
	"attention/model/vocab"
)

// fill loads a batch into the graph's inputs. len(batch) may be below B:
// missing rows are padding with zero loss weight. drop is the dropout rate
// (0 for evaluation).
func (gr *trGraph) fill(c translate.Config, batch []translate.Example, drop float64, rng *rand.Rand) (ntok int) {
	B, S, T := gr.B, gr.S, gr.T
	src := gr.srcIdx.Data().([]int)
	tin := gr.tgtInIdx.Data().([]int)
	tout := gr.tgtOut.Data().([]int)
	lossW := gr.lossW.Data().([]float32)
	maskBias := gr.maskBias.Data().([]float32)
	meanW := gr.meanW.Data().([]float32)
	bwd := gr.bwdMask.Data().([]float32)
	H := c.EncHidden
	for _, ex := range batch {
		ntok += len(ex.Tgt) + 1
	}
	for b := 0; b < B; b++ {
		var ex translate.Example
		if b < len(batch) {
			ex = batch[b]
		}
		n := len(ex.Src)
		for s := 0; s < S; s++ {
			id, on := vocab.Pad, s < n
			if on {
				id = ex.Src[s]
			}
			src[s*B+b] = id
			maskBias[b*S+s], meanW[b*S+s] = -1e9, 0
			m := float32(0)
			if on {
				maskBias[b*S+s], meanW[b*S+s], m = 0, 1/float32(n), 1
			}
			row := bwd[(s*B+b)*H : (s*B+b+1)*H]
			for j := range row {
				row[j] = m
			}
		}
		if n == 0 { // an all-padding row: attend uniformly to keep softmax finite
			for s := 0; s < S; s++ {
				maskBias[b*S+s] = 0
			}
		}
		for t := 0; t < T; t++ {
			in, out, w := vocab.Pad, vocab.Pad, float32(0)
			switch {
			case b >= len(batch):
			case t == 0:
				in, out, w = vocab.BOS, vocab.EOS, 1/float32(ntok)
				if len(ex.Tgt) > 0 {
					out = ex.Tgt[0]
				}
			case t < len(ex.Tgt):
				in, out, w = ex.Tgt[t-1], ex.Tgt[t], 1/float32(ntok)
			case t == len(ex.Tgt):
				in, out, w = ex.Tgt[t-1], vocab.EOS, 1/float32(ntok)
			}
			tin[t*B+b] = in
			tout[t*B+b], lossW[t*B+b] = out, w
		}
	}
	for _, d := range []*tensor.Dense{gr.dropSrc, gr.dropTgt, gr.dropPre} {
		nn.FillDropout(d.Data().([]float32), drop, rng)
	}
	return ntok
}
