package main

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"attention/internal/openblas"
	"attention/model/caption"
	"attention/model/nn"
	"attention/model/train"
	"attention/model/translate"
	"attention/model/vocab"
)

// Training shape for the throughput row: a full batch of sentences as
// long as a typical Multi30k pair.
const (
	trainBatch = 64
	trainSrc   = 16
	trainTgt   = 16 // target steps, including </s>
)

// trainingRow times one training step (forward, backward, Adam) of the
// translation model at the shipped checkpoint's sizes, ours (the graph
// cmd/train runs) against the same architecture in PyTorch.
func trainingRow(ctx context.Context, o options, work string) (row, error) {
	r := row{Name: fmt.Sprintf("training step, translation B%d S%d T%d", trainBatch, trainSrc, trainTgt), Unit: "ms"}
	m, _, err := loadTranslator(o)
	if err != nil {
		return r, err
	}
	c := m.Cfg
	p := translate.NewParams(c)
	rng := rand.New(rand.NewPCG(3, 4))
	p.Init(rng)
	st, err := train.NewStepper(c, p, trainBatch, trainSrc, trainTgt)
	if err != nil {
		return r, err
	}
	batch := make([]translate.Example, trainBatch)
	for i := range batch {
		ex := translate.Example{Src: make([]int, trainSrc), Tgt: make([]int, trainTgt-1)}
		for j := range ex.Src {
			ex.Src[j] = 4 + rng.IntN(c.SrcVocab-4)
		}
		for j := range ex.Tgt {
			ex.Tgt[j] = 4 + rng.IntN(c.TgtVocab-4)
		}
		batch[i] = ex
	}
	// The batch as the graph sees it: <s> then the target words in, the
	// target words then </s> out.
	src, tin, tout := make([][]int, len(batch)), make([][]int, len(batch)), make([][]int, len(batch))
	for i, ex := range batch {
		src[i] = ex.Src
		tin[i] = append([]int{vocab.BOS}, ex.Tgt...)
		tout[i] = append(append([]int(nil), ex.Tgt...), vocab.EOS)
	}
	req := map[string]any{"config": c, "src": src, "tgt_in": tin, "tgt_out": tout}
	return trainRow(ctx, o, work, r, "train", st, p.List(), batch, req, trainBatch*trainTgt)
}

// trainDir is where trainRow keeps a task's files for the peer.
func trainDir(work, task string) string { return filepath.Join(work, task) }

// trainStepper is a model's training step, for trainRow.
type trainStepper[E any] interface {
	Gradients(batch []E) (float32, [][]float32, error)
	Step(batch []E, lr, dropout float64) (float32, int, error)
}

// trainRow checks a training step against the PyTorch peer's task, then
// times both: ours first, then the peer (whose answer carries its time).
// req describes the batch and the model to the peer (its files are in
// work/task); tokens is the number of target words a step trains on.
func trainRow[E any](ctx context.Context, o options, work string, r row, task string, st trainStepper[E], params []*nn.Param, batch []E, req map[string]any, tokens int) (row, error) {
	dir := trainDir(work, task)
	// Parity first, at the weights both sides start from: one step's loss
	// and gradients, then the losses of trainAdamSteps Adam updates.
	check, err := trainParity(st, params, batch, dir)
	if err != nil {
		return r, err
	}
	step := func() (float64, error) {
		t := time.Now()
		_, _, err := st.Step(batch, 1e-3, 0.3)
		return float64(time.Since(t).Microseconds()) / 1e3, err
	}
	var times []float64
	for i := 0; i < 2; i++ { // warm-up
		if _, err := step(); err != nil {
			return r, err
		}
	}
	end := time.Now().Add(time.Duration(o.seconds * 2 * float64(time.Second)))
	for time.Now().Before(end) || len(times) < 5 {
		ms, err := step()
		if err != nil {
			return r, err
		}
		times = append(times, ms)
	}
	r.Ours = median(times)
	tok := func(ms float64) float64 { return float64(tokens) / (ms / 1e3) }
	r.Note = fmt.Sprintf("ours %.0f target tok/s with %s", tok(r.Ours), openblas.Name())
	if why := havePython(o.python); why != "" {
		r.Note += "; PyTorch peer skipped: " + why
		return r, nil
	}
	for k, v := range req {
		check.req[k] = v
	}
	check.req["seconds"] = o.seconds * 2
	if err := writeJSON(filepath.Join(dir, "req.json"), check.req); err != nil {
		return r, err
	}
	var tr trainResp
	if err := runPeer(ctx, torchEnv, &tr, o.python, filepath.Join(work, "peer_torch.py"), task, dir); err != nil {
		r.failed, r.Note = true, r.Note+"; PyTorch: "+err.Error()
		return r, nil
	}
	par, err := check.compare(tr, dir)
	if err != nil {
		return r, err
	}
	fmt.Fprintf(o.log, "  %s: %s\n", r.Name, par)
	r.Note = par.String() + "; " + r.Note
	if r.failed = !par.ok(); r.failed {
		return r, nil
	}
	r.Peer = tr.StepUS.Median / 1e3
	r.Note += fmt.Sprintf(", PyTorch %.0f tok/s (%s; it trains %d weights, ours %d: its LSTMs' second bias vectors are held at zero)",
		tok(r.Peer), tr.Threads, tr.Params, nn.Count(params))
	return r, nil
}

