// Command eval measures a trained model on its test split. Translation:
// sacreBLEU-style corpus BLEU (13a tokenisation, cased, detokenised output).
// Captions: BLEU-4 on lower-cased words against the five references of
// each Flickr8k test image.
//
//	go run ./cmd/eval -model en-de -beam 5           # Multi30k and Tatoeba test sets, numbers and names
//	go run ./cmd/eval -model en-fr -beam 5 -record   # also update metrics.json
//	go run ./cmd/eval -model caption -beam 3
package main

import (
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"attention/model"
	"attention/model/trained"
	"attention/model/translate"
	"attention/model/vocab"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "eval:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		id       = flag.String("model", "en-de", "model id: en-de, en-fr, caption, or one of those with -noatt")
		dir      = flag.String("model-dir", "", "read NAME.ckpt from this directory instead of the embedded models")
		data     = flag.String("data", "../shared/data", "the shared data directory")
		split    = flag.String("split", "test", "test or dev")
		beam     = flag.Int("beam", 5, "beam width (1 is greedy)")
		alpha    = flag.Float64("alpha", 0, "beam search's length-normalisation exponent (larger favours longer outputs; 0: the model's own, else 0.6)")
		limit    = flag.Int("n", 0, "evaluate only the first n sentences (0: all)")
		record   = flag.Bool("record", false, "record the result in model/trained/weights/metrics.json")
		show     = flag.Int("show", 5, "print this many example translations")
		hypsPath = flag.String("hyps", "", "write the detokenised translations to this path + .SPLIT, one per line")
		lengths  = flag.Bool("by-length", false, "translation: BLEU by source length on the test sets pooled, for -model and -baseline, with the figure (-figure)")
		baseline = flag.String("baseline", "", "with -by-length: the model to compare with (e.g. en-de-noatt)")
		figure   = flag.String("figure", filepath.Join("docs", "img", "bleu-by-length"), "with -by-length: write the figure to this path + .png and .svg (\"\": none)")
		domains  = flag.String("domains", "both", "translation: the test sets to score: multi30k (photo descriptions), tatoeba (everyday sentences) or both")
		segPath  = flag.String("seg", filepath.Join("runs", "seg", "flickr8k.seg"), "captions: the class maps from cmd/segment, for attention correctness")
		features = flag.String("features", filepath.Join("runs", "features", "flickr8k.ckpt"), "captions: the region-feature cache from cmd/features; without it the test images are encoded here")
	)
	flag.Parse()
	models, err := trained.Load(*dir)
	if err != nil {
		return err
	}
	for _, c := range models.Captioners {
		if c.ID == *id {
			return evalCaption(c, *data, *features, *segPath, *split, model.Options{Beam: *beam, LenAlpha: *alpha}, *limit, *show, *record)
		}
	}
	var m *translate.Model
	for _, x := range models.Translators {
		if x.ID == *id {
			m = x
		}
	}
	if m == nil {
		return fmt.Errorf("no model %q (trained models: %d); train it with cmd/train", *id, len(models.Translators)+len(models.Captioners))
	}
	corpus, err := translate.LoadCorpus(*data, m.Cfg.TgtLang, *domains, 1)
	if err != nil {
		return err
	}
	sets := corpus.Test
	if *split == "dev" {
		sets = corpus.Dev
	} else if *split != "test" {
		return fmt.Errorf("unknown -split %q: want test or dev", *split)
	}
	fmt.Printf("model %s (%s), %d parameters\n", m.ID, m.Cfg, m.P.Count())
	// Without -alpha each model decodes with its own length exponent.
	opts := model.Options{Beam: *beam, MaxLen: 80, LenAlpha: *alpha}
	if *alpha == 0 {
		*alpha = cmp.Or(m.LenAlpha, model.DefaultLenAlpha)
	}
	if *lengths {
		ms := []*translate.Model{m}
		if *baseline != "" {
			var b *translate.Model
			for _, x := range models.Translators {
				if x.ID == *baseline {
					b = x
				}
			}
			if b == nil {
				return fmt.Errorf("no baseline model %q; train it with cmd/train -model %s -no-attention", *baseline, *id)
			}
			ms = append(ms, b)
		}
		var pooled []translate.Pair
		for _, set := range sets {
			pooled = append(pooled, set.Pairs...)
		}
		if *split == "test" && *domains != "tatoeba" { // the other Multi30k test set, for more long sentences
			more, err := translate.Multi30k(filepath.Join(*data, "multi30k"), "test_2017_flickr", "en", m.Cfg.TgtLang)
			if err != nil {
				return err
			}
			pooled = append(pooled, more...)
		}
		return byLength(ms, pooled, opts, *figure, *record)
	}
	// Numbers and names: the held-out sentences that have them, scored on
	// the translations below, and the everyday ones a class might type.
	var copies translate.CopyTally
	sentences := 0
	for _, set := range sets {
		pairs := set.Pairs
		if *limit > 0 && *limit < len(pairs) {
			pairs = pairs[:*limit]
		}
		start := time.Now()
		score, hyps, refused := translate.Evaluate(m, pairs, opts, 0)
		for _, c := range translate.CopyCases(pairs, m.Cfg.SrcLang, m.Cfg.TgtLang) {
			copies.Add(c, hyps[c.Pair], m.Cfg.TgtLang)
			sentences++
		}
		elapsed := time.Since(start)
		fmt.Printf("split %s: %d sentences, beam %d (length alpha %.2g), %s\n", set.Name, len(pairs), *beam, *alpha, elapsed.Round(time.Millisecond))
		if refused > 0 {
			fmt.Printf("  %d sources refused by Prepare, as the server would (scored as empty outputs)\n", refused)
		}
		for i := 0; i < *show && i < len(pairs); i++ {
			fmt.Printf("  src: %s\n  ref: %s\n  out: %s\n", pairs[i].Src, pairs[i].Refs[0], hyps[i])
		}
		fmt.Printf("attention sharpness (mean peak weight per word, first 200 sentences, greedy): %.3f\n", sharpness(m, pairs, 200))
		fmt.Printf("sacreBLEU-style (13a, cased, detokenised): %s\n", score)
		if *hypsPath != "" {
			if err := writeLines(*hypsPath+"."+set.Name, hyps); err != nil {
				return err
			}
		}
		if *record {
			note := fmt.Sprintf("beam %d, length alpha %.2g, sacreBLEU 13a, %s", *beam, *alpha, time.Now().UTC().Format("2006-01-02"))
			if *beam == 1 {
				note = fmt.Sprintf("greedy, sacreBLEU 13a, %s", time.Now().UTC().Format("2006-01-02"))
			}
			if err := recordMetric(m.ID, model.Metric{Name: "BLEU", Value: round2(score.BLEU), Split: set.Name, Note: note}); err != nil {
				return err
			}
		}
	}
	everyday := translate.CopyRate(m, translate.EverydayCopyCases, opts)
	copies.Found, copies.Total = copies.Found+everyday.Found, copies.Total+everyday.Total
	copies.Misses = append(copies.Misses, everyday.Misses...)
	rate := copies.Rate()
	fmt.Printf("numbers and names copied exactly: %d of %d (%.1f%%) in %d sentences (%d from the %s sets, %d everyday)\n",
		copies.Found, copies.Total, rate, sentences+len(translate.EverydayCopyCases), sentences, *split, len(translate.EverydayCopyCases))
	for i, miss := range copies.Misses {
		if i == *show {
			break
		}
		fmt.Printf("  missed: %s\n", miss)
	}
	if *record {
		return recordMetric(m.ID, model.Metric{Name: "numbers and names copied (%)", Value: round2(rate), Split: *split + " sets + everyday",
			Note: fmt.Sprintf("%d of %d, beam %d", copies.Found, copies.Total, *beam)})
	}
	return nil
}

