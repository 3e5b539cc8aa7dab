package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"attention/model"
	"attention/model/bleu"
	"attention/model/trained"
	"attention/model/translate"
	"attention/model/vocab"
	"attention/viz"
)

// lengthBuckets are the source lengths (in tokens, as Prepare reads them)
// the by-length figure compares models over. Photo descriptions and
// everyday sentences are short, so the last buckets are the long tail.
var lengthBuckets = []viz.LengthBucket{{Lo: 1, Hi: 6}, {Lo: 7, Hi: 10}, {Lo: 11, Hi: 14}, {Lo: 15, Hi: 19}, {Lo: 20, Hi: 29}, {Lo: 30}}

// byLength scores each model on the pooled pairs by source length: the
// analogue of Bahdanau et al.'s Fig. 2 (RNNsearch against RNNenc). It
// prints the table and writes the figure as out.png and out.svg.
func byLength(ms []*translate.Model, pairs []translate.Pair, opts model.Options, out string, record bool) error {
	buckets := append([]viz.LengthBucket(nil), lengthBuckets...)
	of := make([]int, len(pairs)) // each pair's bucket
	for i, p := range pairs {
		n := len(translate.AsSentence(vocab.Tokenize(p.Src, "en")))
		of[i] = viz.Bucket(buckets, n)
		if of[i] >= 0 {
			buckets[of[i]].N++
		}
	}
	var series []viz.LengthSeries
	for _, m := range ms {
		_, hyps, refused := translate.Evaluate(m, pairs, opts, 0)
		name := "with attention (" + m.ID + ")"
		if !m.Cfg.Attention {
			name = "without attention (" + m.ID + ")"
		}
		s := viz.LengthSeries{Name: name, Score: make([]float64, len(buckets))}
		for k := range buckets {
			var h []string
			var refs [][]string
			for i, p := range pairs {
				if of[i] == k {
					h, refs = append(h, hyps[i]), append(refs, p.Refs)
				}
			}
			s.Score[k] = bleu.CorpusMulti(h, refs).BLEU
		}
		fmt.Printf("%-40s", s.Name)
		for k, b := range buckets {
			fmt.Printf("  %s: %5.2f", b.Label(), s.Score[k])
		}
		fmt.Printf("  (%d refused)\n", refused)
		series = append(series, s)
	}
	fmt.Print("sentences per bucket:")
	for _, b := range buckets {
		fmt.Printf("  %s: %d", b.Label(), b.N)
	}
	fmt.Println()
	if record {
		if err := recordByLength(ms, buckets, series); err != nil {
			return err
		}
	}
	if out == "" {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	for _, format := range []string{"png", "svg"} {
		b, err := viz.LengthFigure(buckets, series, 0, 560, 360, format)
		if err != nil {
			return err
		}
		if err := os.WriteFile(out+"."+format, b, 0o644); err != nil {
			return err
		}
	}
	fmt.Printf("figure: %s.png, %s.svg\n", out, out)
	return nil
}

// recordByLength keeps the scores for the page's figure, under the first
// model's id, in model/trained/weights/bylength.json.
func recordByLength(ms []*translate.Model, buckets []viz.LengthBucket, series []viz.LengthSeries) error {
	path := filepath.Join("model", "trained", "weights", trained.ByLengthFile)
	all := map[string]model.ByLength{}
	if data, err := os.ReadFile(path); err == nil {
		if err := json.Unmarshal(data, &all); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	var b model.ByLength
	for _, x := range buckets {
		b.Buckets = append(b.Buckets, model.LengthRange{Lo: x.Lo, Hi: x.Hi, N: x.N})
	}
	for i, s := range series {
		b.Series = append(b.Series, model.LengthScores{Name: s.Name, Model: ms[i].ID, BLEU: s.Score})
	}
	all[ms[0].ID] = b
	return writeJSON(path, all)
}
