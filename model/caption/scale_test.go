package caption

import (
	"math"
	"math/rand/v2"
	"testing"

	"attention/model/nn"
	"attention/model/vocab"
)

// The gradient check on a wider batch of captions of many lengths than
// graph_test.go's: every parameter, against finite differences of the
// serving path with the regulariser.
func TestGradientsOnLongerBatch(t *testing.T) {
	c := Config{Rows: 3, Cols: 4, Feat: 24, Proj: 16, Emb: 12, Hidden: 20, Att: 16, Vocab: 200, Attention: true}
	p := NewParams(c)
	rng := rand.New(rand.NewPCG(3, 1))
	p.Init(rng)
	words := []string{"<pad>", "<unk>", "<s>", "</s>"}
	for i := 4; i < c.Vocab; i++ {
		words = append(words, "w"+string(rune('a'+i%26))+string(rune('a'+i/26)))
	}
	v, _ := vocab.New(words)
	m := &Model{Cfg: c, P: p, Words: v}
	var batch []Example
	for b := 0; b < 12; b++ {
		f := make([]float32, c.R()*c.Feat)
		for i := range f {
			f[i] = float32(rng.Float64() * 3)
		}
		n := 3 + rng.IntN(10)
		w := make([]int, n)
		for i := range w {
			w[i] = 4 + rng.IntN(c.Vocab-4)
		}
		batch = append(batch, Example{Feat: f, Words: w})
	}
	reg := Reg{Lambda: 1, TauPerWord: true}
	B, T := 12, batchLen(batch)
	gr, err := buildGraph(c, p, reg, B, T)
	if err != nil {
		t.Fatal(err)
	}
	gr.fill(c, reg, batch, 0, nil)
	loss, _, _, _, err := gr.run()
	if err != nil {
		t.Fatal(err)
	}
	if want := referenceLoss(m, reg, batch, B); math.Abs(float64(loss)-want) > 1e-4 {
		t.Fatalf("graph loss %.6f, serving path %.6f", loss, want)
	}
	for pi, q := range p.List() {
		g := append([]float32(nil), gr.grad(pi)...)
		bad := 0
		for k := 0; k < 20; k++ {
			i := rng.IntN(len(q.Data))
			if q == p.Emb {
				ex := batch[rng.IntN(len(batch))]
				i = ex.Words[rng.IntN(len(ex.Words))]*c.Emb + rng.IntN(c.Emb)
			}
			num := nn.NumericGrad(q, i, func() float64 { return referenceLoss(m, reg, batch, B) })
			if diff := math.Abs(num - float64(g[i])); diff > 1e-3+0.05*math.Abs(num) {
				bad++
				t.Logf("%s[%d]: graph %.6f, numeric %.6f", q.Name, i, g[i], num)
			}
		}
		if bad > 0 {
			t.Errorf("%s: %d of 20 gradient entries wrong", q.Name, bad)
		}
	}
}
