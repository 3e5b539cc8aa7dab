package translate

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math"
	"sort"
	"strings"
	"unicode/utf8"

	"attention/model"
	"attention/model/checkpoint"
	"attention/model/nn"
	"attention/model/vocab"
)

// Model is a trained translator, ready to serve. It is safe for concurrent
// use: every decode has its own buffers.
type Model struct {
	ID      string
	Title   string
	Cfg     Config
	P       *Params
	Src     *vocab.Vocab
	Tgt     *vocab.Vocab
	Metrics []model.Metric
}

// MaxSourceWords bounds the source length a decode accepts.
const MaxSourceWords = 80

// Load builds a model from checkpoint bytes.
func Load(id string, data []byte) (*Model, error) {
	f, err := checkpoint.Read(data)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", id, err)
	}
	cfg, p, err := FromCheckpoint(f)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", id, err)
	}
	src, err := vocab.New(f.Vocabs["src"])
	if err != nil {
		return nil, fmt.Errorf("model %s: source %w", id, err)
	}
	tgt, err := vocab.New(f.Vocabs["tgt"])
	if err != nil {
		return nil, fmt.Errorf("model %s: target %w", id, err)
	}
	if src.Len() != cfg.SrcVocab || tgt.Len() != cfg.TgtVocab {
		return nil, fmt.Errorf("model %s: vocabulary sizes %d/%d do not match config %d/%d", id, src.Len(), tgt.Len(), cfg.SrcVocab, cfg.TgtVocab)
	}
	m := &Model{ID: id, Cfg: cfg, P: p, Src: src, Tgt: tgt}
	if t, ok := f.Meta["title"].(string); ok {
		m.Title = t
	}
	if ms, ok := f.Meta["metrics"].([]any); ok {
		for _, x := range ms {
			mm, _ := x.(map[string]any)
			v, _ := mm["value"].(float64)
			name, _ := mm["name"].(string)
			split, _ := mm["split"].(string)
			note, _ := mm["note"].(string)
			m.Metrics = append(m.Metrics, model.Metric{Name: name, Value: v, Split: split, Note: note})
		}
	}
	return m, nil
}

// Info describes the model for the API and the page.
func (m *Model) Info() model.Info {
	return model.Info{ID: m.ID, Kind: "translation", Title: m.Title, SrcLang: m.Cfg.SrcLang, TgtLang: m.Cfg.TgtLang,
		Attention: m.Cfg.Attention, Params: m.P.Count(), Metrics: m.Metrics}
}

// Input errors; the server maps them to 4xx responses.
var (
	ErrEmpty   = errors.New("the text is empty: type a sentence to translate")
	ErrTooLong = fmt.Errorf("the text is too long: at most %d words", MaxSourceWords)
	ErrBadUTF8 = errors.New("the text is not valid UTF-8")
)

// Prepare tokenises and encodes text.
func (m *Model) Prepare(text string) (model.Prepared, error) {
	if !utf8.ValidString(text) {
		return nil, ErrBadUTF8
	}
	words := vocab.Tokenize(text, m.Cfg.SrcLang)
	if len(words) == 0 {
		return nil, ErrEmpty
	}
	if len(words) > MaxSourceWords {
		return nil, ErrTooLong
	}
	return m.Encode(words), nil
}

// Encoded is a source sentence run through the encoder.
type Encoded struct {
	m     *Model
	words []string
	ids   []int
	x     []float32 // (S, D) encoder outputs
	ux    []float32 // (S, A) U x_i + b_a, precomputed for every step
	mean  []float32 // (D) mean of x
	h0    []float32 // (K) initial decoder state
}

// Source describes the encoded sentence.
func (e *Encoded) Source() model.Source {
	unk := make([]bool, len(e.ids))
	for i, id := range e.ids {
		unk[i] = id == vocab.Unk
	}
	return model.Source{Kind: "text", Tokens: e.words, Unknown: unk}
}

// Encode runs the bidirectional encoder over words.
func (m *Model) Encode(words []string) *Encoded {
	c, p := m.Cfg, m.P
	S, E, H, D, A, K := len(words), c.Emb, c.EncHidden, c.D(), c.Att, c.DecHidden
	ids := m.Src.IDs(words)
	e := &Encoded{m: m, words: words, ids: ids, x: make([]float32, S*D), ux: make([]float32, S*A), mean: make([]float32, D), h0: make([]float32, K)}

	gates := make([]float32, 4*H)
	run := func(wx, wh, b *Param, offset int, order func(int) int) {
		lx := nn.Linear{In: E, Out: 4 * H, W: wx.Data, B: b.Data}
		h, cell := make([]float32, H), make([]float32, H)
		for k := 0; k < S; k++ {
			t := order(k)
			emb := p.SrcEmb.Data[ids[t]*E : (ids[t]+1)*E]
			lx.Forward(gates, emb)                // x_t·Wx + b        (4H)
			nn.MatVecAdd(gates, h, wh.Data, 4*H)  // + h_{t-1}·Wh      (4H)
			nn.LSTMCell(gates, h, cell)           // h_t, c_t          (H)
			copy(e.x[t*D+offset:t*D+offset+H], h) // x_t = [fwd; bwd]  (D)
		}
	}
	run(p.FwdWx, p.FwdWh, p.FwdB, 0, func(k int) int { return k })
	run(p.BwdWx, p.BwdWh, p.BwdB, H, func(k int) int { return S - 1 - k })

	u := nn.Linear{In: D, Out: A, W: p.AttU.Data, B: p.AttB.Data}
	for t := 0; t < S; t++ {
		xt := e.x[t*D : (t+1)*D]
		u.Forward(e.ux[t*A:(t+1)*A], xt) // U x_t + b_a  (A)
		for j, v := range xt {
			e.mean[j] += v / float32(S)
		}
	}
	init := nn.Linear{In: D, Out: K, W: p.InitW.Data, B: p.InitB.Data}
	init.Forward(e.h0, e.mean) // h_0 = tanh(mean(x)·InitW + InitB)
	nn.TanhInPlace(e.h0)
	return e
}

