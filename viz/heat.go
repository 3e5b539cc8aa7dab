package viz

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"
	"sync"

	"github.com/disintegration/imaging"
)

// ErrInput is wrapped by every error that comes from bad arguments (wrong
// lengths, sizes, NaN weights), so a caller can report it as the request's
// fault rather than its own.
var ErrInput = errors.New("viz: invalid input")

func inputErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInput, fmt.Sprintf(format, args...))
}

// maxSide bounds every image dimension, so that a bad size fails with an
// error instead of an enormous allocation.
const maxSide = 1 << 14

// heatFilter upsamples the region grid. A Gaussian kernel gives round blobs
// with no seams at cell borders; interpolating kernels (linear, Catmull-Rom)
// trace the grid's squares and diamonds, which suggests a precision the
// coarse grid does not have.
var heatFilter = imaging.Gaussian

// stripOpacity is how strongly the heat layer covers each thumbnail in Strip:
// enough to read the focus, little enough to see what is under it.
const stripOpacity = 0.7

var white = color.NRGBA{0xff, 0xff, 0xff, 0xff}

// HeatLayer draws attention over a rows x cols grid of image regions as a
// width x height image to stack over the photo. weights are in row-major
// order (len rows*cols) and must be finite and non-negative; they need not
// sum to 1.
//
// The weights are divided by the word's largest weight, upsampled smoothly
// (a Gaussian of standard deviation half a region, centred on each region)
// and stretched so that the hottest pixel is 1: a word whose attention peaks
// at 0.1 shows its focus as clearly as one that peaks at 0.9. So the layer
// shows where the decoder looks, not how sharply; to compare that between
// words, use the weights themselves. Each pixel takes the colour map's colour
// for its value v and alpha v, so weakly attended regions let the photo
// through and the page can set the overall opacity in CSS. Uniform attention
// gives a uniform, opaque layer; all-zero attention a transparent one.
func HeatLayer(weights []float32, rows, cols, width, height int, cmap Colormap) (*image.NRGBA, error) {
	up, colours, err := heatPlane(weights, rows, cols, width, height, cmap)
	if err != nil {
		return nil, err
	}
	out := image.NewNRGBA(image.Rect(0, 0, width, height))
	for i, k := range up {
		c, p := colours.lut[k], out.Pix[4*i:4*i+4:4*i+4]
		p[0], p[1], p[2], p[3] = c.R, c.G, c.B, c.A
	}
	return out, nil
}

// HeatLayerPaletted is HeatLayer as a paletted image (the layer has at most
// 256 colours): the same pixels, a quarter of the memory, and a PNG made
// several times faster and smaller, as each caption word's layer is sent.
func HeatLayerPaletted(weights []float32, rows, cols, width, height int, cmap Colormap) (*image.Paletted, error) {
	up, colours, err := heatPlane(weights, rows, cols, width, height, cmap)
	if err != nil {
		return nil, err
	}
	if up == nil {
		return image.NewPaletted(image.Rect(0, 0, width, height), color.Palette{color.NRGBA{}}), nil
	}
	return &image.Paletted{Pix: up, Stride: width, Rect: image.Rect(0, 0, width, height), Palette: colours.palette}, nil
}

// heatColours holds, for each colour map and hottest value top (a layer's
// values are stretched so that top shows as 1), the colour of every value
// and the same as a palette: 256 lists a map, each made once and shared
// (nothing may change them).
var heatColours sync.Map // colourKey -> *layerColours

type colourKey struct {
	cmap Colormap
	top  uint8
}

type layerColours struct {
	lut     [256]color.NRGBA
	palette color.Palette
}

func coloursFor(cmap Colormap, top uint8) *layerColours {
	k := colourKey{cmap, top}
	if c, ok := heatColours.Load(k); ok {
		return c.(*layerColours)
	}
	c := &layerColours{palette: make(color.Palette, 256)}
	for k := range c.lut {
		v := uint8(min(255, (k*255+int(top)/2)/int(top)))
		c.lut[k] = cmap.entry(v, v)
		c.palette[k] = c.lut[k]
	}
	got, _ := heatColours.LoadOrStore(k, c)
	return got.(*layerColours)
}

// heatPlane is the heat layer's values, one byte a pixel, and their
// colours; nil values when nothing is attended (the layer is transparent).
func heatPlane(weights []float32, rows, cols, width, height int, cmap Colormap) ([]uint8, *layerColours, error) {
	if err := checkGrid(weights, rows, cols); err != nil {
		return nil, nil, err
	}
	if err := checkSize("heat layer", width, height); err != nil {
		return nil, nil, err
	}
	peak := float32(0)
	for _, w := range weights {
		peak = max(peak, w)
	}
	if peak == 0 {
		return nil, nil, nil
	}
	grid := make([]uint8, rows*cols)
	for i, w := range weights {
		grid[i] = uint8(math.Round(float64(w / peak * 255)))
	}
	// Source cells are centred on the output, so cell (r, c) lands on the
	// photo's region (r, c).
	up := upsample(grid, cols, rows, width, height)
	// A blurring kernel lowers an isolated peak; stretch back so the hottest
	// pixel is 1 again.
	top := uint8(0)
	for _, v := range up {
		top = max(top, v)
	}
	if top == 0 {
		return nil, nil, nil
	}
	return up, coloursFor(cmap, top), nil
}

