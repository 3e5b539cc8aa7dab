// Package segment runs DeepLabV3 with a MobileNetV2 backbone, trained on
// PASCAL VOC 2012, from the publisher's uint8-quantised TFLite file
// (deeplabv3_mnv2_pascal_quant.tflite): a photo in, one of 21 classes per
// pixel out. It is used to measure where caption attention lands.
//
// The network runs on mobilenet.Graph in float32 with every activation
// rounded to its uint8 grid, so that the ARG_MAX over the upsampled logits
// (0.2 apart per level) breaks ties as the file's integer runtime does.
package segment

import (
	"errors"
	"fmt"
	"image"

	"attention/model"
	"attention/model/mobilenet"

	"github.com/disintegration/imaging"
)

// NativeSize is the input side the file was converted for.
const NativeSize = 513

// Classes lists the 21 PASCAL VOC class names, index = class id: the
// network's label order, which model.ObjectClasses follows.
var Classes = model.ObjectClasses

// Class ids used by callers.
const (
	Background = 0
	Dog        = 12
	Person     = 15
)

// Net is the DeepLabV3-MobileNetV2 PASCAL VOC network. It is safe for
// concurrent use; each call in flight holds its own activation buffers
// (about 150 MB at 513x513, 40 MB at 257x257).
type Net struct {
	g    *mobilenet.Graph
	size int
}

// Load compiles the network at its native 513x513 input size.
func Load(tflite []byte) (*Net, error) { return LoadSize(tflite, NativeSize) }

// LoadSize compiles the network for size x size inputs. The backbone's
// output stride is 16, so the logits are (size-1)/16+1 on a side; sizes of
// the form 16k+1 (257, 321, 513) keep the native geometry, where feature
// pixels sit exactly on input pixels, as the align_corners upsampling
// assumes. The image-pooling branch is a global mean at any size.
func LoadSize(tflite []byte, size int) (*Net, error) {
	if size < 17 || size > 2049 {
		return nil, fmt.Errorf("segment: input size %d, want 17..2049", size)
	}
	g, err := mobilenet.Compile(tflite, mobilenet.Options{InputH: size, InputW: size, Requantize: true})
	if err != nil {
		return nil, fmt.Errorf("segment: %w", err)
	}
	if sh := g.OutputShape(); len(sh) != 3 || sh[0] != 1 || sh[1] != size || sh[2] != size {
		return nil, fmt.Errorf("segment: output shape %v, want a [1 %d %d] class map", sh, size, size)
	}
	return &Net{g: g, size: size}, nil
}

// Size is the input side the network was compiled for.
func (n *Net) Size() int { return n.size }

// Segment runs the network on img and returns its class map, row-major
// class ids of w x h = Size() x Size() pixels. img may have any size: it is
// stretched to the input size with a Lanczos filter, as the publisher's
// example does (PIL's ANTIALIAS resize, aspect ratio not kept), so the map
// covers the whole of img, stretched the same way.
func (n *Net) Segment(img image.Image) (classes []uint8, w, h int, err error) {
	b := img.Bounds()
	if b.Empty() {
		return nil, 0, 0, errors.New("segment: empty image")
	}
	if b.Dx() != n.size || b.Dy() != n.size {
		img = imaging.Resize(img, n.size, n.size, imaging.Lanczos)
	}
	out, err := n.g.Run(img)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("segment: %w", err)
	}
	classes = make([]uint8, len(out))
	for i, v := range out {
		classes[i] = uint8(v)
	}
	return classes, n.size, n.size, nil
}