// state is one decoder hypothesis's recurrent state and scratch space.
type state struct {
	h, c []float32
}

// scratch holds the buffers one decode step needs, reused across steps.
type scratch struct {
	wh, score, att, ctx, gates, pre, logits []float32
}

func (e *Encoded) newScratch() *scratch {
	c := e.m.Cfg
	S := len(e.ids)
	return &scratch{
		wh: make([]float32, c.Att), score: make([]float32, c.Att), att: make([]float32, S), ctx: make([]float32, c.D()),
		gates: make([]float32, 4*c.DecHidden), pre: make([]float32, c.PreOut), logits: make([]float32, c.TgtVocab),
	}
}

// step advances st by feeding prev; it leaves the output distribution in
// sc.logits (as probabilities) and the attention weights in sc.att.
func (e *Encoded) step(st *state, prev int, sc *scratch) {
	c, p := e.m.Cfg, e.m.P
	S, E, D, A, K, O := len(e.ids), c.Emb, c.D(), c.Att, c.DecHidden, c.PreOut
	if c.Attention {
		clear(sc.wh)
		nn.MatVecAdd(sc.wh, st.h, p.AttW.Data, A) // W h_{t-1}  (A)
		for i := 0; i < S; i++ {
			for j := 0; j < A; j++ {
				sc.score[j] = nn.Tanh(sc.wh[j] + e.ux[i*A+j]) // tanh(W h + U x_i + b)  (A)
			}
			sc.att[i] = nn.Dot(p.AttV.Data, sc.score) // e_ti = v·tanh(...)
		}
		nn.SoftmaxInPlace(sc.att) // a_t = softmax(e_t)  (S)
		clear(sc.ctx)
		for i := 0; i < S; i++ {
			a := sc.att[i]
			for j, v := range e.x[i*D : (i+1)*D] {
				sc.ctx[j] += a * v // c_t = Σ a_ti x_i  (D)
			}
		}
	} else {
		for i := range sc.att {
			sc.att[i] = 1 / float32(S) // the fixed mean is uniform attention
		}
		copy(sc.ctx, e.mean)
	}
	emb := p.TgtEmb.Data[prev*E : (prev+1)*E]
	copy(sc.gates, p.DecB.Data)
	nn.MatVecAdd(sc.gates, emb, p.DecWy.Data, 4*K)    // emb(y_{t-1})·Wy  (4K)
	nn.MatVecAdd(sc.gates, sc.ctx, p.DecWc.Data, 4*K) // + c_t·Wc         (4K)
	nn.MatVecAdd(sc.gates, st.h, p.DecWh.Data, 4*K)   // + h_{t-1}·Wh     (4K)
	nn.LSTMCell(sc.gates, st.h, st.c)                 // h_t              (K)

	copy(sc.pre, p.PreB.Data)
	nn.MatVecAdd(sc.pre, st.h, p.PreWh.Data, O)   // h_t·Wph        (O)
	nn.MatVecAdd(sc.pre, sc.ctx, p.PreWc.Data, O) // + c_t·Wpc      (O)
	nn.MatVecAdd(sc.pre, emb, p.PreWy.Data, O)    // + emb·Wpy      (O)
	nn.TanhInPlace(sc.pre)
	out := nn.Linear{In: O, Out: c.TgtVocab, W: p.OutW.Data, B: p.OutB.Data}
	out.Forward(sc.logits, sc.pre) // logits  (Vt)
	nn.SoftmaxInPlace(sc.logits)   // p_t     (Vt)
}

func (e *Encoded) makeStep(index, id int, probs, att []float32, topK int) model.Step {
	alts := nn.TopK(probs, topK)
	st := model.Step{Index: index, TokenID: id, Token: e.m.Tgt.Word(id), Prob: probs[id],
		Attention: append([]float32(nil), att...), TopK: make([]model.Alt, 0, len(alts))}
	for _, a := range alts {
		st.TopK = append(st.TopK, model.Alt{Token: e.m.Tgt.Word(a), Prob: probs[a]})
	}
	if id == vocab.Unk {
		// Show the source word the model looked at most: the classic
		// unknown-word replacement, flagged so the page can mark it.
		st.Unknown = true
		best := 0
		for i, a := range att {
			if a > att[best] {
				best = i
			}
		}
		st.Token = e.words[best]
	}
	return st
}

