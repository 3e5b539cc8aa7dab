package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"attention/model"
	"attention/model/translate"
	"attention/model/vocab"
)

// benchSentence is the fixed 12-word source of the translation rows, the
// one model/translate's BenchmarkDecodeStep uses.
const benchSentence = "a man in a blue shirt is riding a bike down the"

// parityTol bounds the max abs difference of probabilities and attention
// weights between ours and a peer; parityRel bounds the relative one, which
// still means something when a barely trained model spreads its
// probability thinly (every word at 1e-3 passes any 1e-4 absolute check).
const (
	parityTol = 1e-4
	parityRel = 1e-4
)

// beamWidth is the beam the beam-step row searches with.
const beamWidth = 5

// checkStep is one step a peer must reproduce: the word fed in, and the ids
// whose probabilities it reports (the word chosen, then our top-k).
type checkStep struct {
	Prev int   `json:"prev"`
	IDs  []int `json:"ids"`
}

// peerStep is a peer's answer to a checkStep.
type peerStep struct {
	ID    int       `json:"id"` // the word it chose
	Probs []float32 `json:"probs"`
	Att   []float32 `json:"att"`
}

type transReq struct {
	Config    translate.Config `json:"config"`
	Tensors   []tensorRef      `json:"tensors"`
	SrcIDs    []int            `json:"src_ids"`
	Greedy    []checkStep      `json:"greedy"`
	Beam      int              `json:"beam"`
	BeamCheck []checkStep      `json:"beam_check"`
	Seconds   float64          `json:"seconds"`
	ONNX      string           `json:"onnx,omitempty"` // export the step here
}

type transResp struct {
	Greedy     []peerStep `json:"greedy"`
	Beam       []peerStep `json:"beam"`
	StepUS     timing     `json:"step_us"`
	BeamStepUS timing     `json:"beam_step_us"`
	ONNXError  string     `json:"onnx_error"`
	Version    string     `json:"version"`
	Threads    string     `json:"threads"`
}

type ortReq struct {
	S, D, A, K int
	Greedy     []checkStep `json:"greedy"`
	Seconds    float64     `json:"seconds"`
	Threads    int         `json:"threads"`
}

type ortResp struct {
	Greedy  []peerStep `json:"greedy"`
	StepUS  timing     `json:"step_us"`
	Version string     `json:"version"`
	Threads string     `json:"threads"`
}

