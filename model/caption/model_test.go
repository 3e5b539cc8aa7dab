package caption

import (
	"context"
	"math"
	"testing"

	"attention/model"
)

// tinyEncoded is a small random model's encoding of made-up features.
func tinyEncoded(t *testing.T, c Config, seed uint64) (*Model, *Encoded) {
	t.Helper()
	m := Random(c, seed, 0.3)
	feat := make([]float32, m.Cfg.R()*m.Cfg.Feat)
	for i := range feat {
		feat[i] = float32(i%7) / 3
	}
	e, err := m.Encode(feat)
	if err != nil {
		t.Fatal(err)
	}
	return m, e
}

func TestDecodeShapes(t *testing.T) {
	m, e := tinyEncoded(t, Config{Rows: 2, Cols: 2, Feat: 5, Proj: 4, Emb: 3, Hidden: 4, Att: 3, Vocab: 10, Attention: true}, 8)
	if s := e.Source(); s.Kind != "image" || s.Rows != 2 || s.Cols != 2 {
		t.Fatalf("source %+v", s)
	}
	for _, beam := range []int{1, 3} {
		n := 0
		for st, err := range e.Decode(context.Background(), model.Options{Beam: beam, MaxLen: 8}) {
			if err != nil {
				t.Fatal(err)
			}
			var sum float64
			for _, a := range st.Attention {
				sum += float64(a)
			}
			if len(st.Attention) != 4 || math.Abs(sum-1) > 1e-5 {
				t.Fatalf("beam %d step %d attention %v", beam, n, st.Attention)
			}
			n++
		}
		if n == 0 {
			t.Fatalf("beam %d: no words", beam)
		}
	}
	if _, err := m.Encode(make([]float32, 3)); err == nil {
		t.Fatal("want an error for features of the wrong size")
	}
}