func writeLines(path string, lines []string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	for _, l := range lines {
		fmt.Fprintln(f, l)
	}
	return f.Close()
}

func round2(v float64) float64 { return float64(int(v*100+0.5)) / 100 }

// sharpness is the mean over words of the largest attention weight.
func sharpness(m *translate.Model, pairs []translate.Pair, n int) float64 {
	var sum float64
	var count int
	for i := 0; i < n && i < len(pairs); i++ {
		words := vocab.Tokenize(pairs[i].Src, m.Cfg.SrcLang)
		if len(words) == 0 {
			continue
		}
		e := m.Encode(words)
		for st := range e.Decode(context.Background(), model.Options{Beam: 1, MaxLen: 80}) {
			peak := float32(0)
			for _, a := range st.Attention {
				peak = max(peak, a)
			}
			sum += float64(peak)
			count++
		}
	}
	if count == 0 {
		return 0
	}
	return sum / float64(count)
}

func recordMetric(id string, metric model.Metric) error {
	path := filepath.Join("model", "trained", "weights", trained.MetricsFile)
	all := map[string][]model.Metric{}
	if data, err := os.ReadFile(path); err == nil {
		if err := json.Unmarshal(data, &all); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	var kept []model.Metric
	for _, x := range all[id] {
		if x.Name != metric.Name || x.Split != metric.Split {
			kept = append(kept, x)
		}
	}
	all[id] = append(kept, metric)
	return writeJSON(path, all)
}

// writeJSON records v, indented, in path.
func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return err
	}
	fmt.Printf("recorded in %s\n", path)
	return nil
}
