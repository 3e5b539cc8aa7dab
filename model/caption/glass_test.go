package caption

import (
	"testing"

	"attention/model/internal/glasstest"
)

func TestOverrideAndGlass(t *testing.T) {
	m := Random(Config{Rows: 2, Cols: 3, Feat: 5, Proj: 4, Emb: 3, Hidden: 4, Att: 3, Vocab: 12, Attention: true}, 3, 0.5)
	feat := make([]float32, m.Cfg.R()*m.Cfg.Feat)
	for i := range feat {
		feat[i] = float32(i%7) / 3
	}
	e, err := m.Encode(feat)
	if err != nil {
		t.Fatal(err)
	}
	glasstest.Check(t, e)
}
