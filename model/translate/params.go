// Package translate is an encoder-decoder LSTM with additive (Bahdanau)
// attention, and the same model without attention for comparison.
//
// Shapes: B batch, S source length, T target length, E embedding,
// H encoder hidden per direction, D = 2H encoder output, K decoder hidden,
// A attention, O pre-output, Vs / Vt source / target vocabulary.
//
// Equations, for decoder step t with previous state h_{t-1}:
//
//	e_ti = v·tanh(W h_{t-1} + U x_i + b_a)      additive attention scores
//	a_t  = softmax(e_t)  (masked over padding)  attention weights over the source
//	c_t  = Σ_i a_ti x_i                         context
//	h_t  = LSTM([emb(y_{t-1}); c_t], h_{t-1})   decoder step
//	p_t  = softmax(Wo tanh(Wp [h_t; c_t; emb(y_{t-1})] + bp) + bo)
//
// Without attention, c_t is the same fixed vector at every step: the masked
// mean of the encoder outputs, the bottleneck that attention removes.
package translate

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"attention/model/checkpoint"
	"attention/model/nn"
	"attention/model/vocab"
)

// Config fixes the model's sizes.
type Config struct {
	SrcLang   string `json:"src_lang"`
	TgtLang   string `json:"tgt_lang"`
	SrcVocab  int    `json:"src_vocab"` // Vs
	TgtVocab  int    `json:"tgt_vocab"` // Vt
	Emb       int    `json:"emb"`       // E
	EncHidden int    `json:"enc_hidden"`
	DecHidden int    `json:"dec_hidden"`
	Att       int    `json:"att"`
	PreOut    int    `json:"pre_out"`
	Attention bool   `json:"attention"` // false: fixed context (no-attention baseline)
	// Numbers: every number in the training text was replaced by vocab.Num,
	// and the decoder copies the source number it attends to.
	Numbers bool `json:"copy_numbers,omitempty"`
	// Names: names the training targets kept as written were replaced by
	// vocab.Name (PairTokens), and the decoder copies the source name it
	// attends to (SourceTokens).
	Names bool `json:"copy_names,omitempty"`
	// KeptNames are the names the training targets keep as written
	// (sorted; see NewLexicon): read as vocab.Name wherever they appear.
	KeptNames []string `json:"kept_names,omitempty"`
}

// Tokens are the model's tokens for words: numbers masked if it copies them.
func (c Config) Tokens(words []string) []string {
	if c.Numbers {
		return vocab.MaskNumbers(words)
	}
	return words
}

// D is the encoder output width (both directions).
func (c Config) D() int { return 2 * c.EncHidden }

// Param is one named weight array with its shape.
type Param = nn.Param

// Params holds every weight of the model. Field comments give shapes.
type Params struct {
	SrcEmb *Param // (Vs, E)
	TgtEmb *Param // (Vt, E)

	FwdWx, FwdWh, FwdB *Param // (E, 4H), (H, 4H), (4H)
	BwdWx, BwdWh, BwdB *Param // (E, 4H), (H, 4H), (4H)

	InitW, InitB *Param // (D, K), (K): h_0 = tanh(mean(x)·InitW + InitB)

	AttW, AttU, AttB, AttV *Param // (K, A), (D, A), (A), (A)

	DecWy, DecWc, DecWh, DecB *Param // (E, 4K), (D, 4K), (K, 4K), (4K)

	PreWh, PreWc, PreWy, PreB *Param // (K, O), (D, O), (E, O), (O)
	OutW, OutB                *Param // (O, Vt), (Vt)
}

// List returns the parameters in a fixed order (the checkpoint order).
func (p *Params) List() []*Param {
	return []*Param{
		p.SrcEmb, p.TgtEmb,
		p.FwdWx, p.FwdWh, p.FwdB, p.BwdWx, p.BwdWh, p.BwdB,
		p.InitW, p.InitB,
		p.AttW, p.AttU, p.AttB, p.AttV,
		p.DecWy, p.DecWc, p.DecWh, p.DecB,
		p.PreWh, p.PreWc, p.PreWy, p.PreB,
		p.OutW, p.OutB,
	}
}

// Count is the number of weights.
func (p *Params) Count() int { return nn.Count(p.List()) }

// NewParams allocates zeroed parameters for cfg.
func NewParams(c Config) *Params {
	E, H, D, K, A, O := c.Emb, c.EncHidden, c.D(), c.DecHidden, c.Att, c.PreOut
	return &Params{
		SrcEmb: nn.NewParam("src_emb", c.SrcVocab, E),
		TgtEmb: nn.NewParam("tgt_emb", c.TgtVocab, E),
		FwdWx:  nn.NewParam("enc_fwd_wx", E, 4*H), FwdWh: nn.NewParam("enc_fwd_wh", H, 4*H), FwdB: nn.NewParam("enc_fwd_b", 4*H),
		BwdWx: nn.NewParam("enc_bwd_wx", E, 4*H), BwdWh: nn.NewParam("enc_bwd_wh", H, 4*H), BwdB: nn.NewParam("enc_bwd_b", 4*H),
		InitW: nn.NewParam("init_w", D, K), InitB: nn.NewParam("init_b", K),
		AttW: nn.NewParam("att_w", K, A), AttU: nn.NewParam("att_u", D, A), AttB: nn.NewParam("att_b", A), AttV: nn.NewParam("att_v", A),
		DecWy: nn.NewParam("dec_wy", E, 4*K), DecWc: nn.NewParam("dec_wc", D, 4*K), DecWh: nn.NewParam("dec_wh", K, 4*K), DecB: nn.NewParam("dec_b", 4*K),
		PreWh: nn.NewParam("pre_wh", K, O), PreWc: nn.NewParam("pre_wc", D, O), PreWy: nn.NewParam("pre_wy", E, O), PreB: nn.NewParam("pre_b", O),
		OutW: nn.NewParam("out_w", O, c.TgtVocab), OutB: nn.NewParam("out_b", c.TgtVocab),
	}
}

