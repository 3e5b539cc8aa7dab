package train

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"attention/model"
	"attention/model/translate"
	"attention/model/vocab"
)

// A toy task (copy a sentence, upper-cased) trains end to end: the dev
// score improves, the best model is saved and loads, and a run resumes
// from its saved state.
func TestTranslationToyTask(t *testing.T) { translationToyTask(t, 1) }

// The same with three data-parallel workers (local SGD).
func TestTranslationToyTaskWorkers(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the data-parallel toy run trains for 18 epochs; CI runs it")
	}
	translationToyTask(t, 3)
}

func translationToyTask(t *testing.T, workers int) {
	rng := rand.New(rand.NewPCG(1, 2))
	words := strings.Fields("red blue green cat dog bird runs sits jumps the a big small")
	pair := func() translate.Pair {
		n := 2 + rng.IntN(4)
		var s []string
		for i := 0; i < n; i++ {
			s = append(s, words[rng.IntN(len(words))])
		}
		src := strings.Join(s, " ")
		return translate.Pair{Src: src, Refs: []string{strings.ToUpper(src)}}
	}
	var train, dev []translate.Pair
	for i := 0; i < 600; i++ {
		train = append(train, pair())
	}
	for i := 0; i < 40; i++ {
		dev = append(dev, pair())
	}
	cfg := translate.Config{SrcLang: "en", TgtLang: "de", Emb: 16, EncHidden: 16, DecHidden: 32, Att: 16, PreOut: 16, Attention: true}
	var ss, ts [][]string
	for _, p := range train {
		ss, ts = append(ss, vocab.Tokenize(p.Src, "en")), append(ts, vocab.Tokenize(p.Refs[0], "de"))
	}
	src, tgt := vocab.Build(ss, 1), vocab.Build(ts, 1)
	cfg.SrcVocab, cfg.TgtVocab = src.Len(), tgt.Len()
	dir := t.TempDir()
	out := filepath.Join(dir, "toy.ckpt")
	var log bytes.Buffer
	opts := TranslateOptions{Batch: 16, LR: 1e-2, Clip: 5, MaxEpochs: 2, Patience: 5, MaxLen: 20, Seed: 3,
		SaveEvery: time.Hour, Dir: filepath.Join(dir, "run"), Out: out, Graphs: 2, Log: &log, Workers: workers, SyncEvery: 2, Meta: map[string]any{"title": "toy"}}
	res, err := Translation(cfg, src, tgt, train, []translate.Held{{Name: "dev", Pairs: dev}}, opts)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	first := res.BestBLEU
	// Averaging W workers' steps moves the weights about as far as one
	// worker's steps on W-times larger batches: fewer, surer steps per
	// epoch, so the parallel run is given more epochs.
	// With so few averaged steps an epoch, the learning rate is held.
	opts.MaxEpochs, opts.Resume = 6*workers, true
	if workers > 1 {
		opts.MinEpochs = opts.MaxEpochs
	}
	res, err = Translation(cfg, src, tgt, train, []translate.Held{{Name: "dev", Pairs: dev}}, opts)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	if !strings.Contains(log.String(), "resumed from") {
		t.Fatalf("did not resume:\n%s", log.String())
	}
	t.Logf("dev BLEU after 2 epochs %.1f, after %d %.1f", first, opts.MaxEpochs, res.BestBLEU)
	if res.BestBLEU <= first || res.BestBLEU < 20 {
		t.Fatalf("dev BLEU did not improve enough: %.1f -> %.1f\n%s", first, res.BestBLEU, log.String())
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	m, err := translate.Load("toy", data)
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.Translate("the big dog runs", model.Options{Beam: 1, MaxLen: 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("the big dog runs -> %s", got)
}
