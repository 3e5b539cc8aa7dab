package caption

import (
	"context"
	"fmt"
	"iter"
	"slices"
	"sync"

	"attention/model"
	"attention/model/checkpoint"
	"attention/model/nn"
	"attention/model/search"
	"attention/model/vocab"
)

// Model is a trained captioner, safe for concurrent use.
type Model struct {
	ID      string
	Title   string
	Cfg     Config
	P       *Params
	Words   *vocab.Vocab
	Metrics []model.Metric
	// TrainedOn says what it learned from (the checkpoint's "trained_on").
	TrainedOn string
	// LenAlpha is beam search's length exponent for this model when a
	// decode does not name one (0: model.DefaultLenAlpha), chosen on the
	// dev split.
	LenAlpha float64

	dense struct { // the decode step's weights, built once on first use from P
		once sync.Once
		w    *stepWeights
	}
}

// stepWeights are the decode step's matrices as nn.Dense, which reads them
// fastest; the layers that share an output are stacked into one matrix.
type stepWeights struct {
	att   *nn.Dense // W: (K, A)
	gates *nn.Dense // [Wy; Wz; Wh]: (E+D+K, 4K)
	pre   *nn.Dense // [L_h; L_z]: (K+D, E)
	out   *nn.Dense // L_o: (E, V)
	proj  *nn.Dense // W_p: (F, D), the regions' projection
	u     *nn.Dense // U: (D, A), the attention's view of a region
}

// weights returns the decode step's matrices. A model's P must not change
// after its first decode (training evaluates with a fresh Model each time).
func (m *Model) weights() *stepWeights {
	m.dense.once.Do(func() {
		c, p := m.Cfg, m.P
		m.dense.w = &stepWeights{
			att:   nn.NewDense(p.AttW.Data, c.Hidden, c.Att),
			gates: nn.Stack(4*c.Hidden, p.DecWy.Data, p.DecWz.Data, p.DecWh.Data),
			pre:   nn.Stack(c.Emb, p.OutLh.Data, p.OutLz.Data),
			out:   nn.NewDense(p.OutW.Data, c.Emb, c.Vocab),
			proj:  nn.NewDense(p.ProjW.Data, c.Feat, c.Proj),
			u:     nn.NewDense(p.AttU.Data, c.Proj, c.Att),
		}
	})
	return m.dense.w
}

// Load builds a model from checkpoint bytes.
func Load(id string, data []byte) (*Model, error) {
	f, err := checkpoint.ReadModel(data, Kind, KindTrainState)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", id, err)
	}
	c, p, err := FromCheckpoint(f)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", id, err)
	}
	words, err := vocab.New(f.Vocabs["words"])
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", id, err)
	}
	if words.Len() != c.Vocab {
		return nil, fmt.Errorf("model %s: vocabulary of %d words, config says %d", id, words.Len(), c.Vocab)
	}
	m := &Model{ID: id, Title: f.MetaString("title"), TrainedOn: f.MetaString("trained_on"), Cfg: c, P: p, Words: words}
	m.weights() // now, not on the first request
	return m, nil
}

// Info describes the model.
func (m *Model) Info() model.Info {
	return model.Info{ID: m.ID, Kind: "caption", Title: m.Title, TgtLang: "en", Attention: m.Cfg.Attention,
		Params: m.P.Count(), Metrics: m.Metrics, TrainedOn: m.TrainedOn}
}

// OutputWords lists the vocabulary, by id (model.Vocabulary).
func (m *Model) OutputWords() []string { return m.Words.Words() }

// Encoded is an image's region features, projected and ready to decode.
type Encoded struct {
	m      *Model
	w      *stepWeights
	x      []float32 // (R, D) projected regions
	ux     []float32 // (R, A) U x_i + b_a
	mean   []float32 // (D)
	h0, c0 []float32 // (K)
}