// Overlay returns the photo, the size it is, with the heat layer of weights
// (see HeatLayer) blended over it at opacity in [0, 1]. Transparent parts of
// the photo are flattened onto white.
func Overlay(photo image.Image, weights []float32, rows, cols int, opacity float64, cmap Colormap) (*image.NRGBA, error) {
	base, err := flatten(photo)
	if err != nil {
		return nil, err
	}
	if !(opacity >= 0 && opacity <= 1) {
		return nil, inputErr("opacity %v is outside [0, 1]", opacity)
	}
	b := base.Bounds()
	heat, err := HeatLayer(weights, rows, cols, b.Dx(), b.Dy(), cmap)
	if err != nil {
		return nil, err
	}
	return imaging.Overlay(base, heat, image.Point{}, opacity), nil
}

// flatten copies photo onto an opaque white canvas at the origin, which
// also spares imaging.Overlay from dividing by zero on transparent pixels.
func flatten(photo image.Image) (*image.NRGBA, error) {
	if photo == nil {
		return nil, inputErr("no photo")
	}
	b := photo.Bounds()
	if err := checkSize("photo", b.Dx(), b.Dy()); err != nil {
		return nil, err
	}
	return imaging.Overlay(imaging.New(b.Dx(), b.Dy(), white), photo, image.Point{}, 1), nil
}

// drawCells fills a rows x cols block of cell-sized squares, 1 pixel apart,
// from the top-left corner at. Grid and Alignment share it so their cells
// look alike.
func drawCells(img *image.NRGBA, at image.Point, rows, cols, cell int, colour func(r, c int) color.NRGBA) {
	for r := range rows {
		for c := range cols {
			col := colour(r, c)
			x0, y0 := at.X+c*(cell+1), at.Y+r*(cell+1)
			for y := y0; y < y0+cell; y++ {
				for x := x0; x < x0+cell; x++ {
					img.SetNRGBA(x, y, col)
				}
			}
		}
	}
}

// Strip layout. stripPerRow keeps the figure about as wide as a page column.
const stripPerRow = 6

// Strip draws the figure of the Show, Attend and Tell paper: for each word,
// a thumbnail of the photo with that word's attention (see HeatLayer) at a
// fixed opacity, and the word written underneath, six to a row, on white.
// weights[i] is the rows x cols attention of words[i]. The photo is scaled
// so that its longer side is thumb pixels.
func Strip(photo image.Image, words []string, weights [][]float32, rows, cols int, thumb int, cmap Colormap) (*image.NRGBA, error) {
	base, err := captionPhoto(photo, words, weights, rows, cols)
	if err != nil {
		return nil, err
	}
	if thumb <= 0 || thumb > maxSide {
		return nil, inputErr("thumbnail size %d is outside 1..%d", thumb, maxSide)
	}

	b := base.Bounds()
	tw, th := thumb, thumb
	if b.Dx() > b.Dy() {
		th = max(1, int(math.Round(float64(thumb)*float64(b.Dy())/float64(b.Dx()))))
	} else {
		tw = max(1, int(math.Round(float64(thumb)*float64(b.Dx())/float64(b.Dy()))))
	}
	small := imaging.Resize(base, tw, th, imaging.Lanczos)

	// Labels scale with the thumbnails but stay readable when they are small.
	lab, err := newLabeller(math.Max(12, float64(thumb)/7))
	if err != nil {
		return nil, err
	}
	lineH, err := lab.lineHeight()
	if err != nil {
		return nil, err
	}
	gap := max(4, thumb/16)
	perRow := min(len(words), stripPerRow)
	nRows := (len(words) + stripPerRow - 1) / stripPerRow
	cellW, cellH := tw+gap, th+gap/2+lineH+gap
	img := imaging.New(gap+perRow*cellW, gap+nRows*cellH, white)

	for i, word := range words {
		heat, err := HeatLayer(weights[i], rows, cols, tw, th, cmap)
		if err != nil {
			return nil, fmt.Errorf("word %d (%q): %w", i, word, err)
		}
		at := image.Pt(gap+(i%stripPerRow)*cellW, gap+(i/stripPerRow)*cellH)
		paste(img, imaging.Overlay(small, heat, image.Point{}, stripOpacity), at)
		label, err := lab.render(word, tw+gap/2)
		if err != nil {
			return nil, err
		}
		lx := at.X + (tw-label.Bounds().Dx())/2
		paste(img, label, image.Pt(lx, at.Y+th+gap/2))
	}
	return img, nil
}

