package viz

import (
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/disintegration/imaging"
)

var update = flag.Bool("update", false, "rewrite the golden PNGs in testdata/ instead of comparing with them")

// Golden comparison tolerances: rounding in resampling and font rasterising
// may differ a little between platforms, but not visibly.
const (
	channelTolerance = 2     // per colour channel, out of 255
	pixelTolerance   = 0.005 // fraction of pixels allowed beyond that
)

// golden compares got with testdata/name.png, or rewrites that file when the
// tests run with -update. On a mismatch it saves got for inspection.
func golden(t *testing.T, name string, got image.Image) {
	t.Helper()
	path := filepath.Join("testdata", name+".png")
	if *update {
		if err := writePNG(path, got); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", path)
		return
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("%v (run go test ./viz -update to create it)", err)
	}
	defer f.Close()
	want, err := png.Decode(f)
	if err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	if msg := diff(want, got); msg != "" {
		saved := filepath.Join(os.TempDir(), "viz-"+name+".got.png")
		if err := writePNG(saved, got); err != nil {
			t.Logf("could not save the image: %v", err)
		}
		t.Errorf("%s: %s; got saved as %s", path, msg, saved)
	}
}

// diff describes how a and b differ beyond the tolerances, or returns "".
func diff(a, b image.Image) string {
	na, nb := imaging.Clone(a), imaging.Clone(b)
	if na.Bounds().Size() != nb.Bounds().Size() {
		return fmt.Sprintf("size %v, want %v", nb.Bounds().Size(), na.Bounds().Size())
	}
	bad, first := 0, ""
	for i := 0; i < len(na.Pix); i += 4 {
		p, q := na.Pix[i:i+4], nb.Pix[i:i+4]
		if p[3] == 0 && q[3] == 0 {
			continue // colour of an invisible pixel does not matter
		}
		for k := range 4 {
			if d := int(p[k]) - int(q[k]); d > channelTolerance || d < -channelTolerance {
				if bad == 0 {
					x, y := (i/4)%na.Bounds().Dx(), (i/4)/na.Bounds().Dx()
					first = fmt.Sprintf(" (first at %d,%d: got %v, want %v)", x, y, q, p)
				}
				bad++
				break
			}
		}
	}
	if n := len(na.Pix) / 4; float64(bad) > pixelTolerance*float64(n) {
		return fmt.Sprintf("%d of %d pixels differ%s", bad, n, first)
	}
	return ""
}

func writePNG(path string, img image.Image) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(f, img); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// testPhoto is a synthetic stand-in for a photo: a grey diagonal gradient
// under a faint checkerboard, so position and scale show in the goldens and
// the heat colours stand out from it.
func testPhoto(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			v := 70 + 140*(x+y)/max(1, w+h-2)
			if (x/16+y/16)%2 == 1 {
				v += 30
			}
			img.SetNRGBA(x, y, color.NRGBA{uint8(v), uint8(v), uint8(v + 10), 0xff})
		}
	}
	return img
}

// hotGrid is rows x cols attention with weight peak on cell (r, c) and the
// rest shared evenly by the other cells, so it sums to 1.
func hotGrid(rows, cols, r, c int, peak float32) []float32 {
	w := make([]float32, rows*cols)
	for i := range w {
		w[i] = (1 - peak) / float32(rows*cols-1)
	}
	w[r*cols+c] = peak
	return w
}

func TestGoldens(t *testing.T) {
	twoSpots := make([]float32, 49)
	twoSpots[2*7+5] = 0.6 // a strong focus up and to the right,
	twoSpots[2*7+4] = 0.2 // spilling to its left neighbour,
	twoSpots[5*7+1] = 0.2 // and a weak one down on the left

	threeByThree := []float32{
		0.02, 0.05, 0.03,
		0.10, 0.60, 0.05,
		0.05, 0.08, 0.02,
	}

	words := []string{"a", "dog", "jumps", "over", "the", "café", "skateboarding", "."}
	strip := make([][]float32, len(words))
	for i := range words {
		strip[i] = hotGrid(7, 7, (i*2)%7, (i*3)%7, 0.5)
	}

	src := []string{"the", "little", "cat", "sat", "on", "the", "mat", "."}
	tgt := []string{"die", "kleine", "Katze", "saß", "auf", "der", "Matte", "."}
	align := make([][]float32, len(tgt))
	for i := range align {
		align[i] = make([]float32, len(src))
		for j := range align[i] {
			align[i][j] = 0.02
		}
		align[i][i] = 0.86
	}
	// "saß auf" ~ "sat on": shared attention, as real alignments show.
	align[3][3], align[3][4] = 0.5, 0.38
	align[4][3], align[4][4] = 0.3, 0.58

	cases := []struct {
		name string
		draw func() (*image.NRGBA, error)
	}{
		{"legend_viridis", func() (*image.NRGBA, error) { return Legend(Viridis, 128, 12), nil }},
		{"legend_cividis", func() (*image.NRGBA, error) { return Legend(Cividis, 128, 12), nil }},
		{"heat_7x7", func() (*image.NRGBA, error) { return HeatLayer(twoSpots, 7, 7, 112, 84, Viridis) }},
		{"heat_uniform", func() (*image.NRGBA, error) { return HeatLayer(hotGrid(7, 7, 0, 0, 1.0/49), 7, 7, 32, 24, Viridis) }},
		{"overlay_7x7", func() (*image.NRGBA, error) {
			return Overlay(testPhoto(112, 84), twoSpots, 7, 7, 0.8, Viridis)
		}},
		{"overlay_3x3_cividis", func() (*image.NRGBA, error) {
			return Overlay(testPhoto(96, 96), threeByThree, 3, 3, 0.8, Cividis)
		}},
		{"strip", func() (*image.NRGBA, error) {
			return Strip(testPhoto(96, 72), words, strip, 7, 7, 80, Viridis)
		}},
		{"alignment", func() (*image.NRGBA, error) { return Alignment(src, tgt, align, 24, Viridis) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			img, err := c.draw()
			if err != nil {
				t.Fatal(err)
			}
			golden(t, c.name, img)
		})
	}
}
