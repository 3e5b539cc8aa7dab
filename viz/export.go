package viz

import (
	"fmt"
	"html"
	"image"
	"image/gif"
	"math"
	"strings"

	"github.com/disintegration/imaging"
)

// AlignmentSVG is Alignment as an SVG document: the same grid and labels,
// as shapes and text that stay sharp at any size and can be edited. Each
// cell carries its weight in a <title> (a tooltip in most viewers).
func AlignmentSVG(src, tgt []string, weights [][]float32, cell int, cmap Colormap) ([]byte, error) {
	if err := checkAlignment(src, tgt, weights, cell); err != nil {
		return nil, err
	}
	font := math.Max(11, math.Min(18, float64(cell)*0.6))
	// Label room from the longest word: about 0.6 em a character.
	longest := func(ws []string) float64 {
		n := 0
		for _, w := range ws {
			n = max(n, min(len([]rune(w)), 24))
		}
		return float64(n) * font * 0.6
	}
	pad := float64(max(4, cell/4))
	left, top := pad+longest(tgt)+pad, pad+longest(src)+pad
	step := float64(cell + 1)
	w, h := left+float64(len(src))*step+pad, top+float64(len(tgt))*step+pad
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="sans-serif" font-size="%.0f">`+"\n", w, h, w, h, font)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="#fff"/>`+"\n")
	for i, row := range weights {
		for j, v := range row {
			c := cmap.At(float64(v))
			fmt.Fprintf(&b, `<rect x="%.0f" y="%.0f" width="%d" height="%d" fill="#%02x%02x%02x"><title>%s → %s: %.3f</title></rect>`+"\n",
				left+float64(j)*step, top+float64(i)*step, cell, cell, c.R, c.G, c.B, html.EscapeString(tgt[i]), html.EscapeString(src[j]), v)
		}
	}
	for j, s := range src { // along the top, reading upwards
		x, y := left+float64(j)*step+float64(cell)/2, top-pad
		fmt.Fprintf(&b, `<text transform="translate(%.1f %.1f) rotate(-90)" dominant-baseline="middle">%s</text>`+"\n", x, y, html.EscapeString(s))
	}
	for i, t := range tgt { // down the left
		x, y := left-pad, top+float64(i)*step+float64(cell)/2
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="end" dominant-baseline="middle">%s</text>`+"\n", x, y, html.EscapeString(t))
	}
	b.WriteString("</svg>\n")
	return []byte(b.String()), nil
}

// animOpacity is the heat layer's opacity in an animation's frames.
const animOpacity = 0.6

// Animation is a caption written word by word as an animated GIF: each
// frame is the photo with that word's attention over it (Overlay) and the
// caption so far underneath, the current word last. delay is each frame's
// time in hundredths of a second; the last frame stays three times as long.
func Animation(photo image.Image, words []string, weights [][]float32, rows, cols int, delay int, cmap Colormap) (*gif.GIF, error) {
	base, err := captionPhoto(photo, words, weights, rows, cols)
	if err != nil {
		return nil, err
	}
	if delay <= 0 {
		return nil, inputErr("frame delay %d: want at least 1", delay)
	}
	b := base.Bounds()
	lab, err := newLabeller(math.Max(12, float64(b.Dx())/18))
	if err != nil {
		return nil, err
	}
	lineH, err := lab.lineHeight()
	if err != nil {
		return nil, err
	}
	gap := max(4, b.Dx()/40)
	out := &gif.GIF{Config: image.Config{Width: b.Dx(), Height: b.Dy() + lineH + 2*gap}}
	for i, word := range words {
		frame, err := Overlay(base, weights[i], rows, cols, animOpacity, cmap)
		if err != nil {
			return nil, fmt.Errorf("word %d (%q): %w", i, word, err)
		}
		canvas := imaging.New(out.Config.Width, out.Config.Height, white)
		paste(canvas, frame, image.Point{})
		// The caption so far, its end kept when it no longer fits.
		label, err := lab.render(tail(words[:i+1], 60), b.Dx()-2*gap)
		if err != nil {
			return nil, err
		}
		paste(canvas, label, image.Pt(gap, b.Dy()+gap))
		pal := ditherPlan9(canvas)
		d := delay
		if i == len(words)-1 {
			d *= 3
		}
		out.Image, out.Delay = append(out.Image, pal), append(out.Delay, d)
	}
	return out, nil
}

// tail joins words with spaces, keeping at most n characters from the end
// (an ellipsis marks the cut).
func tail(words []string, n int) string {
	s := []rune(strings.Join(words, " "))
	if len(s) <= n {
		return string(s)
	}
	return "…" + string(s[len(s)-n:])
}
