package translate

import (
	"context"
	"fmt"
	"iter"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"attention/model"
	"attention/model/checkpoint"
	"attention/model/nn"
	"attention/model/search"
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
	// TrainedOn says what it learned from (the checkpoint's "trained_on").
	TrainedOn string
	// LenAlpha is beam search's length exponent for this model when a
	// decode does not name one (0: model.DefaultLenAlpha), chosen on the
	// dev sets (docs/MODELS.md).
	LenAlpha float64

	dense struct { // the decode step's weights, built once on first use from P
		once sync.Once
		w    *stepWeights
	}
}

// stepWeights are the decode step's matrices as nn.Dense, which reads them
// fastest; the layers that share an output are stacked into one matrix
// over their inputs laid end to end.
type stepWeights struct {
	att   *nn.Dense // W: (K, A)
	gates *nn.Dense // [Wy; Wc; Wh]: (E+D+K, 4K)
	pre   *nn.Dense // [Wph; Wpc; Wpy]: (K+D+E, O)
	out   *nn.Dense // Wo: (O, Vt)
}

// weights returns the decode step's matrices. A model's P must not change
// after its first decode (training evaluates with a fresh Model each time).
func (m *Model) weights() *stepWeights {
	m.dense.once.Do(func() {
		c, p := m.Cfg, m.P
		K, A, O := c.DecHidden, c.Att, c.PreOut
		m.dense.w = &stepWeights{
			att:   nn.NewDense(p.AttW.Data, K, A),
			gates: nn.Stack(4*K, p.DecWy.Data, p.DecWc.Data, p.DecWh.Data),
			pre:   nn.Stack(O, p.PreWh.Data, p.PreWc.Data, p.PreWy.Data),
			out:   nn.NewDense(p.OutW.Data, O, c.TgtVocab),
		}
	})
	return m.dense.w
}

// MaxSourceWords bounds the source length a decode accepts.
const MaxSourceWords = 80

// Load builds a model from checkpoint bytes.
func Load(id string, data []byte) (*Model, error) {
	f, err := checkpoint.ReadModel(data, KindTranslation, KindTrainState)
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
	m := &Model{ID: id, Title: f.MetaString("title"), TrainedOn: f.MetaString("trained_on"), Cfg: cfg, P: p, Src: src, Tgt: tgt}
	m.weights() // now, not on the first request
	return m, nil
}

// StepWeightBytes is the size of the decode step's matrices as the serving
// path holds them: float16 where the checkpoint's values are (nn.Dense).
func (m *Model) StepWeightBytes() int {
	w := m.weights()
	return w.att.Bytes() + w.gates.Bytes() + w.pre.Bytes() + w.out.Bytes()
}

// Info describes the model for the API and the page.
func (m *Model) Info() model.Info {
	return model.Info{ID: m.ID, Kind: "translation", Title: m.Title, SrcLang: m.Cfg.SrcLang, TgtLang: m.Cfg.TgtLang,
		Attention: m.Cfg.Attention, Params: m.P.Count(), Metrics: m.Metrics, TrainedOn: m.TrainedOn}
}

// OutputWords lists the target vocabulary, by id (model.Vocabulary).
func (m *Model) OutputWords() []string { return m.Tgt.Words() }

// Input errors; the server maps them to 4xx responses.
var (
	ErrEmpty   = &model.InputError{Kind: model.ErrInvalidInput, Msg: "the text has no words to translate (only control characters or spaces)"}
	ErrTooLong = &model.InputError{Kind: model.ErrInputTooLong, Msg: fmt.Sprintf("the text has too many words: at most %d words", MaxSourceWords)}
	ErrBadUTF8 = &model.InputError{Kind: model.ErrInvalidInput, Msg: "the text is not valid UTF-8"}
	// ErrNotEnglish: the text is not in the model's source language, or
	// too few of its words are in the model's vocabulary to translate it.
	ErrNotEnglish = &model.InputError{Kind: model.ErrInvalidInput, Msg: "this model translates English"}
)

