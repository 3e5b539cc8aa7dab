// Package trained embeds the project's trained models and loads them.
package trained

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"attention/model"
	"attention/model/caption"
	"attention/model/checkpoint"
	"attention/model/translate"
)

//go:embed weights
var weights embed.FS

// Models are the trained models found in one place.
type Models struct {
	Translators []*translate.Model
	Captioners  []*caption.Model // decoders; they need the image encoder to serve
	// ByLength: each translation model's BLEU by source length beside its
	// baseline's, where cmd/eval -by-length -record measured it.
	ByLength map[string]model.ByLength
}

// Load reads every model: from dir when it is not empty (for models being
// trained), else the embedded ones. Each checkpoint says what kind of
// model it holds.
func Load(dir string) (*Models, error) {
	var fsys fs.FS
	if dir != "" {
		fsys = os.DirFS(dir)
	} else {
		sub, err := fs.Sub(weights, "weights")
		if err != nil {
			return nil, err
		}
		fsys = sub
	}
	names, err := fs.Glob(fsys, "*.ckpt")
	if err != nil {
		return nil, err
	}
	metrics, err := readMetrics(fsys)
	if err != nil {
		return nil, err
	}
	out := &Models{}
	if data, err := fs.ReadFile(fsys, ByLengthFile); err == nil {
		if err := json.Unmarshal(data, &out.ByLength); err != nil {
			return nil, fmt.Errorf("%s: %w", ByLengthFile, err)
		}
	}
	for _, name := range names {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		id := strings.TrimSuffix(name, filepath.Ext(name))
		h, err := checkpoint.Header(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if strings.HasPrefix(h.Kind, caption.Kind) { // a model or a run in progress
			m, err := caption.Load(id, data)
			if err != nil {
				return nil, err
			}
			m.Title = orID(m.Title, id)
			m.Metrics = metrics[id]
			m.TrainedOn = orDefault(m.TrainedOn, id)
			m.LenAlpha = lenAlpha[id]
			out.Captioners = append(out.Captioners, m)
			continue
		}
		m, err := translate.Load(id, data)
		if err != nil {
			return nil, err
		}
		m.Title = orID(m.Title, id)
		m.Metrics = metrics[id]
		m.TrainedOn = orDefault(m.TrainedOn, id)
		m.LenAlpha = lenAlpha[id]
		out.Translators = append(out.Translators, m)
	}
	sort.SliceStable(out.Translators, func(i, j int) bool { return rank(out.Translators[i].ID) < rank(out.Translators[j].ID) })
	sort.SliceStable(out.Captioners, func(i, j int) bool { return rank(out.Captioners[i].ID) < rank(out.Captioners[j].ID) })
	return out, nil
}

// Translators loads the translation models (see Load).
func Translators(dir string) ([]*translate.Model, error) {
	m, err := Load(dir)
	if err != nil {
		return nil, err
	}
	return m.Translators, nil
}

// lenAlpha is a model's beam-search length exponent, chosen on its dev
// sets with beam 5 (docs/MODELS.md): BLEU-4 on the Flickr8k dev split for
// captions, the mean of the two dev BLEUs (Multi30k val, Tatoeba dev) for
// translation. The others use model.DefaultLenAlpha.
var lenAlpha = map[string]float64{
	"en-de":         0.6, // epoch 10; val / Tatoeba dev 35.87 / 41.95 at 0.6, 35.88 / 41.84 at 1.0, 35.95 / 41.75 at 1.4, 36.00 / 41.39 at 1.8, 35.99 / 40.60 at 2.2, 35.66 / 40.08 at 2.6 (epoch 9 was chosen at 2.6)
	"caption-sup":   1.0, // dev 18.63 at 0.6, 18.97 at 0.8, 18.98 at 1.0, 18.26 at 1.4
	"caption":       1.8, // dev 18.11 at 0.6 and 1.0, 18.24 at 1.4, 18.73 at 1.8, 18.44 at 2.2
	"caption-noatt": 1.0, // dev 16.30 at 0.6, 17.03 at 1.0, 16.77 at 1.8
}

// trainedOn describes the data of the models trained before checkpoints
// said so themselves (their runs are in docs/MODELS.md).
var trainedOn = map[string]string{
	"caption": "Flickr8k: 6,000 photos with 5 captions each",
}

func orDefault(about, id string) string {
	if about == "" {
		return trainedOn[id]
	}
	return about
}

func orID(title, id string) string {
	if title == "" {
		return id
	}
	return title
}

// rank is a model's place in the lists: each attention model, then the
// baselines; unknown ids sort after these.
func rank(id string) int {
	order := [...]string{"en-de", "en-fr", "caption-sup", "caption", "en-de-noatt", "en-fr-noatt", "caption-noatt"}
	for i, o := range order {
		if o == id {
			return i
		}
	}
	return len(order)
}

// MetricsFile is where cmd/eval records measured metrics, by model id.
const MetricsFile = "metrics.json"

// ByLengthFile is where cmd/eval -by-length -record records the scores by
// source length, by model id.
const ByLengthFile = "bylength.json"

func readMetrics(fsys fs.FS) (map[string][]model.Metric, error) {
	data, err := fs.ReadFile(fsys, MetricsFile)
	if err != nil {
		return nil, nil // no metrics recorded yet
	}
	var m map[string][]model.Metric
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", MetricsFile, err)
	}
	return m, nil
}
