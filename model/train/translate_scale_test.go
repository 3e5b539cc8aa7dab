package train

import (
	"math"
	"math/rand/v2"
	"testing"

	"attention/model/nn"
	"attention/model/translate"
)

// smallModel is a small random model (seeded) and the generator that made it.
func smallModel(att bool) (*translate.Model, *rand.Rand) {
	c := translate.Config{SrcLang: "en", TgtLang: "de", SrcVocab: 40, TgtVocab: 30, Emb: 8, EncHidden: 6, DecHidden: 10, Att: 7, PreOut: 9, Attention: att}
	return translate.Random(c, 21, 0), rand.New(rand.NewPCG(21, 2))
}

// randomBatch draws n sentence pairs whose source and target lengths are
// min + [0, span) words.
func randomBatch(rng *rand.Rand, c translate.Config, n int, srcLen, tgtLen [2]int) []translate.Example {
	var batch []translate.Example
	for b := 0; b < n; b++ {
		var ex translate.Example
		for i := 0; i < srcLen[0]+rng.IntN(srcLen[1]); i++ {
			ex.Src = append(ex.Src, 4+rng.IntN(c.SrcVocab-4))
		}
		for i := 0; i < tgtLen[0]+rng.IntN(tgtLen[1]); i++ {
			ex.Tgt = append(ex.Tgt, 4+rng.IntN(c.TgtVocab-4))
		}
		batch = append(batch, ex)
	}
	return batch
}

// The gradient check again on a longer, wider batch than translate_graph_test.go's.
func TestTranslationGradientsOnLongerBatch(t *testing.T) {
	m, rng := smallModel(true)
	c, p := m.Cfg, m.P
	batch := randomBatch(rng, c, 7, [2]int{5, 11}, [2]int{3, 12})
	S, T := trBatchShape(batch)
	gr, err := buildTranslateGraph(c, p, 8, S, T)
	if err != nil {
		t.Fatal(err)
	}
	gr.fill(c, batch, 0, nil)
	loss, err := gr.run()
	if err != nil {
		t.Fatal(err)
	}
	want := translationLoss(m, batch)
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
			num := nn.NumericGrad(q, i, func() float64 { return translationLoss(m, batch) })
			if math.Abs(num-float64(g[i])) > 2e-3+0.05*math.Abs(num) {
				t.Errorf("d loss/d %s[%d]: graph %.5f, numeric %.5f", q.Name, i, g[i], num)
			}
		}
	}
}

// The graph computes the serving path's loss whatever the padded batch
// shape: large batches and long padding put time steps at row offsets past
// 256, where gorgonia's own Slice returned wrong rows.
func TestTranslationGraphMatchesServingPathAcrossShapes(t *testing.T) {
	for _, att := range []bool{true, false} {
		m, rng := smallModel(att)
		c, p := m.Cfg, m.P
		batch := randomBatch(rng, c, 8, [2]int{20, 13}, [2]int{10, 12})
		want := translationLoss(m, batch)
		shapes := [][3]int{{8, 32, 24}, {16, 32, 24}, {32, 40, 40}, {64, 32, 32}}
		if testing.Short() {
			// One shape whose time-major rows pass 256, where gorgonia's
			// Slice went wrong, catches that; the larger ones are CI's.
			shapes = shapes[:2]
		}
		for _, sh := range shapes {
			gr, err := buildTranslateGraph(c, p, sh[0], sh[1], sh[2])
			if err != nil {
				t.Fatal(err)
			}
			gr.fill(c, batch, 0, nil)
			loss, err := gr.run()
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(float64(loss)-want) > 1e-4 {
				t.Errorf("attention=%v B=%d S=%d T=%d: graph loss %.6f, serving path %.6f", att, sh[0], sh[1], sh[2], loss, want)
			}
		}
	}
}

// Gradients with source padding: sentences of different lengths in one
// batch, so the forward encoder runs on past the shorter ones' ends. Every
// parameter's gradient is checked against finite differences of the
// serving path. (Before the forward outputs were masked at padding,
// gradient leaked back through them into the forward encoder: the
// encoder's weights and biases were wrong here while every other check
// passed.)
func TestTranslationGradientsWithSourcePadding(t *testing.T) {
	c := translate.Config{SrcLang: "en", TgtLang: "de", SrcVocab: 300, TgtVocab: 200, Emb: 16, EncHidden: 16, DecHidden: 24, Att: 16, PreOut: 16, Attention: true}
	m := translate.Random(c, 5, 0)
	p := m.P
	rng := rand.New(rand.NewPCG(5, 2))
	// 40 sentences: time-major rows of later steps start past index 256,
	// where gorgonia's Slice (inside its Concat) went wrong.
	batch := randomBatch(rng, c, 40, [2]int{6, 7}, [2]int{5, 4})
	S, T := trBatchShape(batch)
	gr, err := buildTranslateGraph(c, p, 40, S, T)
	if err != nil {
		t.Fatal(err)
	}
	gr.fill(c, batch, 0, nil)
	if _, err := gr.run(); err != nil {
		t.Fatal(err)
	}
	for pi, q := range p.List() {
		g := append([]float32(nil), gr.grad(pi)...)
		bad := 0
		for k := 0; k < 12; k++ {
			i := rng.IntN(len(q.Data))
			if q == p.SrcEmb || q == p.TgtEmb {
				ex := batch[rng.IntN(len(batch))]
				id := ex.Src[rng.IntN(len(ex.Src))]
				if q == p.TgtEmb {
					id = ex.Tgt[rng.IntN(len(ex.Tgt))]
				}
				i = id*c.Emb + rng.IntN(c.Emb) // a row that is used
			}
			num := nn.NumericGrad(q, i, func() float64 { return translationLoss(m, batch) })
			if diff := math.Abs(num - float64(g[i])); diff > 1e-3+0.05*math.Abs(num) {
				bad++
				t.Logf("%s[%d]: graph %.6f, numeric %.6f", q.Name, i, g[i], num)
			}
		}
		if bad > 0 {
			t.Errorf("%s: %d of 12 gradient entries wrong", q.Name, bad)
		}
	}
}
