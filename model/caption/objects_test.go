package caption

import (
	"math"
	"testing"
)

func TestEntropy(t *testing.T) {
	if h := Entropy([]float32{0.25, 0.25, 0.25, 0.25}); math.Abs(h-math.Log(4)) > 1e-9 {
		t.Fatalf("entropy %g, want log 4", h)
	}
	if h := Entropy([]float32{1, 0, 0, 0}); h != 0 {
		t.Fatalf("entropy of a point %g, want 0", h)
	}
}