// scripts names the writing systems a text outside the Latin alphabet is
// most likely in, for the refusal's message.
var scripts = []struct {
	name  string
	table *unicode.RangeTable
}{
	{"Korean (Hangul)", unicode.Hangul}, {"Chinese or Japanese (Han)", unicode.Han}, {"Japanese (kana)", unicode.Hiragana},
	{"Japanese (kana)", unicode.Katakana}, {"Cyrillic", unicode.Cyrillic}, {"Greek", unicode.Greek},
	{"Arabic", unicode.Arabic}, {"Hebrew", unicode.Hebrew}, {"Devanagari", unicode.Devanagari}, {"Thai", unicode.Thai},
}

// checkLanguage refuses text that the model cannot read: mostly letters
// outside the Latin alphabet, or mostly words it has never seen (at least
// three words, more than half of them unknown in any capitalisation).
// Numbers, punctuation and capitalised words after the first (names,
// which are copied) do not count.
func (m *Model) checkLanguage(words []string) error {
	var latin, other int
	counts := map[string]int{}
	for _, w := range words {
		for _, r := range w {
			switch {
			case !unicode.IsLetter(r):
			case unicode.Is(unicode.Latin, r):
				latin++
			default:
				other++
				for _, sc := range scripts {
					if unicode.Is(sc.table, r) {
						counts[sc.name]++
						break
					}
				}
			}
		}
	}
	if other > latin {
		name, best := "a script other than the Latin alphabet", 0
		for n, c := range counts {
			if c > best || (c == best && n < name) {
				name, best = n, c
			}
		}
		return fmt.Errorf("%w, and this text is written in %s: type an English sentence", ErrNotEnglish, name)
	}
	var n, unknown int
	for i, w := range words {
		if !hasLetter(w) || (i > 0 && startsUpper(w)) {
			continue
		}
		n++
		if !m.Src.Has(w) && !m.Src.Has(strings.ToLower(w)) && !m.Src.Has(capitalise(w)) {
			unknown++
		}
	}
	if n >= 3 && 2*unknown > n {
		return fmt.Errorf("%w: %d of the %d words are not in its vocabulary of %d English words, so it would only guess; is the text English?",
			ErrNotEnglish, unknown, n, m.Src.Len())
	}
	return nil
}

func hasLetter(w string) bool {
	for _, r := range w {
		if unicode.IsLetter(r) {
			return true
		}
	}
	return false
}

func capitalise(w string) string {
	r, n := utf8.DecodeRuneInString(w)
	return string(unicode.ToUpper(r)) + w[n:]
}

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
	if err := m.checkLanguage(words); err != nil {
		return nil, err
	}
	return m.Encode(AsSentence(words)), nil
}

// AsSentence writes typed words the way the training corpora write a
// sentence: both Multi30k and Tatoeba start every sentence with a capital
// and end it with punctuation, and the models read "the red car is fast"
// far worse than "The red car is fast." (en-fr: "La la rouge rouge est
// rapide rapide ." against "La voiture rouge est rapide ."). A lower-case
// first letter is capitalised and a full stop added after a last word
// that is a word; the page shows the tokens the model read, these
// included. It returns a new slice.
func AsSentence(words []string) []string {
	out := append([]string(nil), words...)
	if len(out) == 0 {
		return out
	}
	if r, _ := utf8.DecodeRuneInString(out[0]); unicode.IsLower(r) {
		out[0] = capitalise(out[0])
	}
	if r, _ := utf8.DecodeLastRuneInString(out[len(out)-1]); unicode.IsLetter(r) || unicode.IsDigit(r) {
		out = append(out, ".")
	}
	return out
}

// Encoded is a source sentence run through the encoder.
type Encoded struct {
	m     *Model
	w     *stepWeights
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
	ids := m.Src.IDs(c.SourceTokens(words, m.Src))
	e := &Encoded{m: m, w: m.weights(), words: words, ids: ids, x: make([]float32, S*D), ux: make([]float32, S*A), mean: make([]float32, D), h0: make([]float32, K)}

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
	t    int // words fed so far: the index of the word this state writes next
}

// stepMod changes how stepBatch computes a step: hand-set attention at one
// step (model.Options.Override) and a record of the numbers of a batch of
// one (Inspect).
type stepMod struct {
	override *model.Override
	rec      *model.StepRecord
}

// scratch holds the buffers one decode step needs, reused across steps.
type scratch struct {
	wh, att, ctx, gates, pre, logits []float32
	in                               []float32 // [emb; c_t; h], the stacked layers' input
}