// trainAdamSteps is how many Adam updates both sides take from the same
// weights on the same batch before their losses are compared.
const trainAdamSteps = 20

// Training parity tolerances: the first loss and each parameter's gradient
// (the largest difference over the tensor, over the L2 norm of ours), and
// the losses after each Adam step.
const (
	trainLossTol  = 1e-4
	trainGradTol  = 1e-3
	trainTrackTol = 1e-3
)

// trainCheck is what the peer must reproduce: our exported weights, the
// batch, our loss and gradients, and our losses over trainAdamSteps steps.
type trainCheck struct {
	req    map[string]any
	names  []string
	loss   float32
	grads  [][]float32
	losses []float32
}

type trainResp struct {
	Loss    float32   `json:"loss"`
	Grads   []string  `json:"grads"` // files in the work directory, in the order of the weights sent
	Losses  []float32 `json:"losses"`
	StepUS  timing    `json:"step_us"`
	Params  int       `json:"params"`
	Threads string    `json:"threads"`
}

// trainParity exports params, computes our loss and gradients on batch
// with dropout off, then takes trainAdamSteps Adam steps (lr 1e-3,
// clipping at 5, dropout off) on the same batch, recording each loss.
func trainParity[E any](st trainStepper[E], params []*nn.Param, batch []E, dir string) (*trainCheck, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	refs, err := writeParams(dir, params)
	if err != nil {
		return nil, err
	}
	ch := &trainCheck{req: map[string]any{"tensors": refs, "adam_steps": trainAdamSteps, "lr": 1e-3, "clip": 5.0}}
	for _, q := range params {
		ch.names = append(ch.names, q.Name)
	}
	if ch.loss, ch.grads, err = st.Gradients(batch); err != nil {
		return nil, err
	}
	for range trainAdamSteps {
		loss, _, err := st.Step(batch, 1e-3, 0)
		if err != nil {
			return nil, err
		}
		ch.losses = append(ch.losses, loss)
	}
	return ch, nil
}

// trainParityResult is how far the peer's training numbers are from ours.
type trainParityResult struct {
	Loss      float64 // |Δloss| / loss at the start
	Grad      float64 // the largest over the weights of max|Δg| / ‖g‖
	GradName  string  // the weight it was found in
	Track     float64 // the largest |Δloss| / loss over the Adam steps
	TrackStep int
	First     [2]float32 // the losses at the start, ours and the peer's
	Last      [2]float32 // after the last step
	Err       string
}

func (t trainParityResult) ok() bool {
	return t.Err == "" && t.Loss <= trainLossTol && t.Grad <= trainGradTol && t.Track <= trainTrackTol
}

func (t trainParityResult) String() string {
	if t.Err != "" {
		return "PARITY FAILED: " + t.Err
	}
	s := fmt.Sprintf("parity loss %.4f vs %.4f (relative %.1e), gradients max|Δg|/‖g‖ %.1e (%s), after %d Adam steps %.4f vs %.4f (largest relative gap %.1e, step %d)",
		t.First[0], t.First[1], t.Loss, t.Grad, t.GradName, trainAdamSteps, t.Last[0], t.Last[1], t.Track, t.TrackStep)
	if !t.ok() {
		return fmt.Sprintf("PARITY FAILED (tolerances: loss %.0e, gradients %.0e, losses over the steps %.0e): %s", trainLossTol, trainGradTol, trainTrackTol, s)
	}
	return s
}

