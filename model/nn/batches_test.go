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

// Graphs builds a shape once while it stays among the Max most recent.
func TestGraphs(t *testing.T) {
	builds := 0
	c := Graphs[int, string]{Max: 2, Build: func(k int) (string, error) {
		builds++
		return string(rune('a' + k)), nil
	}}
	for _, k := range []int{1, 2, 1, 2, 3, 1, 3} {
		g, err := c.Get(k)
		if err != nil || g != string(rune('a'+k)) {
			t.Fatalf("Get(%d) = %q, %v", k, g, err)
		}
	}
	// 1 and 2 are built; 3 evicts 1 (2 is the more recent); 1 evicts 2; 3 is kept.
	if builds != 4 {
		t.Fatalf("%d builds, want 4", builds)
	}
}
