package caption

import (
	"context"
	"math/rand/v2"
	"testing"

	"attention/model"
	"attention/model/nn"
	"attention/model/vocab"
)

// benchModel has the shipped caption sizes with random weights, rounded to
// float16 as the shipped checkpoints store them (nn.Dense then holds them
// at half precision, as it does when serving): timing and allocations do
// not depend on the values otherwise.
func benchModel(b testing.TB) (*Model, []float32) {
	m := Random(Config{Rows: 7, Cols: 7, Feat: 1280, Proj: 512, Emb: 256, Hidden: 512, Att: 256, Vocab: 2540, Attention: true}, 1, 0)
	nn.RoundToHalf(m.P.List())
	rng := rand.New(rand.NewPCG(1, 2))
	feat := make([]float32, m.Cfg.R()*m.Cfg.Feat)
	for i := range feat {
		feat[i] = rng.Float32() * 2
	}
	return m, feat
}

// BenchmarkDecodeStep is one caption decoder step at batch 1: attention
// over 49 regions, the gate, the LSTM and the output layer. It must not
// allocate.
func BenchmarkDecodeStep(b *testing.B) {
	m, feat := benchModel(b)
	e, err := m.Encode(feat)
	if err != nil {
		b.Fatal(err)
	}
	st := &state{h: append([]float32(nil), e.h0...), c: append([]float32(nil), e.c0...)}
	sc := e.newScratch()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.step(st, vocab.BOS+i%100, sc)
	}
}

// BenchmarkInspect opens step 10 of a caption with attention set by hand
// on one region: the glass box's answer to an override.
func BenchmarkInspect(b *testing.B) {
	m, feat := benchModel(b)
	e, err := m.Encode(feat)
	if err != nil {
		b.Fatal(err)
	}
	prefix := []int{10, 11, 12, 13, 14, 15, 16, 17, 18, 19}
	w := make([]float32, m.Cfg.R())
	w[20] = 1
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := e.Inspect(prefix, w, 8); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWhatIf is the decode that answers a what-if on a caption, 20
// words: "forced" writes a chosen word as word 6 after the first five and
// goes on by itself; "override" also sets step 6's attention by hand on
// one region (the glass box's Continue). The photo's encoding is not
// included (BenchmarkRegions in model/mobilenet).
func BenchmarkWhatIf(b *testing.B) {
	m, feat := benchModel(b)
	e, err := m.Encode(feat)
	if err != nil {
		b.Fatal(err)
	}
	force := []int{10, 11, 12, 13, 14, 15}
	w := make([]float32, m.Cfg.R())
	w[20] = 1
	for _, tc := range []struct {
		name string
		opts model.Options
	}{
		{"forced", model.Options{TopK: 5, MaxLen: 20, Force: force}},
		{"override", model.Options{TopK: 5, MaxLen: 20, Force: force[:5], Override: &model.Override{Step: 5, Weights: w}}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			words := 0
			for i := 0; i < b.N; i++ {
				for _, err := range e.Decode(context.Background(), tc.opts) {
					if err != nil {
						b.Fatal(err)
					}
					words++
				}
			}
			b.ReportMetric(float64(words)/float64(b.N), "words/op")
		})
	}
}

// BenchmarkEncode is the caption model's view of one photo's 49 regions:
// the projection and the attention's U of every region, and the start
// state. "rows" is the same work one region at a time through nn.Linear,
// for comparison in the same run.
func BenchmarkEncode(b *testing.B) {
	m, feat := benchModel(b)
	b.Run("batched", func(b *testing.B) {
		for b.Loop() {
			if _, err := m.Encode(feat); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("rows", func(b *testing.B) {
		c, p := m.Cfg, m.P
		x, ux := make([]float32, c.Proj), make([]float32, c.Att)
		proj := nn.Linear{In: c.Feat, Out: c.Proj, W: p.ProjW.Data, B: p.ProjB.Data}
		u := nn.Linear{In: c.Proj, Out: c.Att, W: p.AttU.Data, B: p.AttB.Data}
		for b.Loop() {
			for i := range c.R() {
				proj.Forward(x, feat[i*c.Feat:(i+1)*c.Feat])
				u.Forward(ux, x)
			}
		}
	})
}
