// Package search turns a step function into a stream of decoded words:
// greedy decoding, which yields each word as it is made, and beam search.
// Both models decode through it.
package search

import (
	"context"
	"fmt"
	"iter"
	"math"
	"slices"
	"sort"

	"attention/model"
	"attention/model/nn"
	"attention/model/vocab"
)

// Decoder is one model's decoding step over an encoded source.
type Decoder[S any] interface {
	// Start is the initial state.
	Start() S
	// Step feeds prev and returns the next state, the distribution over the
	// vocabulary and the attention weights. probs and att may be scratch
	// space that the next call overwrites; next must not alias st.
	Step(st S, prev int) (next S, probs, att []float32)
	// Word is the text of a vocabulary id.
	Word(id int) string
	// Copy names the source token to show for a written id that stands
	// for a copy (the unknown-word token, a number or name placeholder),
	// and its source position, given the step's attention att and the
	// hypothesis's earlier steps; "" keeps the word as it is.
	Copy(id int, att []float32, prev []model.Step) (word string, from int)
}

// BatchDecoder is a Decoder that can also step several hypotheses at
// once, sharing the passes over its weights; beam search uses it when a
// decoder has it.
type BatchDecoder[S any] interface {
	Decoder[S]
	// StepAll is Step for every sts[i] fed prev[i], for at most
	// model.MaxBeam states. The slices of probs and att may be scratch
	// space that the next call overwrites.
	StepAll(sts []S, prev []int) (next []S, probs, att [][]float32)
}

// Copier is a Decoder whose source holds words that must reach the
// output as written (numbers and names, which the model writes as
// placeholders and Copy fills in).
type Copier interface {
	// Copies reports how many such words of the source the steps prev
	// copied, and the ids that would copy one more (none: all are copied).
	Copies(prev []model.Step) (copied int, next []int)
}

// mask removes what may never be written: padding, the start token, the
// end of sentence before the first word (an empty output), and with
// opts.NoUnknown the unknown-word token.
func mask(p []float32, t int, opts model.Options) {
	p[vocab.Pad], p[vocab.BOS] = 0, 0
	if t == 0 {
		p[vocab.EOS] = 0
	}
	if opts.NoUnknown {
		p[vocab.Unk] = 0
	}
}

// makeStep is the step that writes id, given the step's distribution,
// its attention, the most likely words alts (best first) and the
// hypothesis's earlier steps.
func makeStep[S any](d Decoder[S], index, id int, probs, att []float32, alts []int, prev []model.Step) model.Step {
	st := model.Step{Index: index, TokenID: id, Token: d.Word(id), Prob: probs[id],
		Attention: append([]float32(nil), att...), TopK: make([]model.Alt, 0, len(alts))}
	for _, a := range alts {
		st.TopK = append(st.TopK, model.Alt{Token: d.Word(a), ID: a, Prob: probs[a]})
	}
	st.Unknown = id == vocab.Unk
	st.Coverage = make([]float32, len(att))
	if len(prev) > 0 && len(prev[len(prev)-1].Coverage) == len(att) {
		copy(st.Coverage, prev[len(prev)-1].Coverage)
	}
	var h float64
	for i, a := range att {
		st.Coverage[i] += a
		if a > 0 {
			h -= float64(a) * math.Log(float64(a))
		}
	}
	st.Entropy = float32(h)
	if w, from := d.Copy(id, att, prev); w != "" {
		st.Token, st.Copied, st.CopiedFrom = w, true, from
	}
	return st
}

// forced is the word imposed at step t (opts.Force), or -1. An id that is
// no word of the model (out of range, padding, the start or the end of the
// sentence) is an input error.
func forced(opts model.Options, t, vocabSize int) (int, error) {
	if t >= len(opts.Force) {
		return -1, nil
	}
	id := opts.Force[t]
	if id < 0 || id >= vocabSize || id == vocab.Pad || id == vocab.BOS || id == vocab.EOS || (id == vocab.Unk && opts.NoUnknown) {
		return -1, &model.InputError{Kind: model.ErrInvalidInput, Msg: fmt.Sprintf("force: word %d (id %d) is not a word this model can write", t+1, id)}
	}
	return id, nil
}