// compare reads the peer's gradients from dir and measures the gaps.
func (ch *trainCheck) compare(tr trainResp, dir string) (trainParityResult, error) {
	res := trainParityResult{First: [2]float32{ch.loss, tr.Loss}}
	if len(tr.Grads) != len(ch.grads) || len(tr.Losses) != len(ch.losses) {
		res.Err = fmt.Sprintf("the peer sent %d gradients and %d losses for our %d and %d", len(tr.Grads), len(tr.Losses), len(ch.grads), len(ch.losses))
		return res, nil
	}
	res.Loss = math.Abs(float64(ch.loss-tr.Loss)) / math.Abs(float64(ch.loss))
	for i, ours := range ch.grads {
		theirs, err := readF32(filepath.Join(dir, tr.Grads[i]))
		if err != nil {
			return res, err
		}
		if ours == nil {
			ours = make([]float32, len(theirs)) // a weight our graph does not use has no gradient
		}
		if len(theirs) != len(ours) {
			res.Err = fmt.Sprintf("%s: the peer's gradient has %d values, ours %d", ch.names[i], len(theirs), len(ours))
			return res, nil
		}
		var norm, worst float64
		for j, g := range ours {
			norm += float64(g) * float64(g)
			worst = math.Max(worst, math.Abs(float64(g)-float64(theirs[j])))
		}
		if norm = math.Sqrt(norm); norm > 0 {
			worst /= norm
		} else if worst > 0 {
			worst = math.Inf(1)
		}
		if worst > res.Grad || res.GradName == "" {
			res.Grad, res.GradName = worst, ch.names[i]
		}
	}
	for i, l := range ch.losses {
		if gap := math.Abs(float64(l-tr.Losses[i])) / math.Abs(float64(l)); gap > res.Track || i == 0 {
			res.Track, res.TrackStep = gap, i+1
		}
	}
	res.Last = [2]float32{ch.losses[len(ch.losses)-1], tr.Losses[len(tr.Losses)-1]}
	return res, nil
}

// Caption training shape for its row: a full batch of captions as long
// as a typical Flickr8k one (12 words and </s>).
const (
	capTrainBatch = 64
	capTrainSteps = 13
)

// captionTrainingRow times one training step of the caption model at the
// shipped checkpoint's sizes, with the shipped caption's objective (the
// likelihood and the doubly stochastic regulariser, λ 1, τ = length/R),
// against the same model written in PyTorch, on a batch of random region
// features and captions.
func captionTrainingRow(ctx context.Context, o options, work string) (row, error) {
	r := row{Name: fmt.Sprintf("training step, caption B%d T%d", capTrainBatch, capTrainSteps), Unit: "ms"}
	data, err := os.ReadFile(o.captionCkpt)
	if err != nil {
		return r, err
	}
	dec, err := caption.Load("caption", data)
	if err != nil {
		return r, err
	}
	c := dec.Cfg
	p := caption.NewParams(c)
	rng := rand.New(rand.NewPCG(5, 6))
	p.Init(rng)
	reg := train.Reg{Lambda: 1, TauPerWord: true}
	st, err := train.NewCaptionStepper(c, p, reg, capTrainBatch, capTrainSteps)
	if err != nil {
		return r, err
	}
	// Region features are ReLU6 outputs: non-negative, a few units large.
	R, F := c.R(), c.Feat
	feat := make([]float32, capTrainBatch*R*F)
	for i := range feat {
		feat[i] = float32(math.Min(math.Abs(rng.NormFloat64()), 6))
	}
	batch := make([]caption.Example, capTrainBatch)
	in, out := make([][]int, capTrainBatch), make([][]int, capTrainBatch)
	for i := range batch {
		words := make([]int, capTrainSteps-1)
		for j := range words {
			words[j] = 4 + rng.IntN(c.Vocab-4)
		}
		batch[i] = caption.Example{Feat: feat[i*R*F : (i+1)*R*F], Words: words}
		in[i] = append([]int{vocab.BOS}, words...)
		out[i] = append(append([]int(nil), words...), vocab.EOS)
	}
	dir := trainDir(work, "train_caption")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return r, err
	}
	ref, err := writeF32(dir, "batch_feat", []int{capTrainBatch, R, F}, feat)
	if err != nil {
		return r, err
	}
	req := map[string]any{"config": c, "feat": ref, "words_in": in, "words_out": out, "lambda": reg.Lambda}
	return trainRow(ctx, o, work, r, "train_caption", st, p.List(), batch, req, capTrainBatch*capTrainSteps)
}