// decodeSteps runs our decoder and collects what it yields.
func decodeSteps(e model.Prepared, opts model.Options) ([]model.Step, error) {
	var out []model.Step
	for s, err := range e.Decode(context.Background(), opts) {
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// checksOf turns our steps into what a peer must reproduce, and the
// probabilities we computed at those ids.
func checksOf(id func(word string) int, steps []model.Step) ([]checkStep, [][]float32) {
	chk := make([]checkStep, len(steps))
	want := make([][]float32, len(steps))
	prev := vocab.BOS
	for i, s := range steps {
		ids, probs := []int{s.TokenID}, []float32{s.Prob}
		for _, a := range s.TopK {
			ids = append(ids, id(a.Token))
			probs = append(probs, a.Prob)
		}
		chk[i], want[i] = checkStep{Prev: prev, IDs: ids}, probs
		prev = s.TokenID
	}
	return chk, want
}

// parity is the largest difference between our steps and a peer's,
// absolute and relative to our value.
type parity struct {
	Prob, Att       float64
	ProbRel, AttRel float64
	Err             string // a structural mismatch (other word, other length)
}

func (p parity) ok() bool {
	return p.Err == "" && p.Prob <= parityTol && p.Att <= parityTol && p.ProbRel <= parityRel && p.AttRel <= parityRel
}

func (p parity) String() string {
	s := fmt.Sprintf("parity max|dp| %.1e (relative %.1e), max|da| %.1e (relative %.1e)", p.Prob, p.ProbRel, p.Att, p.AttRel)
	if p.Err != "" {
		return "PARITY FAILED: " + p.Err
	}
	if !p.ok() {
		return fmt.Sprintf("PARITY FAILED (tolerance %.0e, relative %.0e): %s", parityTol, parityRel, s)
	}
	return s
}

// diff returns |a-b| and |a-b|/|a| (0 when both are 0).
func diff(a, b float32) (abs, rel float64) {
	abs = math.Abs(float64(a) - float64(b))
	if abs > 0 {
		rel = abs / math.Abs(float64(a))
	}
	return abs, rel
}

func compareSteps(ours []model.Step, want [][]float32, peer []peerStep) parity {
	var p parity
	if len(peer) != len(ours) {
		p.Err = fmt.Sprintf("peer gave %d steps, ours %d", len(peer), len(ours))
		return p
	}
	for i, s := range ours {
		q := peer[i]
		if q.ID != s.TokenID {
			p.Err = fmt.Sprintf("step %d: peer chose word %d, ours %d", i, q.ID, s.TokenID)
			return p
		}
		if len(q.Probs) != len(want[i]) || len(q.Att) != len(s.Attention) {
			p.Err = fmt.Sprintf("step %d: peer gave %d probabilities and %d attention weights, want %d and %d", i, len(q.Probs), len(q.Att), len(want[i]), len(s.Attention))
			return p
		}
		for j, v := range want[i] {
			a, r := diff(v, q.Probs[j])
			p.Prob, p.ProbRel = math.Max(p.Prob, a), math.Max(p.ProbRel, r)
		}
		for j, v := range s.Attention {
			a, r := diff(v, q.Att[j])
			p.Att, p.AttRel = math.Max(p.Att, a), math.Max(p.AttRel, r)
		}
	}
	return p
}

// stepBytes is what one batch-1 decode step of ours must read: its
// matrices as the serving path holds them (float16 where the checkpoint
// stores them so), plus the vectors it touches and the encoded source (S
// rows of x and of U x + b) as float32.
func stepBytes(m *translate.Model, S int) float64 {
	c := m.Cfg
	E, D, K, A, O, V := c.Emb, c.D(), c.DecHidden, c.Att, c.PreOut, c.TgtVocab
	floats := A + S*A + S*D + // attention
		E + 4*K + // embedding row, LSTM bias
		O + V // pre-output and output biases
	return float64(m.StepWeightBytes()) + 4*float64(floats)
}

// greedySteps times our serving path one word at a time: the interval
// between two words yielded by Decode is one step (the decoder step, the
// search's mask, its top-1 and top-k, and the Step it builds). It appends
// to samples (microseconds).
func greedySteps(e model.Prepared, seconds float64, samples []float64) []float64 {
	opts := model.Options{Beam: 1, MaxLen: 30, TopK: 5}
	warm := time.Now().Add(200 * time.Millisecond)
	end := warm.Add(time.Duration(seconds * float64(time.Second)))
	for n := len(samples); time.Now().Before(end) || len(samples) < n+5; {
		var last time.Time
		for range e.Decode(context.Background(), opts) {
			t := time.Now()
			if !last.IsZero() && t.After(warm) {
				samples = append(samples, float64(t.Sub(last).Nanoseconds())/1e3)
			}
			last = t
		}
	}
	return samples
}

// beamSearches times searches of width 5 for at most 1 and at most 2 words
// and appends them to one and two (microseconds). Decode runs a beam to
// the end before it yields, so one beam step is the difference: the first
// step expands the start, the second steps all 5 hypotheses (none can have
// ended, as the end token is masked at the first step).
func beamSearches(e *translate.Encoded, seconds float64, one, two []float64) ([]float64, []float64) {
	search := func(n int) float64 {
		t := time.Now()
		for range e.Decode(context.Background(), model.Options{Beam: beamWidth, MaxLen: n, TopK: 5}) {
		}
		return float64(time.Since(t).Nanoseconds()) / 1e3
	}
	for range 10 {
		search(1)
		search(2)
	}
	end := time.Now().Add(time.Duration(seconds * float64(time.Second)))
	for n := len(two); time.Now().Before(end) || len(two) < n+5; {
		one = append(one, search(1))
		two = append(two, search(2))
	}
	return one, two
}

func median(x []float64) float64 {
	if len(x) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), x...)
	sort.Float64s(s)
	return s[len(s)/2]
}