// Decode yields words until the end-of-sentence token (not yielded) or
// opts.MaxLen. With a beam wider than 1 the search runs to the end first
// and then yields the best hypothesis's steps. The words of opts.Force
// come first, marked Forced. A decode that ends before the step whose
// attention opts.Override sets (so that the override was never used) ends
// with an input error after its steps.
func Decode[S any](ctx context.Context, d Decoder[S], opts model.Options) iter.Seq2[model.Step, error] {
	steps := decodeSteps(ctx, d, opts)
	o := opts.Override
	if o == nil {
		return steps
	}
	return func(yield func(model.Step, error) bool) {
		n := 0
		for s, err := range steps {
			if !yield(s, err) || err != nil {
				return
			}
			n++
		}
		if n <= o.Step {
			yield(model.Step{}, &model.InputError{Kind: model.ErrInvalidInput, Msg: fmt.Sprintf("override: the output ended after %d words, before step %d, whose attention was set (steps count from 0)", n, o.Step)})
		}
	}
}

// decodeSteps is Decode without the override check.
func decodeSteps[S any](ctx context.Context, d Decoder[S], opts model.Options) iter.Seq2[model.Step, error] {
	opts = opts.Normalize()
	if len(opts.Force) > opts.MaxLen {
		return func(yield func(model.Step, error) bool) {
			yield(model.Step{}, &model.InputError{Kind: model.ErrInvalidInput, Msg: fmt.Sprintf("force: at most %d words", opts.MaxLen)})
		}
	}
	if opts.Beam > 1 {
		return beam(ctx, d, opts)
	}
	return func(yield func(model.Step, error) bool) {
		st, prev := d.Start(), vocab.BOS
		var steps []model.Step
		for t := 0; t < opts.MaxLen; t++ {
			if err := ctx.Err(); err != nil {
				yield(model.Step{}, err)
				return
			}
			next, probs, att := d.Step(st, prev)
			mask(probs, t, opts)
			top := nn.TopK(probs, max(1, opts.TopK))
			id := top[0]
			f, err := forced(opts, t, len(probs))
			if err != nil {
				yield(model.Step{}, err)
				return
			}
			if f >= 0 {
				id = f
			}
			if id == vocab.EOS {
				return
			}
			step := makeStep(d, t, id, probs, att, top[:min(opts.TopK, len(top))], steps)
			step.Forced = f >= 0
			steps = append(steps, step)
			if !yield(step, nil) {
				return
			}
			st, prev = next, id
		}
	}
}

type hyp[S any] struct {
	st    S
	logp  float64
	steps []model.Step
	last  int
	node  int // its node in the tree (-1: the start)
}

// lengthPenalty is GNMT's ((5+n)/6)^α, which keeps beams from preferring
// short outputs.
func lengthPenalty(n int, alpha float64) float64 { return math.Pow((5+float64(n))/6, alpha) }

// stepAll steps every hypothesis, in one batch where d can.
func stepAll[S any](d Decoder[S], beams []*hyp[S]) (next []S, probs, att [][]float32) {
	sts, prev := make([]S, len(beams)), make([]int, len(beams))
	for i, b := range beams {
		sts[i], prev[i] = b.st, b.last
	}
	if bd, ok := d.(BatchDecoder[S]); ok {
		return bd.StepAll(sts, prev)
	}
	next, probs, att = make([]S, len(beams)), make([][]float32, len(beams)), make([][]float32, len(beams))
	for i := range beams {
		n, p, a := d.Step(sts[i], prev[i])
		// Step's probs and att may be scratch space: keep copies.
		next[i], probs[i], att[i] = n, append([]float32(nil), p...), append([]float32(nil), a...)
	}
	return next, probs, att
}

// treeNode is a kept hypothesis as the tree shows it. A finished one's
// word is the end of sentence, and its length counts it, as the search's
// final comparison does.
func treeNode[S any](d Decoder[S], id, parent, t, word int, logp float64, final bool, step model.Step, alpha float64) model.TreeNode {
	n := model.TreeNode{ID: id, Parent: parent, Step: t, TokenID: word, LogProb: logp, Final: final,
		Score: logp / lengthPenalty(t+1, alpha), Token: step.Token, Attention: step.Attention, TopK: step.TopK}
	if final {
		n.Token = d.Word(word)
	}
	return n
}

