package caption

import (
	"fmt"
	"image"

	"attention/model"
	"attention/model/mobilenet"
)

// Pipeline captions photos: the MobileNetV2 encoder turns the photo into
// region features and the decoder writes about them. Safe for concurrent
// use.
type Pipeline struct {
	Enc *mobilenet.Encoder
	Dec *Model
}

// Info describes the decoder.
func (p *Pipeline) Info() model.Info { return p.Dec.Info() }

// OutputWords lists the decoder's vocabulary, by id (model.Vocabulary).
func (p *Pipeline) OutputWords() []string { return p.Dec.OutputWords() }

// CropSize is the encoder's input side (224).
func (p *Pipeline) CropSize() int {
	w, _ := p.Enc.InputSize()
	return w
}

// Prepare crops img as the encoder does (mobilenet.Encoder.Fit) and runs
// the encoder and the decoder's set-up on it.
func (p *Pipeline) Prepare(img image.Image) (model.Prepared, error) {
	feat, rows, cols, depth, err := p.Enc.Regions(img)
	if err != nil {
		return nil, err
	}
	if c := p.Dec.Cfg; rows != c.Rows || cols != c.Cols || depth != c.Feat {
		return nil, fmt.Errorf("caption: the encoder gives %dx%dx%d regions, the decoder was trained on %dx%dx%d",
			rows, cols, depth, c.Rows, c.Cols, c.Feat)
	}
	return p.Dec.Encode(feat)
}

// InputSide is the encoder input that gives a decoder's region grid:
// MobileNetV2 maps 32 pixels to one region (224 to 7x7, 448 to 14x14).
func (c Config) InputSide() int { return 32 * c.Rows }

// Pipelines pairs each decoder with the encoder (the TFLite file
// encoderFile) at the input side its grid needs, one encoder per side.
func Pipelines(encoderFile []byte, decs []*Model) ([]model.Captioner, error) {
	encs := map[int]*mobilenet.Encoder{}
	out := make([]model.Captioner, 0, len(decs))
	for _, d := range decs {
		side := d.Cfg.InputSide()
		enc, ok := encs[side]
		if !ok {
			var err error
			if enc, err = mobilenet.LoadAt(encoderFile, side); err != nil {
				return nil, err
			}
			encs[side] = enc
		}
		out = append(out, &Pipeline{Enc: enc, Dec: d})
	}
	return out, nil
}