// Encode projects region features feat (R, F), row-major over the grid.
func (m *Model) Encode(feat []float32) (*Encoded, error) {
	c, p := m.Cfg, m.P
	R, F, D, A, K := c.R(), c.Feat, c.Proj, c.Att, c.Hidden
	if len(feat) != R*F {
		return nil, fmt.Errorf("caption: %d feature values, want %d regions x %d", len(feat), R, F)
	}
	e := &Encoded{m: m, w: m.weights(), x: make([]float32, R*D), ux: make([]float32, R*A), mean: make([]float32, D),
		h0: make([]float32, K), c0: make([]float32, K)}
	// The regions go through each matrix together, which reads it once
	// for every nn.MaxBatch regions.
	xs, fs, uxs := make([][]float32, R), make([][]float32, R), make([][]float32, R)
	for i := range R {
		xs[i], fs[i], uxs[i] = e.x[i*D:(i+1)*D], feat[i*F:(i+1)*F], e.ux[i*A:(i+1)*A]
		copy(xs[i], p.ProjB.Data)
		copy(uxs[i], p.AttB.Data)
	}
	e.w.proj.MulAddBatch(xs, fs) // x_i = W_p f_i + b_p  (D)
	e.w.u.MulAddBatch(uxs, xs)   // U x_i + b_a         (A)
	for _, xi := range xs {
		for j, v := range xi {
			e.mean[j] += v / float32(R)
		}
	}
	start := e.mean
	if c.ConstStart {
		start = make([]float32, D)
	}
	(&nn.Linear{In: D, Out: K, W: p.InitHW.Data, B: p.InitHB.Data}).Forward(e.h0, start)
	(&nn.Linear{In: D, Out: K, W: p.InitCW.Data, B: p.InitCB.Data}).Forward(e.c0, start)
	nn.TanhInPlace(e.h0) // h_0 = tanh(W_h mean(x) + b_h)
	nn.TanhInPlace(e.c0) // c_0 = tanh(W_c mean(x) + b_c)
	return e, nil
}

// Source describes the region grid.
func (e *Encoded) Source() model.Source {
	return model.Source{Kind: "image", Rows: e.m.Cfg.Rows, Cols: e.m.Cfg.Cols}
}

type state struct {
	h, c []float32
	beta float32 // the gate value that produced this state
	t    int     // words fed so far: the index of the word this state writes next
}

// stepMod changes how stepBatch computes a step: uniform attention at
// every step (model.Options.FlatAttention), hand-set attention at one
// (model.Options.Override), and a record of the numbers of a batch of one
// (Inspect).
type stepMod struct {
	flat     bool
	override *model.Override
	rec      *model.StepRecord
}

type scratch struct {
	wh, att, ctx, z, gates, pre, probs []float32
	in                                 []float32 // the stacked layers' input
}

func (e *Encoded) newScratch() *scratch {
	c := e.m.Cfg
	return &scratch{wh: make([]float32, c.Att), att: make([]float32, c.R()), in: make([]float32, c.Emb+c.Proj+c.Hidden),
		ctx: make([]float32, c.Proj), z: make([]float32, c.Proj), gates: make([]float32, 4*c.Hidden),
		pre: make([]float32, c.Emb), probs: make([]float32, c.Vocab)}
}

// step advances st by feeding prev; the distribution is left in sc.probs
// and the attention in sc.att. It returns the gate β_t (also in st.beta).
func (e *Encoded) step(st *state, prev int, sc *scratch) float32 {
	e.stepBatch([]*state{st}, []int{prev}, []*scratch{sc}, stepMod{})
	return st.beta
}

