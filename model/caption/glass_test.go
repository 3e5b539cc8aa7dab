package caption

import (
	"testing"

	"attention/model/internal/glasstest"
)

func TestOverrideAndGlass(t *testing.T) {
	_, e := tinyEncoded(t, Config{Rows: 2, Cols: 3, Feat: 5, Proj: 4, Emb: 3, Hidden: 4, Att: 3, Vocab: 12, Attention: true}, 3)
	glasstest.Check(t, e)
}
