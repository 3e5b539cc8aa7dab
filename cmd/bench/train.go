package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"attention/internal/openblas"
	"attention/model/train"
	"attention/model/translate"
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
	data, err := os.ReadFile(o.ckpt)
	if err != nil {
		return r, err
	}
	m, err := translate.Load(strings.TrimSuffix(filepath.Base(o.ckpt), ".ckpt"), data)
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
	tok := func(ms float64) float64 { return trainBatch * trainTgt / (ms / 1e3) }
	r.Note = fmt.Sprintf("ours %.0f target tok/s with %s", tok(r.Ours), openblas.Name())
	if why := havePython(o.python); why != "" {
		r.Note += "; PyTorch peer skipped: " + why
		return r, nil
	}
	req := map[string]any{"config": c, "batch": trainBatch, "src_len": trainSrc, "tgt_len": trainTgt, "seconds": o.seconds * 2}
	if err := writeJSON(filepath.Join(work, "req.json"), req); err != nil {
		return r, err
	}
	var tr struct {
		StepUS  timing  `json:"step_us"`
		TokPerS float64 `json:"tok_per_s"`
		Params  int     `json:"params"`
		Threads string  `json:"threads"`
	}
	if err := runPeer(ctx, torchEnv, &tr, o.python, filepath.Join(work, "peer_torch.py"), "train", work); err != nil {
		r.failed, r.Note = true, r.Note+"; PyTorch: "+err.Error()
		return r, nil
	}
	r.Peer = tr.StepUS.Median / 1e3
	r.Note += fmt.Sprintf(", PyTorch %.0f tok/s (%s; %d vs our %d parameters: PyTorch's LSTMs carry two bias vectors)",
		tr.TokPerS, tr.Threads, tr.Params, p.Count())
	return r, nil
}
