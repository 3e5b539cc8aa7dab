package main

import (
	"cmp"
	"fmt"
	_ "image/jpeg"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"attention/model"
	"attention/model/caption"
	"attention/model/checkpoint"
	"attention/model/mobilenet"
	"attention/model/photo"
	"attention/model/segment"
)

// evalCaption scores a caption model on the Flickr8k test (or dev) split.
func evalCaption(m *caption.Model, data, features, segPath, split string, opts model.Options, limit, show int, record bool) error {
	if opts.LenAlpha == 0 {
		opts.LenAlpha = cmp.Or(m.LenAlpha, model.DefaultLenAlpha)
	}
	beam, alpha := opts.Beam, opts.LenAlpha
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
	feats, err := regionFeatures(data, features, names, m.Cfg)
	if err != nil {
		return err
	}
	imgs := make([]caption.Image, len(names))
	for i, name := range names {
		imgs[i] = caption.Image{Name: name, Feat: feats[i], Refs: fl.Captions[name]}
	}
	start := time.Now()
	opts.MaxLen = 30
	score, hyps := caption.Evaluate(m, imgs, opts)
	elapsed := time.Since(start)
	flatOpts := opts
	flatOpts.FlatAttention = true
	flat, _ := caption.Evaluate(m, imgs, flatOpts)
	c := m.Cfg
	fmt.Printf("model %s (R%dx%d F%d D%d E%d K%d A%d V%d attention=%v), %d parameters\n",
		m.ID, c.Rows, c.Cols, c.Feat, c.Proj, c.Emb, c.Hidden, c.Att, c.Vocab, c.Attention, m.P.Count())
	fmt.Printf("split flickr8k-%s: %d images x 5 references, beam %d (length alpha %.2g), %s\n", split, len(imgs), beam, alpha, elapsed.Round(time.Millisecond))
	for i := 0; i < show && i < len(imgs); i++ {
		fmt.Printf("  %s\n  ref: %s\n  out: %s\n", imgs[i].Name, strings.Join(imgs[i].Refs[0], " "), strings.Join(hyps[i].Words, " "))
	}
	fmt.Printf("attention sharpness (mean peak weight per word over %d regions; uniform is %.3f): %.3f; content words %.3f (%.1fx uniform), function words %.3f\n",
		c.R(), 1/float64(c.R()), score.Sharpness, score.Content, score.Content*float64(c.R()), score.Function)
	fmt.Printf("attention entropy per word: %.2f nats (uniform: %.2f)\n", score.Entropy, math.Log(float64(c.R())))
	fmt.Printf("BLEU-4 (lower-cased words, 5 references): %s\n", score.BLEU)
	fmt.Printf("BLEU-4 with uniform attention at inference: %.2f (attention is worth %.2f BLEU-4)\n", flat.BLEU.BLEU, score.BLEU.BLEU-flat.BLEU.BLEU)
	looks, err := objectLooks(segPath, names, hyps, c.Rows, c.Cols)
	if err != nil {
		return err
	}
	if record {
		note := fmt.Sprintf("beam %d, length alpha %.2g, lower-cased, %s", beam, alpha, time.Now().UTC().Format("2006-01-02"))
		if err := recordMetric(m.ID, model.Metric{Name: "BLEU-4", Value: round2(score.BLEU.BLEU), Split: "flickr8k-" + split, Note: note}); err != nil {
			return err
		}
		ms := []model.Metric{
			{Name: "attention sharpness", Value: round3(score.Sharpness), Note: fmt.Sprintf("mean peak weight per word over %dx%d regions, beam %d; uniform %.3f", c.Rows, c.Cols, beam, 1/float64(c.R()))},
			{Name: "content-word sharpness", Value: round3(score.Content), Note: fmt.Sprintf("mean peak weight per content word; %.1fx uniform", score.Content*float64(c.R()))},
			{Name: "BLEU-4 lost without attention", Value: round2(score.BLEU.BLEU - flat.BLEU.BLEU), Note: "uniform attention at inference, same beam"},
		}
		for _, g := range looks {
			if g.n > 0 && (g.name == "person" || g.name == "dog") {
				ms = append(ms, model.Metric{Name: "attention correctness (" + g.name + ")", Value: round2(g.mass / g.area),
					Note: fmt.Sprintf("attention mass on the %s's pixels / its area, %d words; segmentation: DeepLabV3-MobileNetV2", g.name, g.n)})
			}
		}
		for _, x := range ms {
			x.Split = "flickr8k-" + split
			if err := recordMetric(m.ID, x); err != nil {
				return err
			}
		}
	}
	return nil
}

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

