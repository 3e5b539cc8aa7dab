package nn

import (
	"math/rand/v2"
	"runtime"
)

// ShapeRun is how many batches of one shape the training loops run
// together (see Interleave).
const ShapeRun = 8

// Interleave orders an epoch's batches for graphs unrolled per batch
// shape: batches of one shape (key) run together in runs of at most
// runLen, and the runs of all shapes are shuffled together. Each switch
// of shape may cost a graph build, but a long stretch of one shape would
// teach the model that shape's sentence length: the stretch just before a
// dev evaluation decides whether the model stops too early or never.
func Interleave[B any, K comparable](batches []B, key func(B) K, runLen int, rng *rand.Rand) []B {
	groups := map[K][]B{}
	var keys []K
	for _, b := range batches {
		k := key(b)
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], b)
	}
	var runs [][]B
	for _, k := range keys {
		g := groups[k]
		for i := 0; i < len(g); i += runLen {
			runs = append(runs, g[i:min(i+runLen, len(g))])
		}
	}
	rng.Shuffle(len(runs), func(i, j int) { runs[i], runs[j] = runs[j], runs[i] })
	out := make([]B, 0, len(batches))
	for _, r := range runs {
		out = append(out, r...)
	}
	return out
}

// Graphs keeps the most recently used unrolled graphs, by shape. Each
// graph holds its last run's values (hundreds of MB), so only a few are
// kept; the least recently used is dropped for a new one.
type Graphs[K comparable, G any] struct {
	Max   int
	Build func(K) (G, error)
	keys  []K
	gs    []G
}

// Get returns the graph for k, building it if it is not kept.
func (c *Graphs[K, G]) Get(k K) (G, error) {
	for i, kk := range c.keys {
		if kk == k {
			g := c.gs[i]
			copy(c.keys[1:i+1], c.keys[:i])
			copy(c.gs[1:i+1], c.gs[:i])
			c.keys[0], c.gs[0] = k, g
			return g, nil
		}
	}
	if n := max(c.Max, 1); len(c.keys) >= n {
		var zero G
		for i := n - 1; i < len(c.gs); i++ {
			c.gs[i] = zero
		}
		c.keys, c.gs = c.keys[:n-1], c.gs[:n-1]
		runtime.GC()
	}
	g, err := c.Build(k)
	if err != nil {
		var zero G
		return zero, err
	}
	c.keys = append([]K{k}, c.keys...)
	c.gs = append([]G{g}, c.gs...)
	return g, nil
}