func beam[S any](ctx context.Context, d Decoder[S], opts model.Options) iter.Seq2[model.Step, error] {
	return func(yield func(model.Step, error) bool) {
		beams := []*hyp[S]{{st: d.Start(), last: vocab.BOS, node: -1}}
		var done []*hyp[S]
		// A Copier's hypotheses must copy every number and name of the
		// source. One that ends before that goes aside (short), takes no
		// place in the beam, and wins only when no hypothesis ends with all
		// of them copied. And when no hypothesis kept at a step has copied
		// as many as a candidate that writes one more placeholder, the best
		// such candidate is kept too (in the last place when the beam is
		// model.MaxBeam wide), so that the search keeps a way to the copies
		// open (a small form of grid beam search).
		var short []*hyp[S]
		copier, _ := d.(Copier)
		nodes := 0 // tree nodes made so far
		type cand struct {
			from   *hyp[S]
			beam   int // from's index in beams
			id     int
			logp   float64
			st     S
			final  bool
			short  bool // a Copier's hypothesis ending before all copies
			copies int  // numbers and names copied with this word
		}
		for t := 0; t < opts.MaxLen && len(beams) > 0 && len(done) < opts.Beam; t++ {
			if len(done) == 0 && len(short) > 0 && t >= 2*len(short[0].steps)+2 {
				break // the copies did not come within twice the length of the first ending
			}
			if err := ctx.Err(); err != nil {
				yield(model.Step{}, err)
				return
			}
			var cands []cand
			nexts, probss, atts := stepAll(d, beams)
			alts := make([][]int, len(beams)) // each hypothesis's most likely words, for the steps kept
			for bi, b := range beams {
				next, probs := nexts[bi], probss[bi]
				mask(probs, t, opts)
				top := nn.TopK(probs, max(opts.Beam, opts.TopK))
				ids := top[:min(opts.Beam, len(top))]
				alts[bi] = top[:min(opts.TopK, len(top))]
				f, err := forced(opts, t, len(probs))
				if err != nil {
					yield(model.Step{}, err)
					return
				}
				copied, needed := 0, []int(nil)
				if copier != nil {
					copied, needed = copier.Copies(b.steps)
				}
				if f >= 0 { // one hypothesis while the words are imposed
					ids = []int{f}
				} else {
					for _, id := range needed {
						if !slices.Contains(ids, id) && probs[id] > 0 {
							ids = append(slices.Clip(ids), id)
						}
					}
				}
				for _, id := range ids {
					c := cand{from: b, beam: bi, id: id, logp: b.logp + math.Log(float64(probs[id])+1e-30), st: next, final: id == vocab.EOS, copies: copied}
					c.short = c.final && len(needed) > 0
					if slices.Contains(needed, id) {
						c.copies++
					}
					cands = append(cands, c)
				}
			}
			sort.SliceStable(cands, func(i, j int) bool { return cands[i].logp > cands[j].logp })
			var kept []cand
			places, open, most, last := opts.Beam-len(done), 0, -1, -1 // hypotheses kept open, the most copies among them, the last
			i := 0
			for ; i < len(cands) && places > 0; i++ {
				c := cands[i]
				kept = append(kept, c)
				if c.short {
					continue
				}
				places--
				if !c.final {
					open, most, last = open+1, max(most, c.copies), len(kept)-1
				}
			}
			if copier != nil && last >= 0 {
				for _, c := range cands[i:] {
					if !c.final && c.copies > most {
						if open == model.MaxBeam { // no room for one more
							kept = slices.Delete(kept, last, last+1)
						}
						kept = append(kept, c)
						break
					}
				}
			}
			beams = beams[:0]
			var level model.TreeLevel
			for _, c := range kept {
				var step model.Step // the word's step, made only for the candidates kept
				if !c.final {
					step = makeStep(d, t, c.id, probss[c.beam], atts[c.beam], alts[c.beam], c.from.steps)
					step.Forced = t < len(opts.Force)
				}
				var h *hyp[S]
				switch {
				case c.short:
					h = &hyp[S]{logp: c.logp, steps: c.from.steps}
					short = append(short, h)
				case c.final:
					h = &hyp[S]{logp: c.logp, steps: c.from.steps}
					done = append(done, h)
				default:
					steps := append(append([]model.Step(nil), c.from.steps...), step)
					h = &hyp[S]{st: c.st, logp: c.logp, steps: steps, last: c.id}
					beams = append(beams, h)
				}
				h.node = nodes
				nodes++
				if opts.Tree != nil {
					level.Nodes = append(level.Nodes, treeNode(d, h.node, c.from.node, t, c.id, c.logp, c.final, step, opts.LenAlpha))
				}
			}
			if opts.Tree != nil {
				level.Step, level.Winner = t, -1
				opts.Tree(level)
			}
		}
		switch {
		case len(done) > 0 || len(short) == 0:
			done = append(done, beams...)
		default: // not the unfinished beams, which went on only to copy
			done = short
		}
		if len(done) == 0 {
			return
		}
		best := done[0]
		for _, h := range done[1:] {
			if h.logp/lengthPenalty(len(h.steps)+1, opts.LenAlpha) > best.logp/lengthPenalty(len(best.steps)+1, opts.LenAlpha) {
				best = h
			}
		}
		if opts.Tree != nil {
			opts.Tree(model.TreeLevel{Step: len(best.steps), Winner: best.node})
		}
		for _, s := range best.steps {
			if !yield(s, nil) {
				return
			}
		}
	}
}