func (e *Encoded) newScratch() *scratch {
	c := e.m.Cfg
	S := len(e.ids)
	return &scratch{
		wh: make([]float32, c.Att), att: make([]float32, S), ctx: make([]float32, c.D()),
		gates: make([]float32, 4*c.DecHidden), pre: make([]float32, c.PreOut), logits: make([]float32, c.TgtVocab),
		in: make([]float32, c.Emb+c.D()+c.DecHidden),
	}
}

// step advances st by feeding prev; it leaves the output distribution in
// sc.logits (as probabilities) and the attention weights in sc.att.
func (e *Encoded) step(st *state, prev int, sc *scratch) {
	e.stepBatch([]*state{st}, []int{prev}, []*scratch{sc}, stepMod{})
}

// stepBatch is step for every sts[i], fed prevs[i], with scs[i] as its
// buffers, for at most model.MaxBeam hypotheses (a beam); they share each
// pass over the weights; mod changes what it computes.
func (e *Encoded) stepBatch(sts []*state, prevs []int, scs []*scratch, mod stepMod) {
	c, p, w := e.m.Cfg, e.m.P, e.w
	S, E, D, A, K := len(e.ids), c.Emb, c.D(), c.Att, c.DecHidden
	n := len(sts)
	var xs, ys [model.MaxBeam][]float32 // the inputs and outputs of one batched product
	emb := func(i int) []float32 { return p.TgtEmb.Data[prevs[i]*E : (prevs[i]+1)*E] }
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
		for k, sc := range scs {
			for i := 0; i < S; i++ {
				sc.att[i] = nn.TanhAddDot(sc.wh, e.ux[i*A:(i+1)*A], p.AttV.Data) // e_ti = v·tanh(W h + U x_i + b)
			}
			if rec != nil {
				rec.Scores = slices.Clone(sc.att)
			}
			nn.SoftmaxInPlace(sc.att) // a_t = softmax(e_t)  (S)
			if rec != nil {
				rec.Weights = slices.Clone(sc.att)
			}
			if o := mod.override; o != nil && sts[k].t == o.Step {
				copy(sc.att, o.Weights)
			}
			clear(sc.ctx)
			for i := 0; i < S; i++ {
				a := sc.att[i]
				for j, v := range e.x[i*D : (i+1)*D] {
					sc.ctx[j] += a * v // c_t = Σ a_ti x_i  (D)
				}
			}
		}
	} else {
		for _, sc := range scs {
			for i := range sc.att {
				sc.att[i] = 1 / float32(S) // the fixed mean is uniform attention
			}
			copy(sc.ctx, e.mean)
		}
		if rec != nil {
			rec.Scores, rec.Weights = make([]float32, S), slices.Clone(scs[0].att)
		}
	}
	if rec != nil {
		rec.Used, rec.Ctx, rec.Beta = slices.Clone(scs[0].att), slices.Clone(scs[0].ctx), 1 // no gate: the context is read whole
	}
	for i, sc := range scs {
		copy(sc.in, emb(i))
		copy(sc.in[E:], sc.ctx)
		copy(sc.in[E+D:], sts[i].h)
		copy(sc.gates, p.DecB.Data)
		xs[i], ys[i] = sc.in, sc.gates
	}
	w.gates.MulAddBatch(ys[:n], xs[:n]) // [emb(y_{t-1}); c_t; h_{t-1}]·[Wy; Wc; Wh]  (4K)
	for i, sc := range scs {
		nn.LSTMCell(sc.gates, sts[i].h, sts[i].c) // h_t  (K)
		copy(sc.in, sts[i].h)
		copy(sc.in[K:], sc.ctx)
		copy(sc.in[K+D:], emb(i))
		copy(sc.pre, p.PreB.Data)
		xs[i], ys[i] = sc.in, sc.pre
	}
	w.pre.MulAddBatch(ys[:n], xs[:n]) // [h_t; c_t; emb]·[Wph; Wpc; Wpy]  (O)
	for i, sc := range scs {
		nn.TanhInPlace(sc.pre)
		copy(sc.logits, p.OutB.Data)
		xs[i], ys[i] = sc.pre, sc.logits
	}
	w.out.MulAddBatch(ys[:n], xs[:n]) // logits  (Vt)
	if rec != nil {
		rec.Logits = slices.Clone(scs[0].logits)
	}
	for i, sc := range scs {
		nn.SoftmaxInPlace(sc.logits) // p_t  (Vt)
		sts[i].t++
	}
}

