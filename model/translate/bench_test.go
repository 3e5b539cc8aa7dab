package translate

import (
	"context"
	"strings"
	"testing"

	"attention/model"
	"attention/model/nn"
	"attention/model/vocab"
)

// benchModel has the shipped en-de sizes with random weights, rounded to
// float16 as the shipped checkpoints store them (nn.Dense then holds them
// at half precision, as it does when serving): timing and allocations do
// not depend on the values otherwise.
func benchModel() *Model {
	m := Random(Config{SrcLang: "en", TgtLang: "de", SrcVocab: 6230, TgtVocab: 8018, Emb: 256, EncHidden: 256, DecHidden: 256, Att: 256, PreOut: 256, Attention: true}, 1, 0)
	nn.RoundToHalf(m.P.List())
	return m
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

// benchDecode decodes 20 words (no end of sentence: the random model
// rarely writes one) over a 12-word source with opts, b.N times.
func benchDecode(b *testing.B, opts model.Options) {
	m := benchModel()
	e := m.Encode(strings.Fields("a man in a blue shirt is riding a bike down the"))
	opts.MaxLen = 20
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		for _, err := range e.Decode(context.Background(), opts) {
			if err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkBeam5 is a beam search of width 5; BenchmarkBeam5Tree the same
// streaming its search tree (model.Options.Tree), whose cost is the
// difference.
func BenchmarkBeam5(b *testing.B) { benchDecode(b, model.Options{Beam: 5, TopK: 5}) }

func BenchmarkBeam5Tree(b *testing.B) {
	benchDecode(b, model.Options{Beam: 5, TopK: 5, Tree: func(model.TreeLevel) {}})
}

// BenchmarkInspect opens step 10 of a translation with attention set by
// hand: the glass box's answer to an override (10 steps fed, one more
// recorded).
func BenchmarkInspect(b *testing.B) {
	m := benchModel()
	e := m.Encode(strings.Fields("a man in a blue shirt is riding a bike down the"))
	prefix := []int{10, 11, 12, 13, 14, 15, 16, 17, 18, 19}
	w := make([]float32, 12)
	w[3] = 1
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := e.Inspect(prefix, w, 8); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWhatIf is the decode that answers a what-if, 20 words over a
// 12-word source: "forced" writes a chosen word as word 11 after the first
// ten and goes on by itself; "override" also sets step 11's attention by
// hand (the glass box's Continue).
func BenchmarkWhatIf(b *testing.B) {
	force := []int{10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}
	w := make([]float32, 12)
	w[3] = 1
	b.Run("forced", func(b *testing.B) { benchDecode(b, model.Options{TopK: 5, Force: force}) })
	b.Run("override", func(b *testing.B) {
		benchDecode(b, model.Options{TopK: 5, Force: force[:10], Override: &model.Override{Step: 10, Weights: w}})
	})
}