// loadTranslator reads the translation checkpoint -ckpt names, and
// returns its bytes too.
func loadTranslator(o options) (*translate.Model, []byte, error) {
	data, err := os.ReadFile(o.ckpt)
	if err != nil {
		return nil, nil, fmt.Errorf("translation checkpoint: %w (see -ckpt)", err)
	}
	m, err := translate.Load(strings.TrimSuffix(filepath.Base(o.ckpt), ".ckpt"), data)
	return m, data, err
}

// translationRows benchmarks the decode step and the beam step against
// PyTorch, and the decode step against onnxruntime.
func translationRows(ctx context.Context, o options, work string) ([]row, error) {
	m, data, err := loadTranslator(o)
	if err != nil {
		return nil, err
	}
	words := strings.Fields(benchSentence)
	e := m.Encode(words)
	fmt.Fprintf(o.log, "translation: %s (sha256 %.6x, %q), %s (%d weights), source %q (%d words)\n",
		o.ckpt, sha256.Sum256(data), m.Title, m.Cfg, m.P.Count(), benchSentence, len(words))

	// Parity material: greedy steps from the start state, and the best
	// hypothesis after two beam steps, each with its top 10.
	greedy, err := decodeSteps(e, model.Options{Beam: 1, MaxLen: 5, TopK: 10})
	if err != nil {
		return nil, err
	}
	beam, err := decodeSteps(e, model.Options{Beam: beamWidth, MaxLen: 2, TopK: 10})
	if err != nil {
		return nil, err
	}
	gChk, gWant := checksOf(m.Tgt.ID, greedy)
	bChk, bWant := checksOf(m.Tgt.ID, beam)

	dir := filepath.Join(work, "translate")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	req := transReq{Config: m.Cfg, SrcIDs: m.Src.IDs(words), Greedy: gChk, Beam: beamWidth, BeamCheck: bChk, Seconds: o.seconds}
	if req.Tensors, err = writeParams(dir, m.P.List()); err != nil {
		return nil, err
	}
	ortModule, err := filepath.Abs(filepath.Join(o.ortDir, "node_modules", "onnxruntime-node"))
	if err != nil {
		return nil, err
	}
	ortSkip := haveORT(ortModule)
	if ortSkip == "" {
		req.ONNX = filepath.Join(dir, "onnx")
	}
	if err := writeJSON(filepath.Join(dir, "req.json"), req); err != nil {
		return nil, err
	}

	// The floors: one pass over the weights at the measured bandwidths. A
	// batched beam step (ours and the peer's) reads them once too.
	nb := stepBytes(m, len(words))
	bw := bandwidth{dram: copyBandwidth(256 << 20), cached: copyBandwidth(int(nb))}
	fmt.Fprintf(o.log, "  a step reads %.1f MB; copy bandwidth %.1f GB/s at 256 MB, %.1f GB/s at %.1f MB (read+write)\n",
		nb/1e6, bw.dram/1e9, bw.cached/1e9, nb/1e6)
	floors := func(r row) row {
		r.Floor, r.FloorCached = nb/bw.dram*1e6, nb/bw.cached*1e6
		return r
	}
	stepRow := floors(row{Name: "decode step, batch 1 vs PyTorch", Unit: "us"})
	beamRow := floors(row{Name: fmt.Sprintf("beam step, %d hypotheses vs PyTorch", beamWidth), Unit: "us"})
	ortRow := floors(row{Name: "decode step, batch 1 vs onnxruntime", Unit: "us"})

	steps := greedySteps(e, o.seconds/2, nil)
	one, two := beamSearches(e, o.seconds/2, nil, nil)

	var tr transResp
	if skip := havePython(o.python); skip != "" {
		stepRow.Note, beamRow.Note = "skipped: "+skip, "skipped: "+skip
		ortSkip = "skipped: the ONNX model is exported by the PyTorch peer, which cannot run"
	} else if err := runPeer(ctx, torchEnv, &tr, o.python, filepath.Join(work, "peer_torch.py"), "translate", dir); err != nil {
		stepRow.Note, beamRow.Note = "FAILED: "+err.Error(), "FAILED: "+err.Error()
		stepRow.failed, beamRow.failed = true, true
		ortSkip = "skipped: the PyTorch peer failed"
	} else {
		fmt.Fprintf(o.log, "  PyTorch %s (%s)\n", tr.Version, tr.Threads)
		gp, bp := compareSteps(greedy, gWant, tr.Greedy), compareSteps(beam, bWant, tr.Beam)
		fmt.Fprintf(o.log, "  greedy, %d steps %q: %s\n  beam, best of %d after 2 steps %q: %s\n", len(greedy), tokens(greedy), gp, beamWidth, tokens(beam), bp)
		stepRow.Peer, stepRow.Note, stepRow.failed = tr.StepUS.Median, gp.String(), !gp.ok()
		beamRow.Peer, beamRow.Note, beamRow.failed = tr.BeamStepUS.Median, bp.String(), !bp.ok()
		if tr.ONNXError != "" && ortSkip == "" {
			ortSkip = "skipped: torch.onnx.export failed: " + tr.ONNXError
		}
	}

	var or ortResp
	if ortSkip == "" {
		oreq := ortReq{S: len(words), D: m.Cfg.D(), A: m.Cfg.Att, K: m.Cfg.DecHidden, Greedy: gChk, Seconds: o.seconds, Threads: 1}
		if err := writeJSON(filepath.Join(req.ONNX, "req.json"), oreq); err != nil {
			return nil, err
		}
		if err := runPeer(ctx, nil, &or, "node", filepath.Join(work, "peer_ort.js"), ortModule, req.ONNX); err != nil {
			ortRow.Note, ortRow.failed = "FAILED: "+err.Error(), true
		} else {
			fmt.Fprintf(o.log, "  onnxruntime-node %s (%s)\n", or.Version, or.Threads)
			op := compareSteps(greedy, gWant, or.Greedy)
			fmt.Fprintf(o.log, "  onnxruntime greedy, %d steps: %s\n", len(greedy), op)
			ortRow.Peer, ortRow.Note, ortRow.failed = or.StepUS.Median, op.String(), !op.ok()
		}
	} else {
		ortRow.Note = ortSkip
	}

	// Ours: half the budget before the peers ran, half after, so that a
	// change in the load from other processes falls on both sides.
	steps = greedySteps(e, o.seconds/2, steps)
	one, two = beamSearches(e, o.seconds/2, one, two)
	fmt.Fprintf(o.log, "  ours: %d steps timed; beam: %d searches timed\n", len(steps), len(two))
	stepRow.Ours, ortRow.Ours = median(steps), median(steps)
	beamRow.Ours = median(two) - median(one)
	return []row{stepRow, beamRow, ortRow}, nil
}

// haveORT reports why the onnxruntime peer cannot run, or "".
func haveORT(module string) string {
	if _, err := exec.LookPath("node"); err != nil {
		return "skipped: no node on PATH (apt-get install -y nodejs)"
	}
	if _, err := os.Stat(filepath.Join(module, "package.json")); err != nil {
		return fmt.Sprintf("skipped: no onnxruntime-node at %s (see -ort; install: mkdir -p %s && cd %s && ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node@1.30.0)",
			module, filepath.Dir(filepath.Dir(module)), filepath.Dir(filepath.Dir(module)))
	}
	return ""
}

func tokens(steps []model.Step) string {
	w := make([]string, len(steps))
	for i, s := range steps {
		w[i] = s.Token
	}
	return strings.Join(w, " ")
}
