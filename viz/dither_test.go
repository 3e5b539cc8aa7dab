package viz

import (
	"image"
	"image/color"
	"image/color/palette"
	"image/draw"
	"math"
	"testing"
)

// A colour of the palette comes out as itself, with no error to spread.
func TestDitherPaletteColour(t *testing.T) {
	for _, i := range []int{0, 17, 100, 200, 255} {
		r, g, b, _ := palette.Plan9[i].RGBA()
		img := image.NewNRGBA(image.Rect(0, 0, 9, 5))
		for p := 0; p < len(img.Pix); p += 4 {
			img.Pix[p], img.Pix[p+1], img.Pix[p+2], img.Pix[p+3] = uint8(r>>8), uint8(g>>8), uint8(b>>8), 255
		}
		out := ditherPlan9(img)
		for p, got := range out.Pix {
			if gr, gg, gb, _ := out.Palette[got].RGBA(); gr != r || gg != g || gb != b {
				t.Fatalf("palette colour %d: pixel %d is colour %d", i, p, got)
			}
		}
	}
}

// Dithering keeps the picture's colour where the eye averages it: over
// 8x8 blocks of a smooth colour ramp (whose colours are mostly not in the
// palette) the mean colour stays about as close to the source's as with
// the standard library's Floyd–Steinberg, the peer it replaces.
func TestDitherKeepsBlockMeans(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 256, 96))
	for y := range 96 {
		for x := range 256 {
			img.SetNRGBA(x, y, color.NRGBA{uint8(x), uint8(255 - x/2), uint8(y * 2), 255})
		}
	}
	// blockError is the mean and the largest difference, in levels of
	// 255, between an 8x8 block's mean channel value in img and in out.
	blockError := func(out *image.Paletted) (mean, worst float64) {
		n := 0
		for by := 0; by < 96; by += 8 {
			for bx := 0; bx < 256; bx += 8 {
				var diff [3]float64
				for y := by; y < by+8; y++ {
					for x := bx; x < bx+8; x++ {
						c := img.NRGBAAt(x, y)
						r, g, b, _ := out.At(x, y).RGBA()
						diff[0] += float64(c.R) - float64(r>>8)
						diff[1] += float64(c.G) - float64(g>>8)
						diff[2] += float64(c.B) - float64(b>>8)
					}
				}
				for _, d := range diff {
					d = math.Abs(d) / 64
					mean, worst, n = mean+d, math.Max(worst, d), n+1
				}
			}
		}
		return mean / float64(n), worst
	}
	std := image.NewPaletted(img.Bounds(), palette.Plan9)
	draw.FloydSteinberg.Draw(std, std.Bounds(), img, image.Point{})
	mean, worst := blockError(ditherPlan9(img))
	stdMean, stdWorst := blockError(std)
	t.Logf("block colour error: mean %.2f, worst %.1f levels (image/draw: %.2f, %.1f)", mean, worst, stdMean, stdWorst)
	if mean > 1.25*stdMean || mean > 2 || worst > stdWorst+4 {
		t.Fatalf("block colour error: mean %.2f, worst %.1f levels; image/draw's Floyd–Steinberg: %.2f, %.1f", mean, worst, stdMean, stdWorst)
	}
	// Not dithering at all (the nearest colour each pixel) is far worse:
	// the check can tell.
	flat := image.NewPaletted(img.Bounds(), palette.Plan9)
	draw.Src.Draw(flat, flat.Bounds(), img, image.Point{})
	if m, _ := blockError(flat); m < 2*mean {
		t.Fatalf("nearest colour without dithering: mean %.2f levels, dithered %.2f", m, mean)
	}
}
