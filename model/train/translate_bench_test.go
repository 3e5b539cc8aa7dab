package train

import (
	"math"
	"math/rand/v2"
	"testing"

	"attention/model/caption"
	"attention/model/translate"
)

// BenchmarkTrainStep is one training step (forward, backward, Adam) at
// the shipped en-de sizes on a full batch of 64 pairs, 16 source and 16
// target tokens: the graph cmd/train runs. Run with -tags openblas (and
// CGO_LDFLAGS=-lopenblas) for the BLAS training uses.
func BenchmarkTrainStep(b *testing.B) {
	// The shipped en-de sizes (random weights: the time does not depend on them).
	m := translate.Random(translate.Config{SrcLang: "en", TgtLang: "de", SrcVocab: 6230, TgtVocab: 8018, Emb: 256, EncHidden: 256, DecHidden: 256, Att: 256, PreOut: 256, Attention: true}, 1, 0)
	st, err := NewStepper(m.Cfg, m.P, 64, 16, 16)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	batch := make([]translate.Example, 64)
	for i := range batch {
		ex := translate.Example{Src: make([]int, 16), Tgt: make([]int, 15)}
		for j := range ex.Src {
			ex.Src[j] = 4 + rng.IntN(m.Cfg.SrcVocab-4)
		}
		for j := range ex.Tgt {
			ex.Tgt[j] = 4 + rng.IntN(m.Cfg.TgtVocab-4)
		}
		batch[i] = ex
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := st.Step(batch, 1e-3, 0.3); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(64*16*b.N)/b.Elapsed().Seconds(), "tok/s")
}

// BenchmarkCaptionTrainStep is one caption training step (forward,
// backward, Adam) at the shipped caption sizes on a full batch of 64
// captions of 12 words and the end, over random non-negative region
// features, with the doubly stochastic regulariser: the graph cmd/train
// -model caption runs (with -tags openblas, as BenchmarkTrainStep).
func BenchmarkCaptionTrainStep(b *testing.B) {
	c := caption.Config{Rows: 7, Cols: 7, Feat: 1280, Proj: 512, Emb: 256, Hidden: 512, Att: 256, Vocab: 2540, Attention: true}
	p := caption.NewParams(c)
	rng := rand.New(rand.NewPCG(5, 6))
	p.Init(rng)
	const B, T = 64, 13
	st, err := NewCaptionStepper(c, p, Reg{Lambda: 1, TauPerWord: true}, B, T)
	if err != nil {
		b.Fatal(err)
	}
	R, F := c.R(), c.Feat
	feat := make([]float32, B*R*F)
	for i := range feat {
		feat[i] = float32(math.Min(math.Abs(rng.NormFloat64()), 6))
	}
	batch := make([]caption.Example, B)
	for i := range batch {
		words := make([]int, T-1)
		for j := range words {
			words[j] = 4 + rng.IntN(c.Vocab-4)
		}
		batch[i] = caption.Example{Feat: feat[i*R*F : (i+1)*R*F], Words: words}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := st.Step(batch, 1e-3, 0.3); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(B*T*b.N)/b.Elapsed().Seconds(), "tok/s")
}
