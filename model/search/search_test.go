package search

import (
	"context"
	"errors"
	"math"
	"slices"
	"testing"

	"attention/model"
	"attention/model/vocab"
)

// hashed is a table with a fixed pseudo-random distribution per prefix
// over the real words and </s>; squared sharpens it.
func hashed(seed uint64, squared bool) table {
	return table{next: func(prefix []int) []float32 {
		h := seed*0x9e3779b97f4a7c15 + 1
		for _, id := range prefix {
			h = (h ^ uint64(id)) * 0x100000001b3
		}
		p := make([]float32, V)
		var sum float32
		for id := vocab.EOS; id < V; id++ {
			h ^= h << 13
			h ^= h >> 7
			h ^= h << 17
			p[id] = float32(h%1000 + 1)
			if squared {
				p[id] *= p[id]
			}
			sum += p[id]
		}
		for id := range p {
			p[id] /= sum
		}
		return p
	}}
}

// table is a hand-made decoder over a five-word vocabulary (ids 4-8):
// each step's distribution depends on the words so far, given by next.
type table struct {
	next func(prefix []int) []float32 // over the whole vocabulary, ids 0-8
}

func (d table) Start() []int { return nil }
func (d table) Step(st []int, prev int) ([]int, []float32, []float32) {
	if prev != vocab.BOS {
		st = append(slices.Clone(st), prev)
	}
	return st, d.next(st), []float32{1}
}
func (d table) Word(id int) string                              { return string(rune('A' + id - 4)) }
func (d table) Copy(int, []float32, []model.Step) (string, int) { return "", 0 }

const V = 9 // pad, unk, <s>, </s>, A-E

// probs builds a distribution from (id, p) pairs; the rest of the mass is
// spread over the other real words and </s>.
func probs(pairs ...float32) []float32 {
	p := make([]float32, V)
	var used float32
	set := map[int]bool{}
	for i := 0; i < len(pairs); i += 2 {
		p[int(pairs[i])] = pairs[i+1]
		used += pairs[i+1]
		set[int(pairs[i])] = true
	}
	var free []int
	for id := vocab.EOS; id < V; id++ {
		if !set[id] {
			free = append(free, id)
		}
	}
	for _, id := range free {
		p[id] = (1 - used) / float32(len(free))
	}
	return p
}

func decode(t *testing.T, d table, opts model.Options) []int {
	t.Helper()
	var out []int
	for st, err := range Decode(context.Background(), d, opts) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, st.TokenID)
	}
	return out
}

// score is beam search's criterion: log p (with </s> when finished) over
// GNMT's length penalty for the words and </s>.
func score(d table, seq []int, finished bool, alpha float64) float64 {
	var lp float64
	var prefix []int
	for t, id := range seq {
		p := d.next(prefix)
		if t == 0 {
			p[vocab.EOS] = 0
		}
		lp += math.Log(float64(p[id]))
		prefix = append(prefix, id)
	}
	if finished {
		lp += math.Log(float64(d.next(prefix)[vocab.EOS]))
	}
	return lp / lengthPenalty(len(seq)+1, alpha)
}

// exhaustive is the best of every output up to maxLen words (those cut at
// maxLen unfinished, as beam search counts them).
func exhaustive(d table, maxLen int, alpha float64) ([]int, float64) {
	best, bestScore := []int(nil), math.Inf(-1)
	var walk func(seq []int)
	walk = func(seq []int) {
		if len(seq) > 0 {
			if s := score(d, seq, len(seq) < maxLen, alpha); s > bestScore {
				best, bestScore = slices.Clone(seq), s
			}
		}
		if len(seq) == maxLen {
			return
		}
		for id := 4; id < V; id++ {
			walk(append(seq, id))
		}
	}
	walk(nil)
	return best, bestScore
}

// Greedy takes the likelier first word and is stuck with a flat future;
// beam search keeps the second and finds the sentence exhaustive search
// says is best.
func TestBeamFindsWhatGreedyMisses(t *testing.T) {
	const A, B = 4, 5
	d := table{next: func(prefix []int) []float32 {
		switch {
		case len(prefix) == 0:
			return probs(A, 0.55, B, 0.44)
		case prefix[0] == B && len(prefix) == 1:
			return probs(vocab.EOS, 0.95)
		case len(prefix) >= 4:
			return probs(vocab.EOS, 0.9)
		}
		return probs() // flat: 1/6 for each word and </s>
	}}
	opts := model.Options{MaxLen: 4, LenAlpha: 0.6}
	greedy := decode(t, d, model.Options{Beam: 1, MaxLen: 4})
	if greedy[0] != A {
		t.Fatalf("greedy starts with %d, want A", greedy[0])
	}
	best, _ := exhaustive(d, 4, 0.6)
	opts.Beam = 2
	if got := decode(t, d, opts); !slices.Equal(got, best) || !slices.Equal(best, []int{B}) {
		t.Fatalf("beam 2 wrote %v, exhaustive search's best is %v; want [B]", got, best)
	}
}