// decoder adapts an encoded sentence to search.Decoder and
// search.BatchDecoder.
type decoder struct {
	e   *Encoded
	sc  *scratch
	scs *search.Scratches[*scratch] // StepAll's buffers, one per hypothesis
	mod stepMod                     // hand-set attention
}

func (d decoder) Start() *state {
	return &state{h: append([]float32(nil), d.e.h0...), c: make([]float32, d.e.m.Cfg.DecHidden)}
}

// clone is a copy of st that the next step may change.
func (st *state) clone() *state {
	return &state{h: slices.Clone(st.h), c: slices.Clone(st.c), t: st.t}
}

func (d decoder) Step(st *state, prev int) (*state, []float32, []float32) {
	next := st.clone()
	d.e.stepBatch([]*state{next}, []int{prev}, []*scratch{d.sc}, d.mod)
	return next, d.sc.logits, d.sc.att
}

func (d decoder) StepAll(sts []*state, prevs []int) ([]*state, [][]float32, [][]float32) {
	return search.StepBatch(sts, prevs, d.scs, (*state).clone,
		func(next []*state, scs []*scratch) { d.e.stepBatch(next, prevs, scs, d.mod) },
		func(sc *scratch) ([]float32, []float32) { return sc.logits, sc.att })
}

func (d decoder) Word(id int) string { return d.e.m.Tgt.Word(id) }

// Copy shows, for an unknown-word token, the source word the model looked
// at most (the classic unknown-word replacement), for a number
// placeholder the source number it looked at most, and for a name
// placeholder the source name (a word read as vocab.Name) it looked at
// most. A name or number already copied in this translation is passed
// over for one not yet copied, and a placeholder right after a copy takes
// the next source word when that is one too: "Kids Food Basket" comes out
// whole, not as "Food Food Food".
func (d decoder) Copy(id int, att []float32, prev []model.Step) (string, int) {
	w := d.e.m.Tgt.Word(id)
	isNum := d.e.m.Cfg.Numbers && w == vocab.Num
	isName := d.e.m.Cfg.Names && w == vocab.Name
	if id != vocab.Unk && !isNum && !isName {
		return "", 0
	}
	ok := func(int) bool { return true }
	switch {
	case isNum:
		ok = d.e.copiesNumber
	case isName:
		ok = d.e.copiesName
	}
	copied := copiedFrom(prev)
	if (isNum || isName) && len(prev) > 0 {
		if last := prev[len(prev)-1]; last.Copied {
			if next := last.CopiedFrom + 1; next < len(d.e.words) && ok(next) && !copied[next] {
				return d.e.words[next], next
			}
		}
	}
	i := mostAttended(att, func(i int) bool { return ok(i) && !copied[i] })
	if i < 0 {
		i = mostAttended(att, ok)
	}
	if i < 0 { // nothing of the kind to copy: as for an unknown word
		i = nn.TopK(att, 1)[0]
	}
	return d.e.words[i], i
}

// Copies reports how many numbers and names of the source (the positions
// Copy fills placeholders from) the steps prev copied, and the
// placeholders that would copy one more.
func (d decoder) Copies(prev []model.Step) (int, []int) {
	done := copiedFrom(prev)
	copied, num, name := 0, false, false
	for i := range d.e.words {
		isNum := d.e.copiesNumber(i)
		if !isNum && !d.e.copiesName(i) {
			continue
		}
		if done[i] {
			copied++
		} else if isNum {
			num = true
		} else {
			name = true
		}
	}
	var next []int
	if num {
		next = append(next, d.e.m.Tgt.ID(vocab.Num))
	}
	if name {
		next = append(next, d.e.m.Tgt.ID(vocab.Name))
	}
	return copied, next
}

// copiesNumber and copiesName say whether source position i is a number
// or a name that a placeholder is filled from.
func (e *Encoded) copiesNumber(i int) bool {
	return e.m.Cfg.Numbers && vocab.IsNumber(e.words[i])
}