// lookGroup sums where the words naming one kind of object looked.
type lookGroup struct {
	name       string
	n, pointed int
	mass, area float64
	ratioSum   float64
}

// objectLooks measures attention correctness (Liu et al. 2017) from the
// segmentation cache: for every generated word that names a PASCAL VOC
// class found in the photo, the attention mass on the class's pixels
// against the class's area (what uniform attention puts there), and how
// often the most attended region is the object (model.LookAt). It prints
// a table by class and returns the groups.
func objectLooks(segPath string, names []string, hyps []caption.Decoded, rows, cols int) ([]*lookGroup, error) {
	seg, err := segment.LoadMaps(segPath)
	if err != nil {
		return nil, fmt.Errorf("%w (attention correctness needs the class maps: go run ./cmd/segment)", err)
	}
	groups := map[string]*lookGroup{}
	all := &lookGroup{name: "all"}
	for i, name := range names {
		cm, ok := seg.Of[name]
		if !ok {
			return nil, fmt.Errorf("%s: no class map for %s", segPath, name)
		}
		for t, w := range hyps[i].Words {
			class, shares, area, ok := model.NamedObject(w, cm, seg.Side, seg.Side, rows, cols)
			if !ok {
				continue // no object word, or one the network did not find
			}
			l := model.LookAt(hyps[i].Att[t], shares, area)
			g := groups[class]
			if g == nil {
				g = &lookGroup{name: class}
				groups[class] = g
			}
			for _, g := range []*lookGroup{g, all} {
				g.n++
				g.mass += l.Mass
				g.area += l.Area
				g.ratioSum += l.Mass / l.Area
				if l.Pointed {
					g.pointed++
				}
			}
		}
	}
	out := []*lookGroup{all}
	for _, g := range groups {
		out = append(out, g)
	}
	sort.Slice(out[1:], func(i, j int) bool { return out[1+i].n > out[1+j].n })
	fmt.Printf("attention correctness (mass on the named object's pixels; uniform attention gives its area):\n")
	fmt.Printf("  %-12s %6s %8s %8s %8s %9s %8s\n", "class", "words", "mass", "area", "ratio", "mean r.", "pointed")
	for _, g := range out {
		if g.n == 0 {
			continue
		}
		fmt.Printf("  %-12s %6d %8.3f %8.3f %7.2fx %8.2fx %7.0f%%\n", g.name, g.n, g.mass/float64(g.n), g.area/float64(g.n),
			g.mass/g.area, g.ratioSum/float64(g.n), 100*float64(g.pointed)/float64(g.n))
	}
	return out, nil
}

// regionFeatures reads the images' features from the cache, or encodes
// the images when there is no cache.
func regionFeatures(data, cache string, names []string, c caption.Config) ([][]float32, error) {
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
	enc, err := mobilenet.LoadAt(w, c.InputSide())
	if err != nil {
		return nil, err
	}
	for i, n := range names {
		img, err := photo.Open(filepath.Join(data, "flickr8k", "images", n), photo.DefaultLimits())
		if err != nil {
			return nil, err
		}
		if out[i], _, _, _, err = enc.Regions(img); err != nil {
			return nil, err
		}
	}
	return out, nil
}
