package train

import (
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"sort"
	"time"

	"attention/model"
	"attention/model/caption"
	"attention/model/checkpoint"
	"attention/model/nn"
	"attention/model/vocab"
)

// CaptionOptions control a training run.
type CaptionOptions struct {
	Batch        int
	LR, Clip     float64
	Dropout      float64
	Reg          Reg
	MaxEpochs    int
	Patience     int
	MinEpochs    int  // no learning-rate halving or stopping before this many epochs
	Graphs       int  // unrolled graphs (batch lengths) kept in memory
	ResetLR      bool // on resume, train at LR instead of the saved rate
	Seed         uint64
	Budget       time.Duration
	SaveEvery    time.Duration
	RestartAfter time.Duration
	Dir, Out     string
	Resume       bool
	Init         string  // start from this model file's weights (fresh optimiser); its vocabulary must be the run's
	DevBeam      int     // beam width of the dev score (0 or 1: greedy)
	Average      float64 // decay of the weights' moving average that is evaluated and saved (0: the weights themselves)
	Meta         map[string]any
	Log          io.Writer
}

func captionBatches(ex []caption.Example, size int, seed uint64, epoch int) [][]caption.Example {
	rng := rand.New(rand.NewPCG(seed, uint64(epoch)))
	idx := rng.Perm(len(ex))
	sort.SliceStable(idx, func(i, j int) bool { return len(ex[idx[i]].Words) < len(ex[idx[j]].Words) })
	var out [][]caption.Example
	for i := 0; i < len(idx); i += size {
		var b []caption.Example
		for _, k := range idx[i:min(i+size, len(idx))] {
			b = append(b, ex[k])
		}
		out = append(out, b)
	}
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return nn.Interleave(out, captionLen, nn.ShapeRun, rng)
}

func captionLen(b []caption.Example) int {
	T := 0
	for _, e := range b {
		T = max(T, len(e.Words)+1)
	}
	return (T + 3) / 4 * 4
}

// Train trains a captioner on train (one example per caption), keeping the
// best by dev BLEU-4 (greedy) in o.Out.
func Caption(c caption.Config, words *vocab.Vocab, train []caption.Example, dev []caption.Image, o CaptionOptions) (LoopResult, error) {
	r, resume, err := newRun(o.Dir, o.Out, o.Resume, o.Log, o.Meta)
	if err != nil {
		return LoopResult{}, err
	}
	log := r.log
	p := caption.NewParams(c)
	p.Init(rand.New(rand.NewPCG(o.Seed, 7)))
	opt := nn.NewAdam(p.List())
	st := nn.LoopState{LR: o.LR, Best: -1}
	if resume {
		f, ropt, rst, err := r.loadState(caption.KindTrainState, caption.Kind, func(f *checkpoint.File) ([]*nn.Param, error) {
			var err error
			c, p, err = caption.FromCheckpoint(f)
			if err != nil {
				return nil, err
			}
			return p.List(), nil
		})
		if err != nil {
			return LoopResult{}, err
		}
		opt, st = ropt, rst
		if words, err = vocab.New(f.Vocabs["words"]); err != nil {
			return LoopResult{}, err
		}
		if o.ResetLR {
			st.ResetLR(o.LR, log)
		}
	}
	if o.Init != "" && !resume {
		f, err := checkpoint.Load(o.Init)
		if err != nil {
			return LoopResult{}, err
		}
		ic, ip, err := caption.FromCheckpoint(f)
		if err != nil {
			return LoopResult{}, err
		}
		if !slices.Equal(f.Vocabs["words"], words.Words()) {
			return LoopResult{}, fmt.Errorf("%s: its vocabulary (%d words) is not this run's (%d): use the same data and -min-count", o.Init, len(f.Vocabs["words"]), words.Len())
		}
		// The run may turn on the constant start state: the start matrices
		// are then unused, and the decoder must learn to look.
		ic.ConstStart = ic.ConstStart || c.ConstStart
		c, p, opt = ic, ip, nn.NewAdam(ip.List())
		if b, ok := f.Meta["dev_bleu4"].(float64); ok {
			st.Best = b
		}
		fmt.Fprintf(log, "starting from the weights in %s (dev BLEU-4 %.2f)\n", o.Init, st.Best)
	}
	fmt.Fprintf(log, "caption model R%dx%d F%d D%d E%d K%d A%d V%d attention=%v, %d parameters; %d training captions, %d dev images\n",
		c.Rows, c.Cols, c.Feat, c.Proj, c.Emb, c.Hidden, c.Att, c.Vocab, c.Attention, p.Count(), len(train), len(dev))

	// The model that is scored on dev and saved: the weights, or their
	// moving average (updated in place by every step).
	evalP := p
	if o.Average > 0 {
		opt.Average(p.List(), o.Average)
		evalP = caption.NewParams(c)
		for i, q := range evalP.List() {
			q.Data = opt.Avg[i]
		}
		fmt.Fprintf(log, "scoring and saving a moving average of the weights (decay %g a step)\n", o.Average)
	}
	graphs := nn.Graphs[int, *capGraph]{Max: o.Graphs, Build: func(T int) (*capGraph, error) {
		return buildCaptionGraph(c, p, o.Reg, o.Batch, T)
	}}
	dropRng := rand.New(rand.NewPCG(o.Seed, uint64(st.Step)+99))
	grads := make([][]float32, len(p.List()))
	var epochBatches [][]caption.Example
	loop := Loop{
		Log: log, MaxEpochs: o.MaxEpochs, Patience: o.Patience, MinEpochs: o.MinEpochs,
		Budget: o.Budget, SaveEvery: o.SaveEvery, RestartAfter: o.RestartAfter,
		Batches: func(epoch int) int {
			epochBatches = captionBatches(train, o.Batch, o.Seed, epoch)
			return len(epochBatches)
		},
		Step: func(epoch, i int, lr float64) (float64, int, error) {
			b := epochBatches[i]
			g, err := graphs.Get(captionLen(b))
			if err != nil {
				return 0, 0, err
			}
			loss, ntok, err := captionStep(g, c, o.Reg, p, opt, grads, b, lr, o.Dropout, o.Clip, dropRng)
			return float64(loss), ntok, err
		},
		Evaluate: func() (float64, string) {
			s, _ := caption.Evaluate(&caption.Model{Cfg: c, P: evalP, Words: words}, dev, model.Options{Beam: max(o.DevBeam, 1), MaxLen: 30})
			return s.BLEU.BLEU, s.String()
		},
		SaveBest: func(score, epochs float64) error {
			meta := r.bestMeta(map[string]any{"dev_bleu4": score, "dev_beam": max(o.DevBeam, 1), "epochs": epochs})
			f, err := caption.ToCheckpoint(c, evalP, words.Words(), meta, true)
			if err != nil {
				return err
			}
			return r.saveBest(f)
		},
		SaveState: func(st nn.LoopState) error {
			f, err := caption.ToCheckpoint(c, p, words.Words(), nil, false)
			if err != nil {
				return err
			}
			return r.saveState(f, caption.KindTrainState, p.List(), opt, st)
		},
	}
	return loop.Run(st)
}