// stepBatch is step for every sts[i], fed prevs[i], with scs[i] as its
// buffers, for at most model.MaxBeam hypotheses (a beam); they share each
// pass over the weights; mod changes what it computes.
func (e *Encoded) stepBatch(sts []*state, prevs []int, scs []*scratch, mod stepMod) {
	c, p, w := e.m.Cfg, e.m.P, e.w
	R, D, E, A, K := c.R(), c.Proj, c.Emb, c.Att, c.Hidden
	n := len(sts)
	var xs, ys [model.MaxBeam][]float32 // the inputs and outputs of one batched product
	emb := func(i int) []float32 { return p.Emb.Data[prevs[i]*E : (prevs[i]+1)*E] }
	rec := mod.rec
	if rec != nil {
		rec.H = slices.Clone(sts[0].h)
	}
	if c.Attention {
		for i, sc := range scs {
			clear(sc.wh)
			xs[i], ys[i] = sts[i].h, sc.wh
		}
		w.att.MulAddBatch(ys[:n], xs[:n]) // W h_{t-1}  (A)
		for i, sc := range scs {
			for r := 0; r < R; r++ {
				sc.att[r] = nn.TanhAddDot(sc.wh, e.ux[r*A:(r+1)*A], p.AttV.Data) // e_ti = v·tanh(W h + U x_i + b)
			}
			if rec != nil {
				rec.Scores = slices.Clone(sc.att)
			}
			nn.SoftmaxInPlace(sc.att) // α_t  (R)
			if rec != nil {
				rec.Weights = slices.Clone(sc.att)
			}
			if mod.flat {
				for r := range sc.att {
					sc.att[r] = 1 / float32(R)
				}
			}
			if o := mod.override; o != nil && sts[i].t == o.Step {
				copy(sc.att, o.Weights)
			}
			clear(sc.ctx)
			nn.MatVecAdd(sc.ctx, sc.att, e.x, D)                                       // Σ α_ti x_i  (D)
			sts[i].beta = nn.Sigmoid(nn.Dot(p.GateW.Data, sts[i].h) + p.GateB.Data[0]) // β_t
		}
	} else {
		for i, sc := range scs {
			// Show and Tell: the image entered once, through the start
			// state; no step reads a context (the page draws its
			// attention as uniform: it looks nowhere in particular).
			for r := range sc.att {
				sc.att[r] = 1 / float32(R)
			}
			clear(sc.ctx)
			sts[i].beta = 1
		}
		if rec != nil {
			rec.Scores, rec.Weights = make([]float32, R), slices.Clone(scs[0].att)
		}
	}
	if rec != nil {
		rec.Used, rec.Ctx, rec.Beta = slices.Clone(scs[0].att), slices.Clone(scs[0].ctx), sts[0].beta
	}
	for i, sc := range scs {
		for j, v := range sc.ctx {
			sc.z[j] = sts[i].beta * v // z_t = β_t Σ α_ti x_i  (D)
		}
		copy(sc.in, emb(i))
		copy(sc.in[E:], sc.z)
		copy(sc.in[E+D:], sts[i].h)
		copy(sc.gates, p.DecB.Data)
		xs[i], ys[i] = sc.in, sc.gates
	}
	w.gates.MulAddBatch(ys[:n], xs[:n]) // [emb(y_{t-1}); z_t; h_{t-1}]·[Wy; Wz; Wh]  (4K)
	for i, sc := range scs {
		nn.LSTMCell(sc.gates, sts[i].h, sts[i].c) // h_t  (K)
		copy(sc.in, sts[i].h)
		copy(sc.in[K:], sc.z)
		copy(sc.pre, emb(i))
		xs[i], ys[i] = sc.in[:K+D], sc.pre
	}
	w.pre.MulAddBatch(ys[:n], xs[:n]) // emb + [h_t; z_t]·[L_h; L_z]  (E)
	for i, sc := range scs {
		copy(sc.probs, p.OutB.Data)
		xs[i], ys[i] = sc.pre, sc.probs
	}
	w.out.MulAddBatch(ys[:n], xs[:n]) // logits  (V)
	if rec != nil {
		rec.Logits = slices.Clone(scs[0].probs)
	}
	for i, sc := range scs {
		nn.SoftmaxInPlace(sc.probs) // p_t  (V)
		sts[i].t++
	}
}

// decoder adapts an encoded image to search.Decoder and
// search.BatchDecoder.
type decoder struct {
	e   *Encoded
	sc  *scratch
	scs *search.Scratches[*scratch] // StepAll's buffers, one per hypothesis
	mod stepMod                     // flat or hand-set attention
}

