package translate

import (
	"math/rand/v2"
	"strings"
	"testing"

	"attention/model/nn"
	"attention/model/vocab"
)

// benchModel has the shipped en-de sizes with random weights, rounded to
// float16 as the shipped checkpoints store them (nn.Dense then holds them
// at half precision, as it does when serving): timing and allocations do
// not depend on the values otherwise.
func benchModel() *Model {
	c := Config{SrcLang: "en", TgtLang: "de", SrcVocab: 6230, TgtVocab: 8018, Emb: 256, EncHidden: 256, DecHidden: 256, Att: 256, PreOut: 256, Attention: true}
	p := NewParams(c)
	p.Init(rand.New(rand.NewPCG(1, 1)))
	nn.RoundToHalf(p.List())
	words := func(n int) []string {
		w := []string{"<pad>", "<unk>", "<s>", "</s>"}
		for i := 4; i < n; i++ {
			w = append(w, "w"+strings.Repeat("x", i%7)+string(rune('a'+i%26))+string(rune('a'+i/26%26))+string(rune('a'+i/676)))
		}
		return w
	}
	src, _ := vocab.New(words(c.SrcVocab))
	tgt, _ := vocab.New(words(c.TgtVocab))
	return &Model{Cfg: c, P: p, Src: src, Tgt: tgt}
}

// BenchmarkDecodeStep is one decoder step at batch 1 over a 12-word
// source: attention, LSTM, output layer. It must not allocate.
func BenchmarkDecodeStep(b *testing.B) {
	m := benchModel()
	e := m.Encode(strings.Fields("a man in a blue shirt is riding a bike down the"))
	st := &state{h: append([]float32(nil), e.h0...), c: make([]float32, m.Cfg.DecHidden)}
	sc := e.newScratch()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.step(st, vocab.BOS+i%100, sc)
	}
}

// BenchmarkEncode is the bidirectional encoder over 12 words.
func BenchmarkEncode(b *testing.B) {
	m := benchModel()
	words := strings.Fields("a man in a blue shirt is riding a bike down the")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		m.Encode(words)
	}
}

// BenchmarkTrainStep is one training step (forward, backward, Adam) at
// the shipped en-de sizes on a full batch of 64 pairs, 16 source and 16
// target tokens: the graph cmd/train runs. Run with -tags openblas (and
// CGO_LDFLAGS=-lopenblas) for the BLAS training uses.
func BenchmarkTrainStep(b *testing.B) {
	m := benchModel()
	st, err := NewStepper(m.Cfg, m.P, 64, 16, 16)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	batch := make([]Example, 64)
	for i := range batch {
		ex := Example{Src: make([]int, 16), Tgt: make([]int, 15)}
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