// Decode yields the translation one word at a time (the end-of-sentence
// token is not yielded). With a beam wider than 1 the search runs to the
// end first and then yields the best hypothesis's steps.
func (e *Encoded) Decode(ctx context.Context, opts model.Options) iter.Seq2[model.Step, error] {
	opts = opts.Normalize()
	if opts.Beam > 1 {
		return e.beam(ctx, opts)
	}
	return func(yield func(model.Step, error) bool) {
		K := e.m.Cfg.DecHidden
		st := &state{h: append([]float32(nil), e.h0...), c: make([]float32, K)}
		sc := e.newScratch()
		prev := vocab.BOS
		for t := 0; t < opts.MaxLen; t++ {
			if err := ctx.Err(); err != nil {
				yield(model.Step{}, err)
				return
			}
			e.step(st, prev, sc)
			mask(sc.logits, t)
			id := nn.TopK(sc.logits, 1)[0]
			if id == vocab.EOS {
				return
			}
			if !yield(e.makeStep(t, id, sc.logits, sc.att, opts.TopK), nil) {
				return
			}
			prev = id
		}
	}
}

// mask removes what may never be written: padding, the start token, and
// the end of sentence before the first word (an empty translation).
func mask(p []float32, t int) {
	p[vocab.Pad], p[vocab.BOS] = 0, 0
	if t == 0 {
		p[vocab.EOS] = 0
	}
}

type hyp struct {
	st     state
	logp   float64
	steps  []model.Step
	last   int
	closed bool
}

// lengthPenalty is GNMT's ((5+n)/6)^α, which keeps beams from preferring
// short outputs.
func lengthPenalty(n int) float64 { return math.Pow((5+float64(n))/6, 0.6) }

func (e *Encoded) beam(ctx context.Context, opts model.Options) iter.Seq2[model.Step, error] {
	return func(yield func(model.Step, error) bool) {
		K := e.m.Cfg.DecHidden
		sc := e.newScratch()
		beams := []*hyp{{st: state{h: append([]float32(nil), e.h0...), c: make([]float32, K)}, last: vocab.BOS}}
		var done []*hyp
		type cand struct {
			from  *hyp
			id    int
			logp  float64
			st    state
			step  model.Step
			final bool
		}
		for t := 0; t < opts.MaxLen && len(beams) > 0; t++ {
			if err := ctx.Err(); err != nil {
				yield(model.Step{}, err)
				return
			}
			var cands []cand
			for _, b := range beams {
				st := state{h: append([]float32(nil), b.st.h...), c: append([]float32(nil), b.st.c...)}
				e.step(&st, b.last, sc)
				mask(sc.logits, t)
				for _, id := range nn.TopK(sc.logits, opts.Beam) {
					c := cand{from: b, id: id, logp: b.logp + math.Log(float64(sc.logits[id])+1e-30), st: st, final: id == vocab.EOS}
					if !c.final {
						c.step = e.makeStep(t, id, sc.logits, sc.att, opts.TopK)
					}
					cands = append(cands, c)
				}
			}
			sort.SliceStable(cands, func(i, j int) bool { return cands[i].logp > cands[j].logp })
			beams = beams[:0]
			for _, c := range cands {
				if len(beams)+len(done) >= opts.Beam {
					break
				}
				steps := append(append([]model.Step(nil), c.from.steps...), c.step)
				h := &hyp{st: c.st, logp: c.logp, steps: steps, last: c.id}
				if c.final {
					h.steps = c.from.steps
					h.closed = true
					done = append(done, h)
				} else {
					beams = append(beams, h)
				}
			}
			if len(done) >= opts.Beam {
				break
			}
		}
		done = append(done, beams...)
		if len(done) == 0 {
			return
		}
		best := done[0]
		for _, h := range done[1:] {
			if h.logp/lengthPenalty(len(h.steps)+1) > best.logp/lengthPenalty(len(best.steps)+1) {
				best = h
			}
		}
		for _, s := range best.steps {
			if !yield(s, nil) {
				return
			}
		}
	}
}

// Translate decodes text to a string, for evaluation.
func (m *Model) Translate(words []string, opts model.Options) []string {
	e := m.Encode(words)
	var out []string
	for s := range e.Decode(context.Background(), opts) {
		out = append(out, s.Token)
	}
	return out
}

// String summarises the model's sizes.
func (c Config) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s->%s E%d H%dx2 K%d A%d O%d Vs%d Vt%d attention=%v", c.SrcLang, c.TgtLang, c.Emb, c.EncHidden, c.DecHidden, c.Att, c.PreOut, c.SrcVocab, c.TgtVocab, c.Attention)
	return b.String()
}