// Init fills the weights: uniform Glorot for matrices, N(0, 1) for
// embeddings, zero biases except the LSTM forget gates (1). Unit-scale
// embeddings matter: at 0.1 the encoder's outputs start so small that the
// decoder learns to ignore the source and trains as a language model.
func (p *Params) Init(rng *rand.Rand) {
	for _, q := range p.List() {
		switch {
		case len(q.Shape) == 1:
			clear(q.Data)
		case q == p.SrcEmb || q == p.TgtEmb:
			for i := range q.Data {
				q.Data[i] = float32(rng.NormFloat64())
			}
		default:
			lim := math.Sqrt(6 / float64(q.Shape[0]+q.Shape[1]))
			for i := range q.Data {
				q.Data[i] = float32((rng.Float64()*2 - 1) * lim)
			}
		}
	}
	for _, b := range []*Param{p.FwdB, p.BwdB, p.DecB} {
		n := len(b.Data) / 4
		for i := n; i < 2*n; i++ {
			b.Data[i] = 1
		}
	}
	// v starts small so that early attention is spread, not arbitrary.
	for i := range p.AttV.Data {
		p.AttV.Data[i] = float32((rng.Float64()*2 - 1) * 0.1)
	}
}

// KindTranslation names translation checkpoints.
const KindTranslation = "translation"

// KindTrainState is the kind of a resumable training state (weights,
// optimiser moments and progress); Load reads its weights as a model.
const KindTrainState = "translation-train-state"

// ToCheckpoint packs config, vocabularies, metadata and weights into a file.
// half stores the weights as float16.
func ToCheckpoint(c Config, p *Params, src, tgt []string, meta map[string]any, half bool) (*checkpoint.File, error) {
	cfg, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	f := &checkpoint.File{Kind: KindTranslation, Config: cfg, Meta: meta,
		Vocabs: map[string][]string{"src": src, "tgt": tgt}}
	f.Tensors = nn.Tensors(p.List(), half)
	return f, nil
}

// FromCheckpoint unpacks a translation checkpoint.
func FromCheckpoint(f *checkpoint.File) (Config, *Params, error) {
	var c Config
	if f.Kind != KindTranslation {
		return c, nil, fmt.Errorf("translate: checkpoint holds a %q model, not a translation model", f.Kind)
	}
	if err := json.Unmarshal(f.Config, &c); err != nil {
		return c, nil, fmt.Errorf("translate: config: %w", err)
	}
	p := NewParams(c)
	if err := nn.LoadParams(f, p.List()); err != nil {
		return c, nil, err
	}
	return c, p, nil
}

// Remap maps each word id of to to its id in from, or -1.
func Remap(to, from *vocab.Vocab) []int {
	m := make([]int, to.Len())
	for i, w := range to.Words() {
		m[i] = -1
		if from.Has(w) {
			m[i] = from.ID(w)
		}
	}
	return m
}

// CopyFrom carries q's weights into p, whose vocabularies may differ:
// srcMap[i] and tgtMap[i] are the ids in q of p's word i (-1: a new word,
// which keeps p's own initial weights and gets an output bias as low as
// q's rarer words). Every other weight must have the same shape.
func (p *Params) CopyFrom(q *Params, srcMap, tgtMap []int) error {
	pl, ql := p.List(), q.List()
	for i, a := range pl {
		b := ql[i]
		switch a {
		case p.SrcEmb, p.TgtEmb:
			m := srcMap
			if a == p.TgtEmb {
				m = tgtMap
			}
			E := a.Shape[1]
			if b.Shape[1] != E {
				return fmt.Errorf("%s: width %d, want %d", a.Name, b.Shape[1], E)
			}
			for w, old := range m {
				if old >= 0 {
					copy(a.Data[w*E:(w+1)*E], b.Data[old*E:(old+1)*E])
				}
			}
		case p.OutW:
			O, V, oldV := a.Shape[0], a.Shape[1], b.Shape[1]
			if b.Shape[0] != O {
				return fmt.Errorf("%s: %d rows, want %d", a.Name, b.Shape[0], O)
			}
			for r := range O {
				for w, old := range tgtMap {
					if old >= 0 {
						a.Data[r*V+w] = b.Data[r*oldV+old]
					}
				}
			}
		case p.OutB:
			low := append([]float32(nil), b.Data...)
			slices.Sort(low)
			rare := low[len(low)/10]
			for w, old := range tgtMap {
				if old >= 0 {
					a.Data[w] = b.Data[old]
				} else {
					a.Data[w] = rare
				}
			}
		default:
			if !slices.Equal(a.Shape, b.Shape) {
				return fmt.Errorf("%s: shape %v, want %v", a.Name, b.Shape, a.Shape)
			}
			copy(a.Data, b.Data)
		}
	}
	return nil
}

// Random is a model of shape c with random weights (Init, then Gaussian
// noise of standard deviation jitter, so that every path carries gradient)
// and synthetic vocabularies: for tests and benchmarks, whose timings do
// not depend on the values.
func Random(c Config, seed uint64, jitter float64) *Model {
	p := NewParams(c)
	rng := rand.New(rand.NewPCG(seed, 1))
	p.Init(rng)
	nn.Jitter(p.List(), rng, jitter)
	return &Model{Cfg: c, P: p, Src: vocab.Synthetic(c.SrcVocab), Tgt: vocab.Synthetic(c.TgtVocab)}
}
