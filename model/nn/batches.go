package nn

import "math/rand/v2"

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