// On random models of five words, beam search at its widest never scores
// above exhaustive search (its output is one of the candidates), and finds
// the exhaustive best for nearly all of them.
func TestBeamAgainstExhaustive(t *testing.T) {
	const maxLen, alpha = 4, 0.6
	found := 0
	const models = 30
	for seed := range models {
		d := hashed(uint64(seed), true)
		best, bestScore := exhaustive(d, maxLen, alpha)
		got := decode(t, d, model.Options{Beam: model.MaxBeam, MaxLen: maxLen, LenAlpha: alpha})
		gotScore := score(d, got, len(got) < maxLen, alpha)
		if gotScore > bestScore+1e-9 {
			t.Fatalf("seed %d: beam's %v scores %.4f, above the exhaustive best %v (%.4f)", seed, got, gotScore, best, bestScore)
		}
		if slices.Equal(got, best) {
			found++
		}
	}
	t.Logf("beam %d found the exhaustive best on %d of %d models", model.MaxBeam, found, models)
	if found < models*8/10 {
		t.Fatalf("beam %d found the exhaustive best on only %d of %d models", model.MaxBeam, found, models)
	}
}

// GNMT's length penalty, worked by hand: ((5+n)/6)^α.
func TestLengthPenalty(t *testing.T) {
	for _, c := range []struct {
		n     int
		alpha float64
		want  float64
	}{
		{1, 0.6, 1},
		{7, 0.6, math.Pow(2, 0.6)}, // (12/6)^0.6 = 1.5157
		{7, 1, 2},
		{13, 0.5, math.Sqrt(3)},
		{4, 0, 1},
	} {
		if got := lengthPenalty(c.n, c.alpha); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("lengthPenalty(%d, %g) = %g, want %g", c.n, c.alpha, got, c.want)
		}
	}
}

// NoUnknown keeps the unknown-word token out of greedy and beam outputs
// even where it is the most likely word.
func TestNoUnknown(t *testing.T) {
	d := table{next: func(prefix []int) []float32 {
		if len(prefix) < 2 {
			return probs(vocab.Unk, 0.6, 4, 0.3)
		}
		return probs(vocab.EOS, 0.9)
	}}
	for _, beam := range []int{1, 3} {
		if got := decode(t, d, model.Options{Beam: beam}); !slices.Contains(got, vocab.Unk) {
			t.Fatalf("beam %d without NoUnknown: %v, want the unknown word", beam, got)
		}
		got := decode(t, d, model.Options{Beam: beam, NoUnknown: true})
		if slices.Contains(got, vocab.Unk) || len(got) == 0 || got[0] != 4 {
			t.Fatalf("beam %d with NoUnknown: %v, want it to start with word 4 and hold no unknown word", beam, got)
		}
	}
}

