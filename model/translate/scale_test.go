package translate

import (
	"math"
	"math/rand/v2"
	"testing"

	"attention/model/vocab"
)

// The gradient check again on a longer, wider batch: larger graphs make
// gorgonia reuse more memory, which a tiny graph would not exercise.
func TestGradientsOnLongerBatch(t *testing.T) {
	c := Config{SrcLang: "en", TgtLang: "de", SrcVocab: 40, TgtVocab: 30, Emb: 8, EncHidden: 6, DecHidden: 10, Att: 7, PreOut: 9, Attention: true}
	p := NewParams(c)
	rng := rand.New(rand.NewPCG(21, 1))
	p.Init(rng)
	src, _ := vocab.New(testWords(c.SrcVocab))
	tgt, _ := vocab.New(testWords(c.TgtVocab))
	m := &Model{Cfg: c, P: p, Src: src, Tgt: tgt}
	var batch []Example
	for b := 0; b < 7; b++ {
		var ex Example
		for i := 0; i < 5+rng.IntN(11); i++ {
			ex.Src = append(ex.Src, 4+rng.IntN(c.SrcVocab-4))
		}
		for i := 0; i < 3+rng.IntN(12); i++ {
			ex.Tgt = append(ex.Tgt, 4+rng.IntN(c.TgtVocab-4))
		}
		batch = append(batch, ex)
	}
	S, T := batchShape(batch)
	gr, err := buildGraph(c, p, 8, S, T)
	if err != nil {
		t.Fatal(err)
	}
	gr.fill(c, batch, 0, nil)
	loss, err := gr.run()
	if err != nil {
		t.Fatal(err)
	}
	want := referenceLoss(m, batch)
	if math.Abs(float64(loss)-want) > 1e-4 {
		t.Fatalf("graph loss %.6f, serving path %.6f", loss, want)
	}
	for pi, q := range p.List() {
		g := gr.grad(pi)
		for k := 0; k < 4; k++ {
			i := rng.IntN(len(q.Data))
			switch q { // rows of words the batch uses
			case p.SrcEmb:
				i = batch[k].Src[0]*c.Emb + rng.IntN(c.Emb)
			case p.TgtEmb:
				i = batch[k].Tgt[0]*c.Emb + rng.IntN(c.Emb)
			}
			old := q.Data[i]
			const eps = 1e-2
			q.Data[i] = old + eps
			up := referenceLoss(m, batch)
			q.Data[i] = old - eps
			down := referenceLoss(m, batch)
			q.Data[i] = old
			num := (up - down) / (2 * eps)
			if math.Abs(num-float64(g[i])) > 2e-3+0.05*math.Abs(num) {
				t.Errorf("d loss/d %s[%d]: graph %.5f, numeric %.5f", q.Name, i, g[i], num)
			}
		}
	}
}
