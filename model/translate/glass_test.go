package translate

import (
	"testing"

	"attention/model/internal/glasstest"
)

func TestOverrideAndGlass(t *testing.T) {
	m := tinyModel(true, 2)
	glasstest.Check(t, m.Encode([]string{"e", "f", "g", "h", "."}))
}
