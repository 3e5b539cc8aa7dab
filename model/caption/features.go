package caption

import (
	"encoding/json"
	"fmt"

	"attention/model/checkpoint"
)

// Features is a cache of region features, one (R, F) block per image.
type Features struct {
	Rows, Cols, Depth int
	Index             map[string]int // image name -> block
	Data              []float32      // (N, R, F)
}

// KindFeatures names feature-cache files.
const KindFeatures = "region-features"

// Of returns an image's features.
func (f *Features) Of(name string) ([]float32, bool) {
	i, ok := f.Index[name]
	if !ok {
		return nil, false
	}
	n := f.Rows * f.Cols * f.Depth
	return f.Data[i*n : (i+1)*n], true
}

// ToFile packs the cache (float16 on disk).
func (f *Features) ToFile(names []string) *checkpoint.File {
	return &checkpoint.File{Kind: KindFeatures, Config: []byte(fmt.Sprintf(`{"rows":%d,"cols":%d,"depth":%d}`, f.Rows, f.Cols, f.Depth)),
		Vocabs:  map[string][]string{"images": names},
		Tensors: []*checkpoint.Tensor{{Name: "features", Shape: []int{len(names), f.Rows * f.Cols, f.Depth}, DType: "f16", Data: f.Data}}}
}

// FeaturesFromFile unpacks a cache written by ToFile.
func FeaturesFromFile(c *checkpoint.File) (*Features, error) {
	if c.Kind != KindFeatures || len(c.Tensors) != 1 || len(c.Tensors[0].Shape) != 3 {
		return nil, fmt.Errorf("caption: not a feature cache (kind %q); make one with cmd/features", c.Kind)
	}
	t := c.Tensors[0]
	names := c.Vocabs["images"]
	if len(names) != t.Shape[0] {
		return nil, fmt.Errorf("caption: feature cache lists %d images for %d blocks", len(names), t.Shape[0])
	}
	var g struct{ Rows, Cols, Depth int }
	if err := json.Unmarshal(c.Config, &g); err != nil {
		return nil, err
	}
	if g.Rows*g.Cols != t.Shape[1] || g.Depth != t.Shape[2] {
		return nil, fmt.Errorf("caption: feature cache grid %dx%dx%d does not match its data %v", g.Rows, g.Cols, g.Depth, t.Shape)
	}
	f := &Features{Rows: g.Rows, Cols: g.Cols, Depth: g.Depth, Index: map[string]int{}, Data: t.Data}
	for i, n := range names {
		f.Index[n] = i
	}
	return f, nil
}
