// Package mobilenet runs an ImageNet MobileNetV2 read from a quantised
// TFLite file. Weights are dequantised once at load time and the network
// runs in float32 in pure Go, interpreting the file's graph op by op. The
// encoder's main product is the last convolutional feature map (7x7 regions
// of 1280 features for a 224x224 photo), which an attention captioner
// attends over; Classify keeps the ImageNet head for checking the weights.
//
// Graph is the interpreter underneath, exported for other networks built
// from the same operators (DeepLabV3's segmentation head adds dilated
// convolutions, bilinear resizing, concatenation and ARG_MAX).
package mobilenet

import (
	"errors"
	"image"

	"attention/model/photo"
)

// The encoder's public home, file name and checksum (internal/fetch gets
// and verifies it for the commands).
const (
	WeightsURL    = "https://github.com/google-coral/test_data/raw/master/mobilenet_v2_1.0_224_quant.tflite"
	WeightsSHA256 = "7aad0c74c5e3c06e5eb3c827e13304fdd68a83da6087d92ee169c24ff9fd4776"
	WeightsFile   = "mobilenet_v2_1.0_224_quant.tflite"
)

// Encoder is a compiled MobileNet graph. It is safe for concurrent use.
type Encoder struct {
	g                   *Graph
	feature             int // input of the global average pool
	featSteps           int // steps[:featSteps] compute feature
	featH, featW, featC int
}

// Load parses a TFLite MobileNet, dequantises its weights and prepares the
// graph of subgraph 0. Every shape is checked here, so Regions and Classify
// can only fail on a bad image.
func Load(data []byte) (*Encoder, error) { return LoadAt(data, 0) }

// LoadAt is Load with the input side set to side pixels (0: the file's
// own, 224). The network is fully convolutional up to the global pool, so
// a 448 input gives a 14x14 region grid where 224 gives 7x7; Fit then
// crops photos to side x side.
func LoadAt(data []byte, side int) (*Encoder, error) {
	g, err := Compile(data, Options{InputH: side, InputW: side})
	if err != nil {
		return nil, err
	}
	e := &Encoder{g: g, feature: -1}
	for i, s := range g.steps {
		if s.op == OpAveragePool2D {
			e.feature, e.featSteps = s.in[0], i
			sh := g.shapes[s.in[0]]
			e.featH, e.featW, e.featC = sh[1], sh[2], sh[3]
			break
		}
	}
	if e.feature < 0 {
		return nil, errors.New("mobilenet: graph has no AVERAGE_POOL_2D, so there is no region feature map")
	}
	return e, nil
}

// Regions returns the last convolutional feature map, the input of the
// global average pool: rows x cols regions of depth features, row-major
// (r, c, d). For MobileNetV2 at 224x224 that is 7x7x1280. img is any
// upright photo: it is cropped as Fit does.
func (e *Encoder) Regions(img image.Image) (feat []float32, rows, cols, depth int, err error) {
	feat, err = e.g.run(e.Fit(img), e.featSteps, e.feature)
	if err != nil {
		return nil, 0, 0, 0, err
	}
	return feat, e.featH, e.featW, e.featC, nil
}

// Fit is the photo as the encoder sees it: the centre square, resized to
// the input size (photo.Square). A photo of that size already is used as
// it is, so a caller that needs the crop too (to show it, to segment it)
// makes it once and passes it.
func (e *Encoder) Fit(img image.Image) image.Image {
	w, h := e.InputSize()
	if b := img.Bounds(); b.Dx() == w && b.Dy() == h {
		return img
	}
	return photo.Square(img, w)
}

// Classify runs the whole network and returns the class probabilities
// (1001 for this model, index 0 being "background").
func (e *Encoder) Classify(img image.Image) ([]float32, error) {
	return e.g.Run(e.Fit(img))
}

// InputSize is the image size the model takes, e.g. 224x224.
func (e *Encoder) InputSize() (width, height int) { return e.g.InputSize() }
