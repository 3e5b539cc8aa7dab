package main

import (
	"fmt"
	"image"
	_ "image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"time"

	"attention/model"
	"attention/model/caption"
	"attention/model/checkpoint"
	"attention/model/mobilenet"
)

// evalCaption scores a caption model on the Flickr8k test (or dev) split.
func evalCaption(m *caption.Model, data, features, split string, beam int, alpha float64, limit, show int, record bool) error {
	fl, err := caption.LoadFlickr8k(filepath.Join(data, "flickr8k"))
	if err != nil {
		return err
	}
	names := map[string][]string{"test": fl.Test, "dev": fl.Dev}[split]
	if names == nil {
		return fmt.Errorf("unknown -split %q: want test or dev", split)
	}
	if limit > 0 && limit < len(names) {
		names = names[:limit]
	}
	feats, err := regionFeatures(data, features, names)
	if err != nil {
		return err
	}
	imgs := make([]caption.Image, len(names))
	for i, name := range names {
		imgs[i] = caption.Image{Name: name, Feat: feats[i], Refs: fl.Captions[name]}
	}
	start := time.Now()
	score, hyps := caption.Evaluate(m, imgs, model.Options{Beam: beam, MaxLen: 30, LenAlpha: alpha})
	elapsed := time.Since(start)
	c := m.Cfg
	fmt.Printf("model %s (R%dx%d F%d D%d E%d K%d A%d V%d attention=%v), %d parameters\n",
		m.ID, c.Rows, c.Cols, c.Feat, c.Proj, c.Emb, c.Hidden, c.Att, c.Vocab, c.Attention, m.P.Count())
	fmt.Printf("split flickr8k-%s: %d images x 5 references, beam %d (length alpha %.2g), %s\n", split, len(imgs), beam, alpha, elapsed.Round(time.Millisecond))
	for i := 0; i < show && i < len(imgs); i++ {
		fmt.Printf("  %s\n  ref: %s\n  out: %s\n", imgs[i].Name, strings.Join(imgs[i].Refs[0], " "), strings.Join(hyps[i], " "))
	}
	fmt.Printf("attention sharpness (mean peak weight per word over %d regions; uniform is %.3f): %.3f\n",
		c.R(), 1/float64(c.R()), score.Sharpness)
	fmt.Printf("BLEU-4 (lower-cased words, 5 references): %s\n", score.BLEU)
	if record {
		note := fmt.Sprintf("beam %d, lower-cased, %s", beam, time.Now().UTC().Format("2006-01-02"))
		if err := recordMetric(m.ID, model.Metric{Name: "BLEU-4", Value: round2(score.BLEU.BLEU), Split: "flickr8k-" + split, Note: note}); err != nil {
			return err
		}
		return recordMetric(m.ID, model.Metric{Name: "attention sharpness", Value: float64(int(score.Sharpness*1000+0.5)) / 1000,
			Split: "flickr8k-" + split, Note: fmt.Sprintf("mean peak weight per word, beam %d; uniform %.3f", beam, 1/float64(c.R()))})
	}
	return nil
}

// regionFeatures reads the images' features from the cache, or encodes
// the images when there is no cache.
func regionFeatures(data, cache string, names []string) ([][]float32, error) {
	out := make([][]float32, len(names))
	if f, err := checkpoint.Load(cache); err == nil {
		feats, err := caption.FeaturesFromFile(f)
		if err != nil {
			return nil, err
		}
		for i, n := range names {
			var ok bool
			if out[i], ok = feats.Of(n); !ok {
				return nil, fmt.Errorf("%s: no features for %s", cache, n)
			}
		}
		return out, nil
	}
	fmt.Fprintf(os.Stderr, "no feature cache at %s: encoding %d images\n", cache, len(names))
	w, err := os.ReadFile(filepath.Join(data, "weights", mobilenet.WeightsFile))
	if err != nil {
		return nil, err
	}
	enc, err := mobilenet.Load(w)
	if err != nil {
		return nil, err
	}
	for i, n := range names {
		f, err := os.Open(filepath.Join(data, "flickr8k", "images", n))
		if err != nil {
			return nil, err
		}
		img, _, err := image.Decode(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", n, err)
		}
		if out[i], _, _, _, err = enc.Regions(mobilenet.Preprocess(img)); err != nil {
			return nil, err
		}
	}
	return out, nil
}
