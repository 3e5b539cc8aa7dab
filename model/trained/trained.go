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
	"attention/model/translate"
)

//go:embed weights
var weights embed.FS

// Order is the order models are listed in; unknown ids sort after these.
var Order = []string{"en-de", "en-fr", "en-de-noatt", "en-fr-noatt"}

// Translators loads every translation model: from dir when it is not
// empty (for models being trained), else the embedded ones.
func Translators(dir string) ([]*translate.Model, error) {
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
	var out []*translate.Model
	for _, name := range names {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		id := strings.TrimSuffix(name, filepath.Ext(name))
		m, err := translate.Load(id, data)
		if err != nil {
			return nil, err
		}
		if m.Title == "" {
			m.Title = id
		}
		if ms, ok := metrics[id]; ok {
			m.Metrics = ms
		}
		out = append(out, m)
	}
	sort.SliceStable(out, func(i, j int) bool { return rank(out[i].ID) < rank(out[j].ID) })
	return out, nil
}

func rank(id string) int {
	for i, o := range Order {
		if o == id {
			return i
		}
	}
	return len(Order)
}

// MetricsFile is where cmd/eval records measured metrics, by model id.
const MetricsFile = "metrics.json"

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
