// Package caption is Show, Attend and Tell: an LSTM decoder with soft
// attention over a grid of CNN region features.
//
// Shapes: B batch, R regions (rows x cols), F CNN feature depth, D projected
// feature, E embedding, K hidden, A attention, T caption length, V vocab.
//
// Equations, for step t with previous state h_{t-1}:
//
//	x_i  = W_p f_i + b_p                       projected region features
//	h_0  = tanh(W_h mean(x) + b_h); c_0 = tanh(W_c mean(x) + b_c)
//	       (constant start: h_0 = tanh(b_h), c_0 = tanh(b_c), so that the
//	       image reaches the decoder through attention alone)
//	e_ti = v·tanh(W h_{t-1} + U x_i + b_a)     soft attention scores
//	α_t  = softmax(e_t)                        weights over the regions
//	β_t  = σ(w_β·h_{t-1} + b_β)                the gating scalar
//	z_t  = β_t Σ_i α_ti x_i                    gated context
//	h_t  = LSTM([emb(y_{t-1}); z_t], h_{t-1})
//	p_t  = softmax(W_o (emb(y_{t-1}) + L_h h_t + L_z z_t) + b_o)   deep output
//
// Training adds the doubly stochastic regulariser λ Σ_i (τ - Σ_t α_ti)²
// (τ = 1 in the paper) to the mean negative log-likelihood, and, for a
// supervised model, at every step whose word names an object that a
// segmentation network found in the photo,
//
//	μ · -log(Σ_i m_i α_ti)                     m_i: share of region i that is the object
//
// averaged over those steps: the attention mass on the object's pixels
// (attention correctness, Liu et al. 2017) pulled up.
//
// Without attention (Config.Attention false) the model is Show and Tell
// (Vinyals et al. 2015): the image enters once, as the start state h_0,
// c_0 from mean(x), and no step reads a context (z_t = 0). Vinyals et al.
// feed the image as the LSTM's first input; the start state is the usual
// variant, and the same one the attention model starts from.
package caption

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"

	"attention/model/checkpoint"
	"attention/model/nn"
	"attention/model/vocab"
)

// Config fixes the model's sizes.
type Config struct {
	Rows, Cols int // region grid
	Feat       int // F
	Proj       int // D
	Emb        int // E
	Hidden     int // K
	Att        int // A
	Vocab      int // V
	Attention  bool
	// ConstStart: h_0 and c_0 from their biases alone, not from the mean
	// region; the decoder must look to see.
	ConstStart bool `json:"const_start,omitempty"`
}

// R is the number of regions.
func (c Config) R() int { return c.Rows * c.Cols }

// Param is one named weight array.
type Param = nn.Param

// Params holds every weight; comments give shapes.
type Params struct {
	ProjW, ProjB           *Param // (F, D), (D)
	InitHW, InitHB         *Param // (D, K), (K)
	InitCW, InitCB         *Param // (D, K), (K)
	AttW, AttU, AttB, AttV *Param // (K, A), (D, A), (A), (A)
	GateW, GateB           *Param // (K, 1), (1)
	Emb                    *Param // (V, E)
	DecWy, DecWz, DecWh    *Param // (E, 4K), (D, 4K), (K, 4K)
	DecB                   *Param // (4K)
	OutLh, OutLz           *Param // (K, E), (D, E)
	OutW, OutB             *Param // (E, V), (V)
}

// List returns the parameters in checkpoint order.
func (p *Params) List() []*Param {
	return []*Param{p.ProjW, p.ProjB, p.InitHW, p.InitHB, p.InitCW, p.InitCB,
		p.AttW, p.AttU, p.AttB, p.AttV, p.GateW, p.GateB, p.Emb,
		p.DecWy, p.DecWz, p.DecWh, p.DecB, p.OutLh, p.OutLz, p.OutW, p.OutB}
}

