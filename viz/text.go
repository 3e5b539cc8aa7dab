package viz

import (
	"fmt"
	"image"
	"image/draw"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// Labels use Go Regular rather than basicfont: basicfont is ASCII only, and
// the words under a caption or along a German sentence need ä, é and ß.
var goRegular = sync.OnceValues(func() (*opentype.Font, error) {
	return opentype.Parse(goregular.TTF)
})

// minLabelSize is the smallest font size, in pixels, a long word is shrunk to
// before it is cut short instead.
const minLabelSize = 9

// labeller writes words in one nominal size. It is not safe for concurrent
// use (opentype faces are not), so each drawing makes its own.
type labeller struct {
	font  *opentype.Font
	size  float64
	faces map[int]font.Face // by size in pixels
}

func newLabeller(size float64) (*labeller, error) {
	f, err := goRegular()
	if err != nil {
		return nil, fmt.Errorf("viz: parse label font: %w", err)
	}
	return &labeller{font: f, size: size, faces: map[int]font.Face{}}, nil
}

func (l *labeller) face(px int) (font.Face, error) {
	if f, ok := l.faces[px]; ok {
		return f, nil
	}
	f, err := opentype.NewFace(l.font, &opentype.FaceOptions{
		Size: float64(px), DPI: 72, Hinting: font.HintingFull,
	})
	if err != nil {
		return nil, fmt.Errorf("viz: label font at %dpx: %w", px, err)
	}
	l.faces[px] = f
	return f, nil
}

// lineHeight is the height of one line of labels at the nominal size.
func (l *labeller) lineHeight() (int, error) {
	f, err := l.face(int(l.size))
	if err != nil {
		return 0, err
	}
	m := f.Metrics()
	return (m.Ascent + m.Descent).Ceil(), nil
}

// render draws s in black on a transparent image no wider than maxW. A word
// too wide at the nominal size is drawn smaller, down to minLabelSize, and
// past that its end is replaced by an ellipsis, so it never runs into its
// neighbour. The image is one line high at the nominal size.
func (l *labeller) render(s string, maxW int) (*image.NRGBA, error) {
	nominal := int(l.size)
	h, err := l.lineHeight()
	if err != nil {
		return nil, err
	}
	px := nominal
	var f font.Face
	for {
		if f, err = l.face(px); err != nil {
			return nil, err
		}
		if font.MeasureString(f, s).Ceil() <= maxW || px <= minLabelSize {
			break
		}
		px--
	}
	if font.MeasureString(f, s).Ceil() > maxW {
		s = elide(f, s, maxW)
	}
	w := font.MeasureString(f, s).Ceil()
	img := image.NewNRGBA(image.Rect(0, 0, max(w, 1), h))
	// Baseline where the nominal face puts it, so words shrunk to fit still
	// sit on the same line as their neighbours.
	nf, err := l.face(nominal)
	if err != nil {
		return nil, err
	}
	d := font.Drawer{
		Dst:  img,
		Src:  image.Black,
		Face: f,
		Dot:  fixed.Point26_6{X: 0, Y: nf.Metrics().Ascent},
	}
	d.DrawString(s)
	return img, nil
}

// elide shortens s, rune by rune, until s plus an ellipsis fits in maxW.
func elide(f font.Face, s string, maxW int) string {
	r := []rune(s)
	for len(r) > 0 {
		r = r[:len(r)-1]
		t := string(r) + "…"
		if font.MeasureString(f, t).Ceil() <= maxW {
			return t
		}
	}
	return "…"
}

// paste draws src over dst with its top-left corner at p.
func paste(dst *image.NRGBA, src image.Image, p image.Point) {
	r := image.Rectangle{Min: p, Max: p.Add(src.Bounds().Size())}
	draw.Draw(dst, r, src, src.Bounds().Min, draw.Over)
}
