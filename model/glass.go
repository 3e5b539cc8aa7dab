package model

import (
	"fmt"
	"math"
	"slices"

	"attention/model/nn"
)

// Override is one step's attention set by hand (Options.Override): step
// Step (0 is the first word) reads the context vector made with Weights,
// one per source position, instead of the model's own weights; the rest of
// that step is computed as usual.
type Override struct {
	Step    int       `json:"step"`
	Weights []float32 `json:"weights"`
}

// CheckWeights says what is wrong with hand-set attention weights for n
// source positions: each finite and in [0, 1], summing to 1 (within 1e-3).
func CheckWeights(w []float32, n int) error {
	if len(w) != n {
		return &InputError{Kind: ErrInvalidInput, Msg: fmt.Sprintf("attention weights: %d given for %d source positions", len(w), n)}
	}
	var sum float64
	for i, v := range w {
		if !(v >= 0 && v <= 1) {
			return &InputError{Kind: ErrInvalidInput, Msg: fmt.Sprintf("attention weight %d is %v: each must be between 0 and 1", i, v)}
		}
		sum += float64(v)
	}
	if math.Abs(sum-1) > 1e-3 {
		return &InputError{Kind: ErrInvalidInput, Msg: fmt.Sprintf("attention weights add up to %.4f: they must add up to 1", sum)}
	}
	return nil
}

// Glass is one decoder step in numbers: what the equations of the model
// card compute, small enough to read.
type Glass struct {
	Step  int     `json:"step"`   // 0 is the first word
	HNorm float32 `json:"h_norm"` // |h_{t-1}|: the state the step starts from
	// Scores are e_ti = v·tanh(W h_{t-1} + U x_i + b), one per source
	// position; Weights = softmax(Scores) are the model's own attention.
	Scores  []float32 `json:"scores"`
	Weights []float32 `json:"weights"`
	// Used are the weights the step read: Weights, or an override.
	Used    []float32 `json:"used"`
	CtxNorm float32   `json:"ctx_norm"` // |c_t|, c_t = Σ_i used_i x_i
	CtxHead []float32 `json:"ctx_head"` // c_t's first values
	CtxSize int       `json:"ctx_size"` // c_t's length
	// Beta is the caption decoder's gate β_t = σ(f_β(h_{t-1})), which
	// scales the context (z_t = β_t c_t); 1 for a translation.
	Beta float32 `json:"beta"`
	// Logits are the largest output scores (Alt.Prob holds the logit);
	// LogSumExp is log Σ_w exp(logit_w), so p_w = exp(logit_w - LogSumExp).
	Logits    []Alt   `json:"logits"`
	LogSumExp float32 `json:"log_sum_exp"`
	// TopK is the step's distribution: its most probable words, before a
	// decode's rules (a caption never writes the unknown-word token).
	TopK []Alt `json:"top_k"`
	// Word is the most probable word.
	Word string `json:"word"`
}

// Inspector is a prepared source whose steps can be opened: Inspect feeds
// the decoder the words of prefix (vocabulary ids, as the model wrote or
// was forced to write them) and returns the next step in numbers, with its
// attention set to override when that is not nil.
type Inspector interface {
	Inspect(prefix []int, override []float32, topK int) (*Glass, error)
}

// ctxHead is how many of the context vector's values the glass shows.
const ctxHead = 8

// StepRecord is what one decoder step computed, recorded for the glass
// box: the state it started from, the attention scores, the model's
// weights and those used, the context vector, the gate and the logits.
type StepRecord struct {
	H, Scores, Weights, Used, Ctx, Logits []float32
	Beta                                  float32
}

// Glass is the recorded step as a glass box, with its topK largest logits;
// word names a vocabulary id.
func (r *StepRecord) Glass(step, topK int, word func(int) string) *Glass {
	g := &Glass{Step: step, HNorm: norm(r.H), Scores: slices.Clone(r.Scores), Weights: slices.Clone(r.Weights),
		Used: slices.Clone(r.Used), CtxNorm: norm(r.Ctx), CtxHead: slices.Clone(r.Ctx[:min(ctxHead, len(r.Ctx))]),
		CtxSize: len(r.Ctx), Beta: r.Beta}
	m := float64(nn.Max(r.Logits))
	var sum float64
	for _, v := range r.Logits {
		sum += math.Exp(float64(v) - m)
	}
	g.LogSumExp = float32(m + math.Log(sum))
	for _, id := range nn.TopK(r.Logits, max(topK, 1)) {
		logit := r.Logits[id]
		g.Logits = append(g.Logits, Alt{Token: word(id), ID: id, Prob: logit})
		g.TopK = append(g.TopK, Alt{Token: word(id), ID: id, Prob: float32(math.Exp(float64(logit) - float64(g.LogSumExp)))})
	}
	g.Word = g.TopK[0].Token
	return g
}

func norm(x []float32) float32 {
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return float32(math.Sqrt(s))
}

// TreeNode is one hypothesis that beam search kept after a step
// (Options.Tree): its last word, the hypothesis it grew from, and its
// scores.
type TreeNode struct {
	ID      int    `json:"id"`
	Parent  int    `json:"parent"` // -1: it grew from the start
	Step    int    `json:"step"`   // the index of its last word
	Token   string `json:"token"`
	TokenID int    `json:"token_id"`
	// LogProb is the hypothesis's cumulative log-probability; Score is
	// LogProb over GNMT's length penalty ((5+n)/6)^α, what the search
	// compares finished hypotheses by.
	LogProb float64 `json:"log_prob"`
	Score   float64 `json:"score"`
	// Final: the hypothesis ends here (its word is the end of sentence).
	Final     bool      `json:"final,omitempty"`
	Attention []float32 `json:"attention"`
	TopK      []Alt     `json:"top_k"`
}

// TreeLevel is one step of the search: the hypotheses kept after it; the
// last level, with Nodes empty, names the Winner.
type TreeLevel struct {
	Step   int        `json:"step"`
	Nodes  []TreeNode `json:"nodes,omitempty"`
	Winner int        `json:"winner"` // the winning hypothesis's last node; -1 until the end
}

// ByLength is a translation model's score by source length beside its
// baseline's, as cmd/eval -by-length measured them: the figure the page
// draws under "with vs without attention".
type ByLength struct {
	Buckets []LengthRange  `json:"buckets"`
	Series  []LengthScores `json:"series"`
}

// LengthRange is a range of source lengths in words (Hi 0: no upper end)
// and how many test sentences fall in it.
type LengthRange struct {
	Lo int `json:"lo"`
	Hi int `json:"hi"`
	N  int `json:"n"`
}

// LengthScores is one model's BLEU in each range.
type LengthScores struct {
	Name  string    `json:"name"`
	Model string    `json:"model"`
	BLEU  []float64 `json:"bleu"`
}
