package translate

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"attention/model"
	"attention/model/bleu"
	"attention/model/checkpoint"
	"attention/model/nn"
	"attention/model/vocab"
)

// TrainOptions control a training run.
type TrainOptions struct {
	Batch     int
	LR        float64
	Clip      float64 // global gradient-norm clip
	Dropout   float64
	MaxEpochs int
	Patience  int // epochs without a better dev BLEU before stopping
	MaxLen    int // training pairs with more words on either side are skipped
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
	Graphs       int // unrolled graphs kept in memory
	Meta         map[string]any
	Log          io.Writer
}

// TrainResult summarises a run.
type TrainResult struct {
	Epochs   float64
	BestBLEU float64
	Elapsed  time.Duration
	TokPerS  float64
}

// Examples tokenises pairs (first reference) into word ids.
func Examples(pairs []Pair, c Config, src, tgt *vocab.Vocab, maxLen int) []Example {
	var out []Example
	for _, p := range pairs {
		s := src.IDs(vocab.Tokenize(p.Src, c.SrcLang))
		t := tgt.IDs(vocab.Tokenize(p.Refs[0], c.TgtLang))
		if len(s) == 0 || len(t) == 0 || (maxLen > 0 && (len(s) > maxLen || len(t) > maxLen)) {
			continue
		}
		out = append(out, Example{Src: s, Tgt: t})
	}
	return out
}

func roundUp(n, k int) int { return (n + k - 1) / k * k }

// batches groups examples of similar length; the order of batches is
// shuffled per epoch with a seed derived from the run seed and the epoch.
func batches(ex []Example, size int, seed uint64, epoch int) [][]Example {
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
	var out [][]Example
	for i := 0; i < len(idx); i += size {
		var b []Example
		for _, k := range idx[i:min(i+size, len(idx))] {
			b = append(b, ex[k])
		}
		out = append(out, b)
	}
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	// Run the batches of one padded shape together (the groups in random
	// order): each unrolled graph is then built once per epoch, and only
	// one needs to be in memory.
	groups := map[[2]int][][]Example{}
	var keys [][2]int
	for _, b := range out {
		S, T := batchShape(b)
		k := [2]int{S, T}
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], b)
	}
	rng.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
	out = out[:0]
	for _, k := range keys {
		out = append(out, groups[k]...)
	}
	return out
}

func batchShape(b []Example) (S, T int) {
	for _, e := range b {
		S, T = max(S, len(e.Src)), max(T, len(e.Tgt)+1)
	}
	return roundUp(S, 8), roundUp(T, 8)
}

// trainState is what -resume restores.
type trainState struct {
	Epoch     int     `json:"epoch"`
	Batch     int     `json:"batch"` // batches done in Epoch
	Step      int     `json:"step"`
	LR        float64 `json:"lr"`
	BestBLEU  float64 `json:"best_bleu"`
	BadEpochs int     `json:"bad_epochs"`
	ElapsedS  float64 `json:"elapsed_s"`
	Tokens    int64   `json:"tokens"`
}

const kindTrainState = "translation-train-state"

func saveState(path string, c Config, p *Params, a *nn.Adam, src, tgt *vocab.Vocab, st trainState) error {
	f, err := ToCheckpoint(c, p, src.Words(), tgt.Words(), nil, false)
	if err != nil {
		return err
	}
	f.Kind = kindTrainState
	raw, _ := json.Marshal(st)
	f.Meta = map[string]any{"state": string(raw), "adam_t": a.T}
	for i, q := range p.List() {
		f.Tensors = append(f.Tensors,
			&checkpoint.Tensor{Name: "adam_m/" + q.Name, Shape: q.Shape, DType: "f32", Data: a.M[i]},
			&checkpoint.Tensor{Name: "adam_v/" + q.Name, Shape: q.Shape, DType: "f32", Data: a.V[i]})
	}
	return checkpoint.Save(path, f)
}

func loadState(path string) (Config, *Params, *nn.Adam, *vocab.Vocab, *vocab.Vocab, trainState, error) {
	var st trainState
	f, err := checkpoint.Load(path)
	if err != nil {
		return Config{}, nil, nil, nil, nil, st, err
	}
	if f.Kind != kindTrainState {
		return Config{}, nil, nil, nil, nil, st, fmt.Errorf("%s: a %q file, not a training state", path, f.Kind)
	}
	f.Kind = KindTranslation
	c, p, err := FromCheckpoint(f)
	if err != nil {
		return c, nil, nil, nil, nil, st, err
	}
	a := nn.NewAdam(p.List())
	for i, q := range p.List() {
		if a.M[i], err = f.Tensor("adam_m/"+q.Name, q.Shape...); err != nil {
			return c, nil, nil, nil, nil, st, err
		}
		if a.V[i], err = f.Tensor("adam_v/"+q.Name, q.Shape...); err != nil {
			return c, nil, nil, nil, nil, st, err
		}
	}
	t, _ := f.Meta["adam_t"].(float64)
	a.T = int(t)
	raw, _ := f.Meta["state"].(string)
	if err := json.Unmarshal([]byte(raw), &st); err != nil {
		return c, nil, nil, nil, nil, st, fmt.Errorf("%s: state: %w", path, err)
	}
	src, err := vocab.New(f.Vocabs["src"])
	if err != nil {
		return c, nil, nil, nil, nil, st, err
	}
	tgt, err := vocab.New(f.Vocabs["tgt"])
	return c, p, a, src, tgt, st, err
}

