package train

import (
	"fmt"
	"io"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"time"

	"attention/model"
	"attention/model/checkpoint"
	"attention/model/nn"
	"attention/model/translate"
	"attention/model/vocab"
)

// TranslateOptions control a training run.
type TranslateOptions struct {
	Batch     int
	LR        float64
	Clip      float64 // global gradient-norm clip
	Dropout   float64
	MaxEpochs int
	Patience  int  // epochs without a better dev BLEU before stopping
	MinEpochs int  // no learning-rate halving or stopping before this many epochs
	ResetLR   bool // on resume, train at LR instead of the saved rate
	MaxLen    int  // training pairs with more words on either side are skipped
	Seed      uint64
	Budget    time.Duration // stop (after saving) once this much time has passed
	SaveEvery time.Duration // resumable checkpoint period within an epoch
	Dir       string        // run directory: state.ckpt and log
	Out       string        // the best model (float16), written whenever dev BLEU improves
	Resume    bool
	Init      string // start from this model file's weights (fresh optimiser)
	// RestartAfter, if set, saves the state and returns ErrRestart once the
	// process has trained this long; a wrapper resumes in a fresh process,
	// which keeps the heap of a long run from growing.
	RestartAfter time.Duration
	Graphs       int // unrolled graphs kept in memory, per worker
	// Workers > 1 trains data-parallel trReplicas with local SGD: each takes
	// SyncEvery batches, then all are averaged (nn.Average). A resumed run
	// must use the same Workers and SyncEvery.
	Workers, SyncEvery int
	// Remap: Init's vocabularies differ from the run's (new data); its
	// weights are carried over word by word.
	Remap bool
	// Lexicon: the lower-case words and kept names of the training pairs,
	// when the caller has made it already (nil: made from them here).
	Lexicon *translate.Lexicon
	Meta    map[string]any
	Log     io.Writer
}

// TranslateResult summarises a run.
type TranslateResult struct {
	Epochs   float64
	BestBLEU float64
	Elapsed  time.Duration
	TokPerS  float64
}

func roundUp(n, k int) int { return (n + k - 1) / k * k }

// batches groups examples of similar length; the order of batches is
// shuffled per epoch with a seed derived from the run seed and the epoch.
func trBatches(ex []translate.Example, size int, seed uint64, epoch int) [][]translate.Example {
	idx := make([]int, len(ex))
	for i := range idx {
		idx[i] = i
	}
	rng := rand.New(rand.NewPCG(seed, uint64(epoch)))
	rng.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
	sort.SliceStable(idx, func(i, j int) bool {
		a, b := ex[idx[i]], ex[idx[j]]
		if len(a.Src) != len(b.Src) {
			return len(a.Src) < len(b.Src)
		}
		return len(a.Tgt) < len(b.Tgt)
	})
	var out [][]translate.Example
	for i := 0; i < len(idx); i += size {
		var b []translate.Example
		for _, k := range idx[i:min(i+size, len(idx))] {
			b = append(b, ex[k])
		}
		out = append(out, b)
	}
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return nn.Interleave(out, func(b []translate.Example) [2]int {
		S, T := trBatchShape(b)
		return [2]int{S, T}
	}, nn.ShapeRun, rng)
}

func trBatchShape(b []translate.Example) (S, T int) {
	for _, e := range b {
		S, T = max(S, len(e.Src)), max(T, len(e.Tgt)+1)
	}
	return roundUp(S, 8), roundUp(T, 8)
}

