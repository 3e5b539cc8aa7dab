package translate

import (
	"math"
	"math/rand/v2"
	"testing"

	"attention/model/nn"
	"attention/model/vocab"
)

func tinyConfig(att bool) Config {
	return Config{SrcLang: "en", TgtLang: "de", SrcVocab: 13, TgtVocab: 11, Emb: 4, EncHidden: 3, DecHidden: 5, Att: 4, PreOut: 6, Attention: att}
}

func tinyBatch() []Example {
	return []Example{
		{Src: []int{4, 5, 6, 7}, Tgt: []int{4, 5, 6}},
		{Src: []int{8, 9}, Tgt: []int{7, 8, 9, 10}},
		{Src: []int{10, 11, 12}, Tgt: []int{6}},
	}
}

// referenceLoss is the mean per-token negative log-likelihood computed with
// the serving path, one sentence at a time.
func referenceLoss(m *Model, batch []Example) float64 {
	// A fresh Model: the decode step's weights are built from P once per
	// Model, and the gradient checks change P between calls.
	m = &Model{Cfg: m.Cfg, P: m.P, Src: m.Src, Tgt: m.Tgt}
	var sum float64
	var n int
	for _, ex := range batch {
		words := make([]string, len(ex.Src))
		for i, id := range ex.Src {
			words[i] = m.Src.Word(id)
		}
		e := m.Encode(words)
		st := &state{h: append([]float32(nil), e.h0...), c: make([]float32, m.Cfg.DecHidden)}
		sc := e.newScratch()
		prev := vocab.BOS
		for _, y := range append(append([]int(nil), ex.Tgt...), vocab.EOS) {
			e.step(st, prev, sc)
			sum -= math.Log(float64(sc.logits[y]))
			n++
			prev = y
		}
	}
	return sum / float64(n)
}

func tinyModel(att bool, seed uint64) *Model {
	c := tinyConfig(att)
	p := NewParams(c)
	rng := rand.New(rand.NewPCG(seed, 1))
	p.Init(rng)
	// Larger random weights than Init so every path carries gradient.
	for _, q := range p.List() {
		for i := range q.Data {
			q.Data[i] += float32(rng.NormFloat64() * 0.3)
		}
	}
	src, _ := vocab.New(testWords(c.SrcVocab))
	tgt, _ := vocab.New(testWords(c.TgtVocab))
	return &Model{Cfg: c, P: p, Src: src, Tgt: tgt}
}

// testWords is a vocabulary of n one-letter words after the reserved ones.
func testWords(n int) []string {
	w := []string{"<pad>", "<unk>", "<s>", "</s>"}
	for i := 4; i < n; i++ {
		w = append(w, string(rune('a'+i)))
	}
	return w
}

// The training graph computes the same loss as the serving path, and its
// gradients match finite differences of that loss.
func TestGraphMatchesServingPathAndGradients(t *testing.T) {
	for _, att := range []bool{true, false} {
		m := tinyModel(att, 7)
		batch := tinyBatch()
		gr, err := buildGraph(m.Cfg, m.P, 4, 5, 5) // one padding row, padded lengths
		if err != nil {
			t.Fatal(err)
		}
		gr.fill(m.Cfg, batch, 0, nil)
		loss, err := gr.run()
		if err != nil {
			t.Fatal(err)
		}
		want := referenceLoss(m, batch)
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
				num := nn.NumericGrad(q, i, func() float64 { return referenceLoss(m, batch) })
				if diff := math.Abs(num - float64(g[i])); diff > 2e-3+0.03*math.Abs(num) {
					t.Errorf("attention=%v: d loss/d %s[%d]: graph %.5f, numeric %.5f", att, q.Name, i, g[i], num)
				}
			}
		}
	}
}
