package viz

import (
	"image"
	"image/color"
	"math"
)

// Colormap maps a value in [0, 1] to a colour. The maps offered are
// perceptually uniform (equal steps in value look like equal steps in colour)
// and stay readable with colour-vision deficiencies, so a heat layer does not
// invent edges that are not in the attention.
//
// The zero Colormap is Viridis.
type Colormap struct {
	name string
	lut  *[256][3]uint8
}

var (
	// Viridis runs from dark purple through teal to yellow.
	Viridis = Colormap{name: "viridis", lut: &viridisLUT}
	// Cividis runs from dark blue through grey to yellow; it was designed to
	// look the same to viewers with red-green colour blindness.
	Cividis = Colormap{name: "cividis", lut: &cividisLUT}
)

// Colormaps lists the available maps, the default first.
func Colormaps() []Colormap { return []Colormap{Viridis, Cividis} }

// ColormapByName returns the map with the given Name.
func ColormapByName(name string) (Colormap, bool) {
	for _, c := range Colormaps() {
		if c.name == name {
			return c, true
		}
	}
	return Colormap{}, false
}

// Name is the map's lower-case name, as accepted by ColormapByName.
func (c Colormap) Name() string { return c.table().name }

func (c Colormap) table() Colormap {
	if c.lut == nil {
		return Viridis
	}
	return c
}

// At returns the opaque colour for t, interpolating linearly between the
// map's 256 entries. t is clamped to [0, 1]; NaN counts as 0.
func (c Colormap) At(t float64) color.NRGBA {
	lut := c.table().lut
	if !(t > 0) { // also catches NaN
		t = 0
	} else if t > 1 {
		t = 1
	}
	x := t * 255
	i := int(x)
	if i >= 255 {
		e := lut[255]
		return color.NRGBA{e[0], e[1], e[2], 0xff}
	}
	f := x - float64(i)
	a, b := lut[i], lut[i+1]
	mix := func(a, b uint8) uint8 {
		return uint8(math.Round(float64(a) + (float64(b)-float64(a))*f))
	}
	return color.NRGBA{mix(a[0], b[0]), mix(a[1], b[1]), mix(a[2], b[2]), 0xff}
}

// entry returns the map's colour for k/255 with the given alpha; the heat
// layer's hot path, where k is already a byte.
func (c Colormap) entry(k, alpha uint8) color.NRGBA {
	e := c.table().lut[k]
	return color.NRGBA{e[0], e[1], e[2], alpha}
}

// Legend draws the map as a horizontal bar, 0 at the left edge and 1 at the
// right, for the page to label. Non-positive sizes give an empty image.
func Legend(cmap Colormap, width, height int) *image.NRGBA {
	if width <= 0 || height <= 0 {
		return image.NewNRGBA(image.Rectangle{})
	}
	img := image.NewNRGBA(image.Rect(0, 0, width, height))
	row := img.Pix[:width*4]
	for x := range width {
		t := 0.0
		if width > 1 {
			t = float64(x) / float64(width-1)
		}
		c, p := cmap.At(t), row[x*4:x*4+4:x*4+4]
		p[0], p[1], p[2], p[3] = c.R, c.G, c.B, c.A
	}
	for y := 1; y < height; y++ {
		copy(img.Pix[y*img.Stride:], row)
	}
	return img
}