// Train trains a model from scratch (or resumes), keeping the best by dev
// BLEU (greedy; the mean over the dev sets, one per domain) in o.Out.
func Translation(c translate.Config, src, tgt *vocab.Vocab, trainPairs []translate.Pair, devSets []translate.Held, o TranslateOptions) (TranslateResult, error) {
	r, resume, err := newRun(o.Dir, o.Out, o.Resume, o.Log, o.Meta)
	if err != nil {
		return TranslateResult{}, err
	}
	log := r.log
	p := translate.NewParams(c)
	p.Init(rand.New(rand.NewPCG(o.Seed, 7)))
	opt := nn.NewAdam(p.List())
	st := nn.LoopState{LR: o.LR, Best: -1}
	if resume {
		f, ropt, rst, err := r.loadState(translate.KindTrainState, translate.KindTranslation, func(f *checkpoint.File) ([]*nn.Param, error) {
			var err error
			c, p, err = translate.FromCheckpoint(f)
			if err != nil {
				return nil, err
			}
			return p.List(), nil
		})
		if err != nil {
			return TranslateResult{}, fmt.Errorf("resume: %w", err)
		}
		opt, st = ropt, rst
		if src, err = vocab.New(f.Vocabs["src"]); err != nil {
			return TranslateResult{}, err
		}
		if tgt, err = vocab.New(f.Vocabs["tgt"]); err != nil {
			return TranslateResult{}, err
		}
		if o.ResetLR {
			st.ResetLR(o.LR, log)
		}
	}
	if o.Init != "" && !resume {
		f, err := checkpoint.Load(o.Init)
		if err != nil {
			return TranslateResult{}, err
		}
		ic, ip, err := translate.FromCheckpoint(f)
		if err != nil {
			return TranslateResult{}, err
		}
		isrc, err := vocab.New(f.Vocabs["src"])
		if err != nil {
			return TranslateResult{}, err
		}
		itgt, err := vocab.New(f.Vocabs["tgt"])
		if err != nil {
			return TranslateResult{}, err
		}
		if o.Remap {
			// New vocabularies (new data): keep c and its vocabularies and
			// carry over every weight, word by word for the words both know.
			if err := p.CopyFrom(ip, translate.Remap(src, isrc), translate.Remap(tgt, itgt)); err != nil {
				return TranslateResult{}, fmt.Errorf("%s: %w", o.Init, err)
			}
			opt = nn.NewAdam(p.List())
			fmt.Fprintf(log, "starting from the weights in %s, vocabularies mapped word by word\n", o.Init)
		} else {
			c, p, opt, src, tgt = ic, ip, nn.NewAdam(ip.List()), isrc, itgt
			if b, ok := f.Meta["dev_bleu_greedy"].(float64); ok {
				st.Best = b
			}
			fmt.Fprintf(log, "starting from the weights in %s (dev BLEU %.2f)\n", o.Init, st.Best)
		}
	}
	fmt.Fprintf(log, "model %s, %d parameters\n", c, p.Count())
	ex := translate.Examples(trainPairs, c, src, tgt, o.MaxLen, o.Lexicon)
	fmt.Fprintf(log, "training pairs: %d (of %d; longer than %d words skipped)", len(ex), len(trainPairs), o.MaxLen)
	for _, d := range devSets {
		fmt.Fprintf(log, ", %s: %d", d.Name, len(d.Pairs))
	}
	fmt.Fprintln(log)

	reps := newTrReplicas(c, p, opt, o)
	per := 1 // batches per round
	if len(reps) > 1 {
		per = len(reps) * o.SyncEvery
		fmt.Fprintf(log, "%d workers, averaged every %d batches\n", len(reps), o.SyncEvery)
	}
	var epochBatches [][]translate.Example
	epochOf := -1
	loop := Loop{
		Log: log, MaxEpochs: o.MaxEpochs, Patience: o.Patience, MinEpochs: o.MinEpochs,
		Budget: o.Budget, SaveEvery: o.SaveEvery, RestartAfter: o.RestartAfter,
		Batches: func(epoch int) int {
			epochBatches, epochOf = trBatches(ex, o.Batch, o.Seed, epoch), epoch
			return (len(epochBatches) + per - 1) / per
		},
		Step: func(epoch, i int, lr float64) (float64, int, error) {
			if epoch != epochOf {
				return 0, 0, fmt.Errorf("translate: batches of epoch %d asked for in epoch %d", epochOf, epoch)
			}
			round := epochBatches[i*per : min((i+1)*per, len(epochBatches))]
			return reps.step(round, lr, o)
		},
		// Dev BLEU with the serving path: what the page will show. With
		// two domains the score is their mean, so that neither drowns.
		Evaluate: func() (float64, string) {
			m := &translate.Model{Cfg: c, P: p, Src: src, Tgt: tgt}
			var sum float64
			var parts []string
			for _, d := range devSets {
				score, _, _ := translate.Evaluate(m, d.Pairs, model.Options{Beam: 1, MaxLen: 80}, 0)
				sum += score.BLEU
				parts = append(parts, d.Name+" "+score.String())
			}
			return sum / float64(len(devSets)), strings.Join(parts, "; ")
		},
		SaveBest: func(score, epochs float64) error {
			meta := r.bestMeta(map[string]any{"dev_bleu_greedy": score, "epochs": epochs})
			f, err := translate.ToCheckpoint(c, p, src.Words(), tgt.Words(), meta, true)
			if err != nil {
				return err
			}
			return r.saveBest(f)
		},
		SaveState: func(st nn.LoopState) error {
			f, err := translate.ToCheckpoint(c, p, src.Words(), tgt.Words(), nil, false)
			if err != nil {
				return err
			}
			return r.saveState(f, translate.KindTrainState, p.List(), opt, st)
		},
	}
	res, err := loop.Run(st)
	return TranslateResult{Epochs: res.Epochs, BestBLEU: res.Best, Elapsed: res.Elapsed, TokPerS: res.TokPerS}, err
}