func (e *Encoded) copiesName(i int) bool {
	return e.m.Cfg.Names && e.ids[i] == e.m.Src.ID(vocab.Name)
}

// copiedFrom is the set of source positions the steps prev copied.
func copiedFrom(prev []model.Step) map[int]bool {
	copied := map[int]bool{}
	for _, s := range prev {
		if s.Copied {
			copied[s.CopiedFrom] = true
		}
	}
	return copied
}

// mostAttended is the position with the largest attention weight among
// those where ok holds, or -1 if there is none.
func mostAttended(att []float32, ok func(int) bool) int {
	best := -1
	for i, a := range att {
		if ok(i) && (best < 0 || a > att[best]) {
			best = i
		}
	}
	return best
}

// Decode yields the translation one word at a time (see search.Decode).
func (e *Encoded) Decode(ctx context.Context, opts model.Options) iter.Seq2[model.Step, error] {
	if o := opts.Override; o != nil {
		if err := e.checkOverride(o.Weights); err != nil {
			return func(yield func(model.Step, error) bool) { yield(model.Step{}, err) }
		}
	}
	if opts.LenAlpha == 0 {
		opts.LenAlpha = e.m.LenAlpha
	}
	return search.Decode(ctx, decoder{e: e, sc: e.newScratch(), scs: &search.Scratches[*scratch]{New: e.newScratch},
		mod: stepMod{override: opts.Override}}, opts)
}

// checkOverride says what is wrong with hand-set weights for this sentence.
func (e *Encoded) checkOverride(w []float32) error {
	if !e.m.Cfg.Attention {
		return &model.InputError{Kind: model.ErrInvalidInput, Msg: "this model has no attention to set: it reads one summary of the whole sentence"}
	}
	return model.CheckWeights(w, len(e.ids))
}

// maxInspectWords bounds the prefix Inspect feeds.
const maxInspectWords = 2 * MaxSourceWords

// Inspect feeds the words of prefix and returns the next step in numbers
// (model.Inspector), its attention set to override when that is not nil.
func (e *Encoded) Inspect(prefix []int, override []float32, topK int) (*model.Glass, error) {
	if len(prefix) > maxInspectWords {
		return nil, &model.InputError{Kind: model.ErrInputTooLong, Msg: fmt.Sprintf("step %d: at most %d words can be fed", len(prefix), maxInspectWords)}
	}
	var mod stepMod
	if override != nil {
		if err := e.checkOverride(override); err != nil {
			return nil, err
		}
		mod.override = &model.Override{Step: len(prefix), Weights: override}
	}
	d := decoder{e: e, sc: e.newScratch()}
	st, prev, err := search.Feed(d, prefix, e.m.Cfg.TgtVocab)
	if err != nil {
		return nil, err
	}
	rec := &model.StepRecord{}
	mod.rec = rec
	e.stepBatch([]*state{st.clone()}, []int{prev}, []*scratch{d.sc}, mod)
	return rec.Glass(len(prefix), topK, e.m.Tgt.Word), nil
}

// Translate translates typed text the way the server does: Prepare (the
// same checks, tokenisation and sentence form), then decode, and writes the
// output as text.
func (m *Model) Translate(text string, opts model.Options) (string, error) {
	p, err := m.Prepare(text)
	if err != nil {
		return "", err
	}
	var out []string
	for s, err := range p.Decode(context.Background(), opts) {
		if err != nil {
			return "", err
		}
		out = append(out, s.Token)
	}
	return vocab.Detokenize(out, m.Cfg.TgtLang), nil
}

// String summarises the model's sizes.
func (c Config) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s->%s E%d H%dx2 K%d A%d O%d Vs%d Vt%d attention=%v", c.SrcLang, c.TgtLang, c.Emb, c.EncHidden, c.DecHidden, c.Att, c.PreOut, c.SrcVocab, c.TgtVocab, c.Attention)
	return b.String()
}

// TeacherForced is the probability the serving path gives each of the
// target ids tgt (then </s>) after the ones before it, and each step's
// attention over the source (S).
func (e *Encoded) TeacherForced(tgt []int) (probs []float32, att [][]float32) {
	return search.TeacherForce(decoder{e: e, sc: e.newScratch()}, tgt)
}
