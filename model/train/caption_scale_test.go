package train

import (
	"math"
	"math/rand/v2"
	"testing"

	"attention/model/caption"
	"attention/model/nn"
)

// The gradient check on a wider batch of captions of many lengths than
// caption_graph_test.go's: every parameter, against finite differences of the
// serving path with the regulariser.
func TestCaptionGradientsOnLongerBatch(t *testing.T) {
	c := caption.Config{Rows: 3, Cols: 4, Feat: 24, Proj: 16, Emb: 12, Hidden: 20, Att: 16, Vocab: 200, Attention: true}
	m := caption.Random(c, 3, 0)
	p := m.P
	rng := rand.New(rand.NewPCG(3, 2))
	var batch []caption.Example
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
		batch = append(batch, caption.Example{Feat: f, Words: w})
	}
	reg := Reg{Lambda: 1, TauPerWord: true}
	B, T := 12, captionLen(batch)
	gr, err := buildCaptionGraph(c, p, reg, B, T)
	if err != nil {
		t.Fatal(err)
	}
	gr.fill(c, reg, batch, 0, nil)
	loss, _, _, _, err := gr.run()
	if err != nil {
		t.Fatal(err)
	}
	if want := captionLoss(t, m, reg, batch, B); math.Abs(float64(loss)-want) > 1e-4 {
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
			num := nn.NumericGrad(q, i, func() float64 { return captionLoss(t, m, reg, batch, B) })
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