// TeacherForce feeds d the words (then the end-of-sentence token) one at
// a time, as training does, and returns the probability the decoder gave
// each of them and the attention of each step: the serving path's view of
// a known output, which the training graph's loss must agree with.
func TeacherForce[S any](d Decoder[S], words []int) (probs []float32, att [][]float32) {
	st, prev := d.Start(), vocab.BOS
	for _, y := range append(slices.Clone(words), vocab.EOS) {
		var p, a []float32
		st, p, a = d.Step(st, prev)
		probs = append(probs, p[y])
		att = append(att, slices.Clone(a))
		prev = y
	}
	return probs, att
}

// Scratches hands out a model's per-hypothesis step buffers for
// BatchDecoder.StepAll, making more as the beam needs them and reusing
// them from step to step.
type Scratches[Sc any] struct {
	New func() Sc
	all []Sc
}

// Get returns n buffers; the next call may return the same ones.
func (s *Scratches[Sc]) Get(n int) []Sc {
	for len(s.all) < n {
		s.all = append(s.all, s.New())
	}
	return s.all[:n]
}

// Feed runs d through the words of prefix as TeacherForce does and returns
// the state that writes the next word and the last word fed (the start
// token for an empty prefix). Every id must be below vocab.
func Feed[S any](d Decoder[S], prefix []int, vocabSize int) (st S, prev int, err error) {
	st, prev = d.Start(), vocab.BOS
	for _, id := range prefix {
		if id < 0 || id >= vocabSize {
			return st, prev, &model.InputError{Kind: model.ErrInvalidInput, Msg: fmt.Sprintf("word id %d is not in the model's vocabulary", id)}
		}
		st, _, _ = d.Step(st, prev)
		prev = id
	}
	return st, prev, nil
}

// StepBatch is a BatchDecoder's StepAll for a model that steps a batch of
// states in place: it clones sts (clone), takes a scratch buffer for each
// from pool, runs the batch (run) and returns what out reads from each
// buffer, the step's distribution and attention.
func StepBatch[S, Sc any](sts []S, prevs []int, pool *Scratches[Sc], clone func(S) S, run func(next []S, scs []Sc), out func(Sc) (probs, att []float32)) ([]S, [][]float32, [][]float32) {
	scs := pool.Get(len(sts))
	next, probs, att := make([]S, len(sts)), make([][]float32, len(sts)), make([][]float32, len(sts))
	for i, st := range sts {
		next[i] = clone(st)
		probs[i], att[i] = out(scs[i])
	}
	run(next, scs)
	return next, probs, att
}
