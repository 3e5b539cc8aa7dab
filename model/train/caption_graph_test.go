package train

import (
	"math"
	"math/rand/v2"
	"testing"

	"attention/model/caption"
	"attention/model/nn"
)

func tinyCaptioner(att bool, seed uint64) *caption.Model {
	return caption.Random(caption.Config{Rows: 2, Cols: 2, Feat: 5, Proj: 4, Emb: 3, Hidden: 4, Att: 3, Vocab: 10, Attention: att}, seed, 0.3)
}

func tinyCaptions(c caption.Config) []caption.Example {
	rng := rand.New(rand.NewPCG(9, 9))
	feat := func() []float32 {
		f := make([]float32, c.R()*c.Feat)
		for i := range f {
			f[i] = float32(rng.Float64() * 2)
		}
		return f
	}
	return []caption.Example{{Feat: feat(), Words: []int{4, 5, 6}}, {Feat: feat(), Words: []int{7}}, {Feat: feat(), Words: []int{8, 9, 4, 5}}}
}

// captionLoss is the training loss computed with the serving path.
func captionLoss(t testing.TB, m *caption.Model, reg Reg, batch []caption.Example, B int) float64 {
	// A fresh Model: the decode step's weights are built from P once per
	// Model, and the gradient checks change P between calls.
	m = &caption.Model{Cfg: m.Cfg, P: m.P, Words: m.Words}
	var nll, regSum, sup float64
	n, nsup := 0, 0
	for _, ex := range batch {
		e, err := m.Encode(ex.Feat)
		if err != nil {
			t.Fatal(err)
		}
		probs, att := e.TeacherForced(ex.Words)
		attSum := make([]float64, m.Cfg.R())
		for t, p := range probs {
			nll -= math.Log(float64(p))
			if t < len(ex.Target) && ex.Target[t] != nil {
				var mass float64
				for i, a := range att[t] {
					mass += float64(ex.Target[t][i]) * float64(a)
				}
				sup -= math.Log(mass + supEps)
				nsup++
			}
			for i, a := range att[t] {
				attSum[i] += float64(a)
			}
			n++
		}
		tau := 1.0
		if reg.TauPerWord {
			tau = float64(len(probs)) / float64(m.Cfg.R())
		}
		for _, s := range attSum {
			regSum += (tau - s) * (tau - s)
		}
	}
	loss := nll / float64(n)
	if m.Cfg.Attention {
		loss += reg.Lambda / float64(B) * regSum
		if reg.Sup > 0 && nsup > 0 {
			loss += reg.Sup * sup / float64(nsup)
		}
	}
	return loss
}

// supervise gives two of tinyCaptions's captions object shares for some words.
func supervise(batch []caption.Example) []caption.Example {
	batch[0].Target = [][]float32{nil, {0, 1, 0.5, 0}, nil}
	batch[2].Target = [][]float32{{0.2, 0, 0, 0.9}, nil, nil, {1, 1, 0, 0}}
	return batch
}

func TestCaptionGraphMatchesServingPathAndGradients(t *testing.T) {
	for _, tc := range []struct {
		att, constStart bool
		sup             float64
		lambda          float64
	}{
		{true, false, 0, 0.5}, {false, false, 0, 0.5}, {true, true, 0.7, 0}, {true, false, 1.3, 0.5},
		// The regulariser at the scales of the paper's code (likelihood
		// summed over ~12 words: λ 1/12 here) and of sgrvinod's (averaged
		// over the regions: λ 1/R).
		{true, false, 0, 1.0 / 12}, {true, true, 1, 1.0 / 4},
	} {
		att := tc.att
		m := tinyCaptioner(att, 4)
		m.Cfg.ConstStart = tc.constStart
		reg := Reg{Lambda: tc.lambda, TauPerWord: att, Sup: tc.sup}
		batch := tinyCaptions(m.Cfg)
		if tc.sup > 0 {
			batch = supervise(batch)
		}
		const B = 4
		gr, err := buildCaptionGraph(m.Cfg, m.P, reg, B, 6)
		if err != nil {
			t.Fatal(err)
		}
		gr.fill(m.Cfg, reg, batch, 0, nil)
		loss, _, _, sup, err := gr.run()
		if err != nil {
			t.Fatal(err)
		}
		if (sup != 0) != (tc.sup > 0) {
			t.Fatalf("%+v: supervision term %g", tc, sup)
		}
		want := captionLoss(t, m, reg, batch, B)
		if math.Abs(float64(loss)-want) > 1e-4 {
			t.Fatalf("%+v: graph loss %.6f, serving path %.6f", tc, loss, want)
		}
		rng := rand.New(rand.NewPCG(2, 2))
		for pi, q := range m.P.List() {
			g := gr.grad(pi)
			if g == nil {
				if att && !(tc.constStart && (q == m.P.InitHW || q == m.P.InitCW)) {
					t.Errorf("%s has no gradient", q.Name)
				}
				continue
			}
			for k := 0; k < 3; k++ {
				i := rng.IntN(len(q.Data))
				if q == m.P.Emb {
					i = (2+rng.IntN(8))*m.Cfg.Emb + rng.IntN(m.Cfg.Emb)
				}
				num := nn.NumericGrad(q, i, func() float64 { return captionLoss(t, m, reg, batch, B) })
				if diff := math.Abs(num - float64(g[i])); diff > 2e-3+0.03*math.Abs(num) {
					t.Errorf("%+v: d loss/d %s[%d]: graph %.5f, numeric %.5f", tc, q.Name, i, g[i], num)
				}
			}
		}
	}
}

// τ moves the regulariser's value but not its gradient: a constant added to
// every region's target cancels through each step's softmax.
func TestTauDoesNotChangeTheGradient(t *testing.T) {
	m := tinyCaptioner(true, 5)
	batch := tinyCaptions(m.Cfg)
	grads := func(perWord bool) (float32, [][]float32) {
		reg := Reg{Lambda: 0.7, TauPerWord: perWord}
		gr, err := buildCaptionGraph(m.Cfg, m.P, reg, 4, 6)
		if err != nil {
			t.Fatal(err)
		}
		gr.fill(m.Cfg, reg, batch, 0, nil)
		_, _, r, _, err := gr.run()
		if err != nil {
			t.Fatal(err)
		}
		var out [][]float32
		for i := range m.P.List() {
			out = append(out, append([]float32(nil), gr.grad(i)...))
		}
		return r, out
	}
	r1, g1 := grads(false)
	r2, g2 := grads(true)
	if math.Abs(float64(r1-r2)) < 1e-3 {
		t.Fatalf("the regulariser's value does not depend on τ (%g, %g): the test shows nothing", r1, r2)
	}
	for i, q := range m.P.List() {
		for j := range g1[i] {
			if d := math.Abs(float64(g1[i][j] - g2[i][j])); d > 1e-5+1e-4*math.Abs(float64(g1[i][j])) {
				t.Fatalf("d loss/d %s[%d]: %g with τ = 1, %g with τ = length/R", q.Name, j, g1[i][j], g2[i][j])
			}
		}
	}
}
