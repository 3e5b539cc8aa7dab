package train

import (
	"math/rand/v2"
	"testing"

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