// Count is the number of weights.
func (p *Params) Count() int { return nn.Count(p.List()) }

// NewParams allocates zeroed parameters.
func NewParams(c Config) *Params {
	F, D, E, K, A, V := c.Feat, c.Proj, c.Emb, c.Hidden, c.Att, c.Vocab
	return &Params{
		ProjW: nn.NewParam("proj_w", F, D), ProjB: nn.NewParam("proj_b", D),
		InitHW: nn.NewParam("init_h_w", D, K), InitHB: nn.NewParam("init_h_b", K),
		InitCW: nn.NewParam("init_c_w", D, K), InitCB: nn.NewParam("init_c_b", K),
		AttW: nn.NewParam("att_w", K, A), AttU: nn.NewParam("att_u", D, A), AttB: nn.NewParam("att_b", A), AttV: nn.NewParam("att_v", A),
		GateW: nn.NewParam("gate_w", K, 1), GateB: nn.NewParam("gate_b", 1),
		Emb:   nn.NewParam("emb", V, E),
		DecWy: nn.NewParam("dec_wy", E, 4*K), DecWz: nn.NewParam("dec_wz", D, 4*K), DecWh: nn.NewParam("dec_wh", K, 4*K), DecB: nn.NewParam("dec_b", 4*K),
		OutLh: nn.NewParam("out_lh", K, E), OutLz: nn.NewParam("out_lz", D, E),
		OutW: nn.NewParam("out_w", E, V), OutB: nn.NewParam("out_b", V),
	}
}

// Init fills the weights: Glorot-uniform matrices, N(0, 1) embeddings,
// zero biases except the LSTM forget gate (1).
func (p *Params) Init(rng *rand.Rand) {
	for _, q := range p.List() {
		switch {
		case len(q.Shape) == 1:
			clear(q.Data)
		case q == p.Emb:
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
	n := len(p.DecB.Data) / 4
	for i := n; i < 2*n; i++ {
		p.DecB.Data[i] = 1
	}
	for i := range p.AttV.Data {
		p.AttV.Data[i] = float32((rng.Float64()*2 - 1) * 0.1)
	}
}

// Kind names caption checkpoints.
const Kind = "caption"

// KindTrainState is the kind of a resumable training state (weights,
// optimiser moments and progress); Load reads its weights as a model.
const KindTrainState = "caption-train-state"

// ToCheckpoint packs config, vocabulary, metadata and weights.
func ToCheckpoint(c Config, p *Params, words []string, meta map[string]any, half bool) (*checkpoint.File, error) {
	cfg, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	f := &checkpoint.File{Kind: Kind, Config: cfg, Meta: meta, Vocabs: map[string][]string{"words": words}}
	f.Tensors = nn.Tensors(p.List(), half)
	return f, nil
}

// FromCheckpoint unpacks a caption checkpoint.
func FromCheckpoint(f *checkpoint.File) (Config, *Params, error) {
	var c Config
	if f.Kind != Kind {
		return c, nil, fmt.Errorf("caption: checkpoint holds a %q model, not a caption model", f.Kind)
	}
	if err := json.Unmarshal(f.Config, &c); err != nil {
		return c, nil, fmt.Errorf("caption: config: %w", err)
	}
	p := NewParams(c)
	if err := nn.LoadParams(f, p.List()); err != nil {
		return c, nil, err
	}
	return c, p, nil
}

// Random is a model of shape c with random weights (Init, then Gaussian
// noise of standard deviation jitter, so that every path carries gradient)
// and a synthetic vocabulary: for tests and benchmarks, whose timings do
// not depend on the values.
func Random(c Config, seed uint64, jitter float64) *Model {
	p := NewParams(c)
	rng := rand.New(rand.NewPCG(seed, 1))
	p.Init(rng)
	nn.Jitter(p.List(), rng, jitter)
	return &Model{Cfg: c, P: p, Words: vocab.Synthetic(c.Vocab)}
}