// Forcing: imposing the model's own words reproduces its output exactly;
// imposing another word makes the decoder go on from that word by itself;
// an id that is no word is refused.
func TestForce(t *testing.T) {
	const A, B, C = 4, 5, 6
	d := table{next: func(prefix []int) []float32 {
		switch {
		case len(prefix) == 0:
			return probs(A, 0.6, B, 0.3)
		case len(prefix) >= 3:
			return probs(vocab.EOS, 0.9)
		case prefix[0] == A:
			return probs(C, 0.7)
		}
		return probs(A, 0.8) // after B: A, A, then the end
	}}
	steps := func(opts model.Options) []model.Step {
		t.Helper()
		var out []model.Step
		for st, err := range Decode(context.Background(), d, opts) {
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, st)
		}
		return out
	}
	for _, beam := range []int{1, 3} {
		own := steps(model.Options{Beam: beam, MaxLen: 5})
		var ids []int
		for _, s := range own {
			ids = append(ids, s.TokenID)
		}
		// Greedy goes on by itself after any prefix of its own words; a
		// beam is held to one hypothesis while forced, so force all of it.
		for k := 1; k <= len(ids); k++ {
			if beam > 1 && k < len(ids) {
				continue
			}
			again := steps(model.Options{Beam: beam, MaxLen: 5, Force: ids[:k]})
			if len(again) != len(own) {
				t.Fatalf("beam %d, forcing %v: %d words, want %d", beam, ids[:k], len(again), len(own))
			}
			for i := range own {
				if again[i].TokenID != own[i].TokenID || again[i].Prob != own[i].Prob || again[i].Forced != (i < k) {
					t.Errorf("beam %d, forcing %v: step %d = %+v, want %+v (forced %v)", beam, ids[:k], i, again[i], own[i], i < k)
				}
			}
		}
	}
	// The model starts with A; force B and it goes on with A, A.
	var got []int
	for _, s := range steps(model.Options{Beam: 1, MaxLen: 5, Force: []int{B}}) {
		got = append(got, s.TokenID)
	}
	if !slices.Equal(got, []int{B, A, A}) {
		t.Errorf("forcing B: %v, want B A A", got)
	}
	// The alternatives carry the ids to force them with.
	if own := steps(model.Options{Beam: 1, MaxLen: 5}); own[0].TopK[1].ID != B || own[0].TopK[1].Token != d.Word(B) {
		t.Errorf("second alternative %+v, want B with its id", own[0].TopK[1])
	}
	for _, bad := range [][]int{{-1}, {V}, {vocab.EOS}, {vocab.BOS}, {A, vocab.Pad}, make([]int, 6)} {
		var err error
		for _, e := range Decode(context.Background(), d, model.Options{Beam: 1, MaxLen: 5, Force: bad}) {
			if e != nil {
				err = e
			}
		}
		var ie *model.InputError
		if !errors.As(err, &ie) {
			t.Errorf("forcing %v: error %v, want an input error", bad, err)
		}
	}
}

// Each step reports its attention's entropy and the coverage so far: the
// sums of every earlier step's attention and its own, per position.
func TestEntropyAndCoverage(t *testing.T) {
	atts := [][]float32{{1, 0, 0}, {0.5, 0.5, 0}, {1.0 / 3, 1.0 / 3, 1.0 / 3}}
	d := attTable{atts: atts}
	var got []model.Step
	for st, err := range Decode(context.Background(), d, model.Options{Beam: 1, MaxLen: 3}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, st)
	}
	if len(got) != 3 {
		t.Fatalf("%d steps, want 3", len(got))
	}
	wantH := []float64{0, math.Log(2), math.Log(3)}
	sum := make([]float64, 3)
	for k, st := range got {
		if math.Abs(float64(st.Entropy)-wantH[k]) > 1e-6 {
			t.Errorf("step %d entropy %v, want %v", k, st.Entropy, wantH[k])
		}
		for i := range sum {
			sum[i] += float64(atts[k][i])
			if math.Abs(float64(st.Coverage[i])-sum[i]) > 1e-6 {
				t.Errorf("step %d coverage %v, want column sums %v", k, st.Coverage, sum)
				break
			}
		}
	}
}

// attTable writes word A at every step, with the given attention rows.
type attTable struct{ atts [][]float32 }

func (d attTable) Start() int { return 0 }
func (d attTable) Step(st int, prev int) (int, []float32, []float32) {
	return st + 1, probs(4, 0.9), d.atts[min(st, len(d.atts)-1)]
}
func (d attTable) Word(id int) string                              { return string(rune('A' + id - 4)) }
func (d attTable) Copy(int, []float32, []model.Step) (string, int) { return "", 0 }