// trReplica is one training worker: its weights (the first trReplica's are the
// model's own), optimiser, graphs and dropout stream.
type trReplica struct {
	c      translate.Config
	p      *translate.Params
	opt    *nn.Adam
	graphs nn.Graphs[[2]int, *trGraph]
	grads  [][]float32
	rng    *rand.Rand
	loss   float64
	ntok   int
	err    error
}

type trReplicas []*trReplica

func newTrReplicas(c translate.Config, p *translate.Params, opt *nn.Adam, o TranslateOptions) trReplicas {
	var rs trReplicas
	for w := range max(o.Workers, 1) {
		r := &trReplica{c: c, p: p, opt: opt, grads: make([][]float32, len(p.List())),
			rng: rand.New(rand.NewPCG(o.Seed, uint64(opt.T)+99+uint64(w)<<32))}
		if w > 0 {
			cl := nn.Clone(p.List(), opt)
			r.p, r.opt = translate.NewParams(c), cl.Opt
			for i, q := range r.p.List() {
				q.Data = cl.Params[i].Data
			}
		}
		r.graphs = nn.Graphs[[2]int, *trGraph]{Max: o.Graphs, Build: func(k [2]int) (*trGraph, error) {
			return buildTranslateGraph(c, r.p, o.Batch, k[0], k[1])
		}}
		rs = append(rs, r)
	}
	return rs
}

// step trains on one round of batches: with one trReplica, one batch; with
// W, W runs of SyncEvery batches in parallel, then the average.
func (rs trReplicas) step(round [][]translate.Example, lr float64, o TranslateOptions) (float64, int, error) {
	k := max(o.SyncEvery, 1)
	if len(rs) == 1 {
		k = len(round)
	}
	var wg sync.WaitGroup
	var trained []*trReplica
	for w, r := range rs {
		lo := w * k
		if lo >= len(round) {
			break
		}
		mine := round[lo:min(lo+k, len(round))]
		trained = append(trained, r)
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.loss, r.ntok, r.err = 0, 0, nil
			for _, b := range mine {
				S, T := trBatchShape(b)
				g, err := r.graphs.Get([2]int{S, T})
				if err != nil {
					r.err = err
					return
				}
				loss, ntok, err := trainStep(g, r.c, r.p, r.opt, r.grads, b, lr, o.Dropout, o.Clip, r.rng)
				if err != nil {
					r.err = err
					return
				}
				r.loss += float64(loss) * float64(ntok)
				r.ntok += ntok
			}
		}()
	}
	wg.Wait()
	var loss float64
	var ntok int
	for _, r := range trained {
		if r.err != nil {
			return 0, 0, r.err
		}
		loss += r.loss
		ntok += r.ntok
	}
	if len(rs) > 1 {
		all := make([]nn.Replica, len(rs))
		for i, r := range rs {
			all[i] = nn.Replica{Params: r.p.List(), Opt: r.opt}
		}
		nn.Average(all, all[:len(trained)])
	}
	return loss / float64(max(ntok, 1)), ntok, nil
}
