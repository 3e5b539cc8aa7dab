package nn

import (
	"math/rand/v2"
	"testing"
)

// Every batch comes out once, and the shapes are mixed through the epoch
// rather than run one after another.
func TestInterleave(t *testing.T) {
	var in []int // a batch is its shape here: 8 shapes of 40 batches
	for s := range 8 {
		for range 40 {
			in = append(in, s)
		}
	}
	out := Interleave(in, func(b int) int { return b }, 5, rand.New(rand.NewPCG(1, 2)))
	if len(out) != len(in) {
		t.Fatalf("%d batches out of %d", len(out), len(in))
	}
	count := map[int]int{}
	switches := 0
	for i, b := range out {
		count[b]++
		if i > 0 && b != out[i-1] {
			switches++
		}
	}
	for s := range 8 {
		if count[s] != 40 {
			t.Fatalf("shape %d: %d batches, want 40", s, count[s])
		}
	}
	// The last quarter of the epoch holds several shapes.
	seen := map[int]bool{}
	for _, b := range out[3*len(out)/4:] {
		seen[b] = true
	}
	if len(seen) < 4 || switches < 40 {
		t.Fatalf("%d shapes in the last quarter, %d switches", len(seen), switches)
	}
}