// ErrRestart asks the caller to resume in a fresh process.
var ErrRestart = errors.New("restart requested: resume with -resume")

// Train trains a model from scratch (or resumes), keeping the best by dev
// BLEU (greedy) in o.Out.
func Train(c Config, src, tgt *vocab.Vocab, trainPairs, devPairs []Pair, o TrainOptions) (TrainResult, error) {
	log := o.Log
	if log == nil {
		log = os.Stderr
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return TrainResult{}, err
	}
	statePath := filepath.Join(o.Dir, "state.ckpt")
	p := NewParams(c)
	p.Init(rand.New(rand.NewPCG(o.Seed, 7)))
	opt := nn.NewAdam(p.List())
	st := trainState{LR: o.LR, BestBLEU: -1}
	if _, err := os.Stat(statePath); o.Resume && errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(log, "no state in %s yet: starting a new run\n", o.Dir)
		o.Resume = false
	}
	if o.Resume {
		rc, rp, ra, rs, rt, rst, err := loadState(statePath)
		if err != nil {
			return TrainResult{}, fmt.Errorf("resume: %w", err)
		}
		c, p, opt, src, tgt, st = rc, rp, ra, rs, rt, rst
		fmt.Fprintf(log, "resumed from %s: epoch %d batch %d, best dev BLEU %.2f\n", statePath, st.Epoch+1, st.Batch, st.BestBLEU)
	}
	if o.Init != "" && !o.Resume {
		f, err := checkpoint.Load(o.Init)
		if err != nil {
			return TrainResult{}, err
		}
		ic, ip, err := FromCheckpoint(f)
		if err != nil {
			return TrainResult{}, err
		}
		if src, err = vocab.New(f.Vocabs["src"]); err != nil {
			return TrainResult{}, err
		}
		if tgt, err = vocab.New(f.Vocabs["tgt"]); err != nil {
			return TrainResult{}, err
		}
		c, p, opt = ic, ip, nn.NewAdam(ip.List())
		if b, ok := f.Meta["dev_bleu_greedy"].(float64); ok {
			st.BestBLEU = b
		}
		fmt.Fprintf(log, "starting from the weights in %s (dev BLEU %.2f)\n", o.Init, st.BestBLEU)
	}
	fmt.Fprintf(log, "model %s, %d parameters\n", c, p.Count())
	ex := Examples(trainPairs, c, src, tgt, o.MaxLen)
	fmt.Fprintf(log, "training pairs: %d (of %d; longer than %d words skipped), dev: %d\n", len(ex), len(trainPairs), o.MaxLen, len(devPairs))

	// Each unrolled graph keeps its last run's values (hundreds of MB), so
	// only the few most recently used graphs are kept.
	var graphs []*graph
	getGraph := func(S, T int) (*graph, error) {
		for i, g := range graphs {
			if g.S == S && g.T == T {
				copy(graphs[1:i+1], graphs[:i])
				graphs[0] = g
				return g, nil
			}
		}
		if len(graphs) >= o.Graphs {
			graphs = graphs[:o.Graphs-1]
			runtime.GC()
		}
		g, err := buildGraph(c, p, o.Batch, S, T)
		if err != nil {
			return nil, err
		}
		graphs = append([]*graph{g}, graphs...)
		return g, nil
	}

	procStart := time.Now()
	start := time.Now().Add(-time.Duration(st.ElapsedS * float64(time.Second)))
	lastSave := time.Now()
	dropRng := rand.New(rand.NewPCG(o.Seed, uint64(st.Step)+99))
	grads := make([][]float32, len(p.List()))
	var res TrainResult
	save := func() error {
		st.ElapsedS = time.Since(start).Seconds()
		lastSave = time.Now()
		return saveState(statePath, c, p, opt, src, tgt, st)
	}
	stop := false
	for !stop && st.Epoch < o.MaxEpochs {
		bs := batches(ex, o.Batch, o.Seed, st.Epoch)
		bar := progressbar.NewOptions(len(bs), progressbar.OptionSetWriter(log), progressbar.OptionSetWidth(30),
			progressbar.OptionShowCount(), progressbar.OptionSetPredictTime(true), progressbar.OptionThrottle(2*time.Second),
			progressbar.OptionSetDescription(fmt.Sprintf("epoch %d", st.Epoch+1)), progressbar.OptionShowElapsedTimeOnFinish())
		bar.Set(st.Batch)
		epochStart, epochTok, lossSum, lossN := time.Now(), 0, 0.0, 0
		for ; st.Batch < len(bs); st.Batch++ {
			b := bs[st.Batch]
			S, T := batchShape(b)
			g, err := getGraph(S, T)
			if err != nil {
				return res, err
			}
			ntok := g.fill(c, b, o.Dropout, dropRng)
			loss, err := g.run()
			if err != nil {
				return res, err
			}
			if math.IsNaN(float64(loss)) {
				return res, errors.New("training diverged: loss is NaN (try a lower -lr)")
			}
			for i := range grads {
				grads[i] = g.grad(i)
			}
			opt.Step(p.List(), grads, st.LR, o.Clip)
			st.Step++
			st.Tokens += int64(ntok)
			epochTok += ntok
			lossSum += float64(loss)
			lossN++
			if st.Batch%10 == 0 {
				bar.Describe(fmt.Sprintf("epoch %d loss %.3f %.0f tok/s", st.Epoch+1, lossSum/float64(lossN), float64(epochTok)/time.Since(epochStart).Seconds()))
			}
			bar.Add(1)
			if time.Since(lastSave) > o.SaveEvery {
				if err := save(); err != nil {
					return res, err
				}
			}
			if o.RestartAfter > 0 && time.Since(procStart) > o.RestartAfter && st.Batch+1 < len(bs) {
				st.Batch++
				if err := save(); err != nil {
					return res, err
				}
				fmt.Fprintf(log, "\nsaved state at epoch %d batch %d; restarting\n", st.Epoch+1, st.Batch)
				return res, ErrRestart
			}
			if o.Budget > 0 && time.Since(start) > o.Budget {
				stop = true
				st.Batch++
				break
			}
		}
		bar.Finish()
		fmt.Fprintln(log)
		res.TokPerS = float64(epochTok) / time.Since(epochStart).Seconds()
		// Dev BLEU with the serving path: this is what the page will show.
		m := &Model{Cfg: c, P: p, Src: src, Tgt: tgt}
		score, _ := Evaluate(m, devPairs, model.Options{Beam: 1, MaxLen: 80}, 0)
		fmt.Fprintf(log, "epoch %d: train loss %.3f, %.0f tok/s, dev %s\n", st.Epoch+1, lossSum/max(float64(lossN), 1), res.TokPerS, score)
		if score.BLEU > st.BestBLEU {
			st.BestBLEU, st.BadEpochs = score.BLEU, 0
			meta := map[string]any{}
			for k, v := range o.Meta {
				meta[k] = v
			}
			meta["dev_bleu_greedy"] = score.BLEU
			meta["epochs"] = float64(st.Epoch) + float64(st.Batch)/float64(len(bs))
			f, err := ToCheckpoint(c, p, src.Words(), tgt.Words(), meta, true)
			if err != nil {
				return res, err
			}
			if err := checkpoint.Save(o.Out, f); err != nil {
				return res, err
			}
			fmt.Fprintf(log, "  new best: saved %s\n", o.Out)
		} else {
			st.BadEpochs++
			st.LR /= 2
			fmt.Fprintf(log, "  no improvement (%d); learning rate now %.2g\n", st.BadEpochs, st.LR)
			if st.BadEpochs >= o.Patience {
				stop = true
			}
		}
		res.Epochs = float64(st.Epoch) + float64(st.Batch)/float64(len(bs))
		if st.Batch >= len(bs) {
			st.Epoch, st.Batch = st.Epoch+1, 0
		}
		if err := save(); err != nil {
			return res, err
		}
	}
	res.BestBLEU = st.BestBLEU
	res.Elapsed = time.Since(start)
	return res, nil
}

// Evaluate translates every pair and scores the detokenised output against
// its references with sacreBLEU-style corpus BLEU. workers <= 0 uses every CPU.
func Evaluate(m *Model, pairs []Pair, opts model.Options, workers int) (bleu.Score, []string) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	hyps := make([]string, len(pairs))
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				words := vocab.Tokenize(pairs[i].Src, m.Cfg.SrcLang)
				if len(words) == 0 {
					continue
				}
				hyps[i] = vocab.Detokenize(m.Translate(words, opts), m.Cfg.TgtLang)
			}
		}()
	}
	for i := range pairs {
		next <- i
	}
	close(next)
	wg.Wait()
	refs := make([][]string, len(pairs))
	for i, p := range pairs {
		refs[i] = p.Refs
	}
	return bleu.CorpusMulti(hyps, refs), hyps
}