// The tree a beam search streams: every level keeps at most the beam's
// width of hypotheses, each grows from a node of the level before, its
// scores are its log-probability over the length penalty, and the winner's
// path is the decoded output (its words, then the end of sentence).
func TestTreeWinnerIsTheOutput(t *testing.T) {
	for seed := range 10 {
		d := hashed(uint64(seed+7), false)
		var levels []model.TreeLevel
		opts := model.Options{Beam: 3, MaxLen: 5, LenAlpha: 0.6, TopK: 3, Tree: func(l model.TreeLevel) { levels = append(levels, l) }}
		got := decode(t, d, opts)
		byID := map[int]model.TreeNode{}
		for i, l := range levels[:len(levels)-1] {
			if l.Step != i || len(l.Nodes) == 0 || len(l.Nodes) > 3 || l.Winner != -1 {
				t.Fatalf("seed %d level %d: step %d, %d nodes, winner %d", seed, i, l.Step, len(l.Nodes), l.Winner)
			}
			for _, n := range l.Nodes {
				if p, ok := byID[n.Parent]; n.Parent != -1 && (!ok || p.Step != i-1 || p.Final) || n.Parent == -1 && i != 0 {
					t.Fatalf("seed %d: node %+v grows from %d", seed, n, n.Parent)
				}
				if want := n.LogProb / lengthPenalty(n.Step+1, 0.6); math.Abs(n.Score-want) > 1e-12 {
					t.Fatalf("seed %d: node score %g, want %g", seed, n.Score, want)
				}
				byID[n.ID] = n
			}
		}
		last := levels[len(levels)-1]
		var path []int
		for id := last.Winner; id != -1; id = byID[id].Parent {
			path = append([]int{byID[id].TokenID}, path...)
		}
		want := got
		if len(path) > 0 && path[len(path)-1] == vocab.EOS {
			want = append(slices.Clone(got), vocab.EOS)
		}
		if !slices.Equal(path, want) {
			t.Fatalf("seed %d: the winner's path %v, the output %v", seed, path, got)
		}
	}
}

// copyTable is table with word 8 ("E") standing for a placeholder that
// copies the source's one name: Copy marks it copied from position 0.
type copyTable struct{ table }

func (d copyTable) Copy(id int, _ []float32, _ []model.Step) (string, int) {
	if id == 8 {
		return "Anna", 0
	}
	return "", 0
}
func (d copyTable) Copies(prev []model.Step) (int, []int) {
	if slices.ContainsFunc(prev, func(s model.Step) bool { return s.Copied }) {
		return 1, nil
	}
	return 0, []int{8}
}

// A Copier's beam search ends with a hypothesis that copied its source's
// name when one does: the model would stop after "A", and the search goes
// on to the placeholder. When no hypothesis copies it, the one that ended
// first is the output, not the beams that went on without copying.
// Greedy decoding writes what the model chooses.
func TestEndWaitsForCopies(t *testing.T) {
	next := func(pE float32) func(prefix []int) []float32 {
		return func(prefix []int) []float32 {
			switch {
			case len(prefix) == 0:
				return probs(4, 0.9, 8, pE/10)
			case slices.Contains(prefix, 8):
				return probs(vocab.EOS, 0.9)
			default: // after "A": the end, or else the placeholder
				return probs(vocab.EOS, 0.7, 8, pE)
			}
		}
	}
	run := func(d Decoder[[]int], beam int) (got []int, copied []string) {
		for st, err := range Decode(context.Background(), d, model.Options{Beam: beam}) {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, st.TokenID)
			if st.Copied {
				copied = append(copied, st.Token)
			}
		}
		return got, copied
	}
	for _, beam := range []int{1, 3} {
		if got, _ := run(table{next: next(0.2)}, beam); !slices.Equal(got, []int{4}) {
			t.Fatalf("beam %d, no copies to make: %v, want [4]", beam, got)
		}
	}
	if got, _ := run(copyTable{table{next: next(0.2)}}, 1); !slices.Equal(got, []int{4}) {
		t.Fatalf("greedy, a name to copy: %v, want [4]", got)
	}
	if got, copied := run(copyTable{table{next: next(0.2)}}, 3); !slices.Equal(got, []int{4, 8}) || !slices.Equal(copied, []string{"Anna"}) {
		t.Fatalf("beam 3, a name to copy: %v (copied %q), want [4 8] with Anna copied", got, copied)
	}
	if got, _ := run(copyTable{table{next: next(0)}}, 3); !slices.Equal(got, []int{4}) {
		t.Fatalf("beam 3, a name the model never copies: %v, want [4]", got)
	}
}

// When the candidates kept at a step have copied fewer numbers and names
// than one left out, that one takes the beam's last place: with a beam of
// 2, "A" and "B" would be kept and neither can ever copy, so the name
// ("E") would be lost.
func TestBeamKeepsAWayToTheCopies(t *testing.T) {
	d := copyTable{table{next: func(prefix []int) []float32 {
		if len(prefix) == 0 {
			return probs(4, 0.5, 5, 0.4, 8, 0.05)
		}
		p := probs(vocab.EOS, 0.95)
		if prefix[0] != 8 {
			p[8] = 0
		}
		return p
	}}}
	var got []int
	for st, err := range Decode(context.Background(), d, model.Options{Beam: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, st.TokenID)
	}
	if !slices.Equal(got, []int{8}) {
		t.Fatalf("beam 2: %v, want [8] (the name copied)", got)
	}
}