func (d decoder) Start() *state {
	return &state{h: append([]float32(nil), d.e.h0...), c: append([]float32(nil), d.e.c0...), beta: 1}
}

// clone is a copy of st that the next step may change.
func (st *state) clone() *state {
	return &state{h: slices.Clone(st.h), c: slices.Clone(st.c), t: st.t}
}

func (d decoder) Step(st *state, prev int) (*state, []float32, []float32) {
	next := st.clone()
	d.e.stepBatch([]*state{next}, []int{prev}, []*scratch{d.sc}, d.mod)
	return next, d.sc.probs, d.sc.att
}

func (d decoder) StepAll(sts []*state, prevs []int) ([]*state, [][]float32, [][]float32) {
	return search.StepBatch(sts, prevs, d.scs, (*state).clone,
		func(next []*state, scs []*scratch) { d.e.stepBatch(next, prevs, scs, d.mod) },
		func(sc *scratch) ([]float32, []float32) { return sc.probs, sc.att })
}

func (d decoder) Word(id int) string                              { return d.e.m.Words.Word(id) }
func (d decoder) Copy(int, []float32, []model.Step) (string, int) { return "", 0 }

// MaxWords bounds a caption's length: Flickr8k's longest reference
// captions are about 30 words.
const MaxWords = 30

// Decode yields the caption one word at a time (see search.Decode), at
// most MaxWords of them. It never writes the unknown-word token: a
// caption has no source word to copy in its place (on the dev split this
// gains about 0.1 BLEU-4 and ends the runs of "<unk>" for things the model
// cannot name).
func (e *Encoded) Decode(ctx context.Context, opts model.Options) iter.Seq2[model.Step, error] {
	if opts.LenAlpha == 0 {
		opts.LenAlpha = e.m.LenAlpha
	}
	opts = opts.Normalize()
	opts.MaxLen = min(opts.MaxLen, MaxWords)
	opts.NoUnknown = true
	if o := opts.Override; o != nil {
		if err := e.checkOverride(o.Weights); err != nil {
			return func(yield func(model.Step, error) bool) { yield(model.Step{}, err) }
		}
	}
	return search.Decode(ctx, decoder{e: e, sc: e.newScratch(), scs: &search.Scratches[*scratch]{New: e.newScratch},
		mod: stepMod{flat: opts.FlatAttention, override: opts.Override}}, opts)
}

// checkOverride says what is wrong with hand-set weights for this image.
func (e *Encoded) checkOverride(w []float32) error {
	if !e.m.Cfg.Attention {
		return &model.InputError{Kind: model.ErrInvalidInput, Msg: "this model has no attention to set: it sees the photo once, before the first word"}
	}
	return model.CheckWeights(w, e.m.Cfg.R())
}

// Inspect feeds the words of prefix and returns the next step in numbers
// (model.Inspector), its attention set to override when that is not nil.
func (e *Encoded) Inspect(prefix []int, override []float32, topK int) (*model.Glass, error) {
	if len(prefix) >= MaxWords {
		return nil, &model.InputError{Kind: model.ErrInvalidInput, Msg: fmt.Sprintf("step %d: a caption has at most %d words", len(prefix), MaxWords)}
	}
	var mod stepMod
	if override != nil {
		if err := e.checkOverride(override); err != nil {
			return nil, err
		}
		mod.override = &model.Override{Step: len(prefix), Weights: override}
	}
	d := decoder{e: e, sc: e.newScratch()}
	st, prev, err := search.Feed(d, prefix, e.m.Cfg.Vocab)
	if err != nil {
		return nil, err
	}
	rec := &model.StepRecord{}
	mod.rec = rec
	e.stepBatch([]*state{st.clone()}, []int{prev}, []*scratch{d.sc}, mod)
	return rec.Glass(len(prefix), topK, e.m.Words.Word), nil
}

// TeacherForced is the probability the serving path gives each of words
// (then </s>) after the ones before it, and each step's attention (R).
func (e *Encoded) TeacherForced(words []int) (probs []float32, att [][]float32) {
	return search.TeacherForce(decoder{e: e, sc: e.newScratch()}, words)
}