// Alignment draws a translation's attention as a grid: one row per target
// word (written down the left), one column per source word (written along
// the top, reading upwards), each cell cell pixels square. weights[i][j] is
// how much target word i attended to source word j. Unlike HeatLayer the
// weights are not normalised, so diffuse and sharp rows look different;
// they must be finite and non-negative, and values above 1 draw as 1.
func Alignment(src, tgt []string, weights [][]float32, cell int, cmap Colormap) (*image.NRGBA, error) {
	if err := checkAlignment(src, tgt, weights, cell); err != nil {
		return nil, err
	}

	lab, err := newLabeller(math.Max(11, math.Min(18, float64(cell)*0.6)))
	if err != nil {
		return nil, err
	}
	pad := max(4, cell/4)
	maxLabel := int(lab.size * 12) // long tokens are elided past this
	render := func(words []string) ([]*image.NRGBA, int, error) {
		out := make([]*image.NRGBA, len(words))
		widest := 0
		for i, w := range words {
			img, err := lab.render(w, maxLabel)
			if err != nil {
				return nil, 0, err
			}
			out[i] = img
			widest = max(widest, img.Bounds().Dx())
		}
		return out, widest, nil
	}
	srcLabels, top, err := render(src)
	if err != nil {
		return nil, err
	}
	tgtLabels, left, err := render(tgt)
	if err != nil {
		return nil, err
	}
	origin := image.Pt(pad+left+pad, pad+top+pad)
	img := imaging.New(origin.X+len(src)*(cell+1)-1+pad, origin.Y+len(tgt)*(cell+1)-1+pad, white)
	drawCells(img, origin, len(tgt), len(src), cell, func(r, c int) color.NRGBA {
		return cmap.At(float64(weights[r][c]))
	})
	for j, l := range srcLabels {
		up := imaging.Rotate90(l) // reads upwards, starting at the grid
		x := origin.X + j*(cell+1) + (cell-up.Bounds().Dx())/2
		paste(img, up, image.Pt(x, origin.Y-pad-up.Bounds().Dy()))
	}
	for i, l := range tgtLabels {
		y := origin.Y + i*(cell+1) + (cell-l.Bounds().Dy())/2
		paste(img, l, image.Pt(origin.X-pad-l.Bounds().Dx(), y))
	}
	return img, nil
}

// captionPhoto checks a caption's words and their rows x cols attention
// maps and returns the photo flattened onto white.
func captionPhoto(photo image.Image, words []string, weights [][]float32, rows, cols int) (*image.NRGBA, error) {
	base, err := flatten(photo)
	if err != nil {
		return nil, err
	}
	if len(words) == 0 {
		return nil, inputErr("no words")
	}
	if len(weights) != len(words) {
		return nil, inputErr("%d words but %d attention maps", len(words), len(weights))
	}
	for i, w := range weights {
		if err := checkGrid(w, rows, cols); err != nil {
			return nil, fmt.Errorf("word %d (%q): %w", i, words[i], err)
		}
	}
	return base, nil
}

// checkAlignment says what is wrong with an alignment grid's arguments.
func checkAlignment(src, tgt []string, weights [][]float32, cell int) error {
	if len(src) == 0 || len(tgt) == 0 {
		return inputErr("alignment needs source and target words, got %d and %d", len(src), len(tgt))
	}
	if len(weights) != len(tgt) {
		return inputErr("%d target words but %d rows of weights", len(tgt), len(weights))
	}
	for i, row := range weights {
		if len(row) != len(src) {
			return inputErr("row %d (%q) has %d weights for %d source words", i, tgt[i], len(row), len(src))
		}
		if err := checkValues(row); err != nil {
			return fmt.Errorf("row %d (%q): %w", i, tgt[i], err)
		}
	}
	return checkCell(cell, len(tgt), len(src))
}

func checkGrid(weights []float32, rows, cols int) error {
	if rows <= 0 || cols <= 0 {
		return inputErr("region grid %dx%d: rows and cols must be positive", rows, cols)
	}
	// Division rather than rows*cols, which could overflow.
	if len(weights)%cols != 0 || len(weights)/cols != rows {
		return inputErr("%d weights for a %dx%d region grid", len(weights), rows, cols)
	}
	return checkValues(weights)
}

func checkValues(weights []float32) error {
	for i, w := range weights {
		if math.IsNaN(float64(w)) || math.IsInf(float64(w), 0) {
			return inputErr("weight %d is %v", i, w)
		}
		if w < 0 {
			return inputErr("weight %d is negative (%v)", i, w)
		}
	}
	return nil
}

func checkSize(what string, width, height int) error {
	if width <= 0 || height <= 0 || width > maxSide || height > maxSide {
		return inputErr("%s size %dx%d is outside 1..%d", what, width, height, maxSide)
	}
	return nil
}

func checkCell(cell, rows, cols int) error {
	if cell <= 0 || cell > maxSide {
		return inputErr("cell size %d is outside 1..%d", cell, maxSide)
	}
	if (cell+1)*max(rows, cols) > maxSide {
		return inputErr("a %dx%d grid of %dpx cells is too large", rows, cols, cell)
	}
	return nil
}
