package train

import (
	"math"
	"math/rand/v2"
	"testing"

	"attention/model/nn"
	"attention/model/translate"
)

func tinyPairs() []translate.Example {
	return []translate.Example{
		{Src: []int{4, 5, 6, 7}, Tgt: []int{4, 5, 6}},
		{Src: []int{8, 9}, Tgt: []int{7, 8, 9, 10}},
		{Src: []int{10, 11, 12}, Tgt: []int{6}},
	}
}

// translationLoss is the mean per-token negative log-likelihood computed
// with the serving path, one sentence at a time.
func translationLoss(m *translate.Model, batch []translate.Example) float64 {
	// A fresh Model: the decode step's weights are built from P once per
	// Model, and the gradient checks change P between calls.
	m = &translate.Model{Cfg: m.Cfg, P: m.P, Src: m.Src, Tgt: m.Tgt}
	var sum float64
	var n int
	for _, ex := range batch {
		words := make([]string, len(ex.Src))
		for i, id := range ex.Src {
			words[i] = m.Src.Word(id)
		}
		probs, _ := m.Encode(words).TeacherForced(ex.Tgt)
		for _, p := range probs {
			sum -= math.Log(float64(p))
			n++
		}
	}
	return sum / float64(n)
}

func tinyTranslator(att bool, seed uint64) *translate.Model {
	return translate.Random(translate.Config{SrcLang: "en", TgtLang: "de", SrcVocab: 13, TgtVocab: 11, Emb: 4, EncHidden: 3, DecHidden: 5, Att: 4, PreOut: 6, Attention: att}, seed, 0.3)
}

// The training graph computes the same loss as the serving path, and its
// gradients match finite differences of that loss.
func TestTranslationGraphMatchesServingPathAndGradients(t *testing.T) {
	for _, att := range []bool{true, false} {
		m := tinyTranslator(att, 7)
		batch := tinyPairs()
		gr, err := buildTranslateGraph(m.Cfg, m.P, 4, 5, 5) // one padding row, padded lengths
		if err != nil {
			t.Fatal(err)
		}
		gr.fill(m.Cfg, batch, 0, nil)
		loss, err := gr.run()
		if err != nil {
			t.Fatal(err)
		}
		want := translationLoss(m, batch)
		if math.Abs(float64(loss)-want) > 1e-4 {
			t.Fatalf("attention=%v: graph loss %.6f, serving-path loss %.6f", att, loss, want)
		}
		rng := rand.New(rand.NewPCG(3, 3))
		for pi, q := range m.P.List() {
			g := gr.grad(pi)
			for k := 0; k < 3; k++ {
				i := rng.IntN(len(q.Data))
				if q == m.P.SrcEmb || q == m.P.TgtEmb {
					i = (4+rng.IntN(6))*m.Cfg.Emb + rng.IntN(m.Cfg.Emb) // a row that is used
				}
				if !att && (q == m.P.AttW || q == m.P.AttU || q == m.P.AttB || q == m.P.AttV) {
					if g != nil {
						t.Errorf("no attention: %s has a gradient", q.Name)
					}
					continue
				}
				num := nn.NumericGrad(q, i, func() float64 { return translationLoss(m, batch) })
				if diff := math.Abs(num - float64(g[i])); diff > 2e-3+0.03*math.Abs(num) {
					t.Errorf("attention=%v: d loss/d %s[%d]: graph %.5f, numeric %.5f", att, q.Name, i, g[i], num)
				}
			}
		}
	}
}
