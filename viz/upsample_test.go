package viz

import (
	"bytes"
	"image"
	"image/png"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/disintegration/imaging"
)

// upsample gives imaging.Resize's bytes for an opaque grey plane, at the
// sizes the pages and exports use and at odd ones.
func TestUpsampleIsImagingResize(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, tc := range []struct{ w, h, dw, dh int }{
		{7, 7, 112, 112}, {7, 7, 224, 224}, {14, 14, 112, 112}, {7, 7, 640, 480},
		{5, 3, 37, 91}, {7, 7, 7, 50}, {7, 7, 60, 7}, {7, 7, 7, 7}, {1, 1, 10, 10}, {7, 7, 3, 2},
	} {
		for range 5 {
			grid := image.NewGray(image.Rect(0, 0, tc.w, tc.h))
			for i := range grid.Pix {
				grid.Pix[i] = uint8(rng.IntN(256))
			}
			want := imaging.Resize(grid, tc.dw, tc.dh, heatFilter)
			got := upsample(slices.Clone(grid.Pix), tc.w, tc.h, tc.dw, tc.dh)
			if len(got) != tc.dw*tc.dh {
				t.Fatalf("%+v: %d values", tc, len(got))
			}
			for i, v := range got {
				if want.Pix[4*i] != v {
					t.Fatalf("%dx%d -> %dx%d: pixel %d is %d, imaging gives %d", tc.w, tc.h, tc.dw, tc.dh, i, v, want.Pix[4*i])
				}
			}
		}
	}
}

// imagingHeatLayer is HeatLayer as drawn with imaging.Resize, to check the
// drawing against and to time.
func imagingHeatLayer(weights []float32, rows, cols, width, height int, cmap Colormap) *image.NRGBA {
	out := image.NewNRGBA(image.Rect(0, 0, width, height))
	peak := slices.Max(weights)
	if peak == 0 {
		return out
	}
	grid := image.NewGray(image.Rect(0, 0, cols, rows))
	for i, w := range weights {
		grid.Pix[i] = uint8(math.Round(float64(w / peak * 255)))
	}
	up := imaging.Resize(grid, width, height, heatFilter)
	top := uint8(0)
	for i := 0; i < len(up.Pix); i += 4 {
		top = max(top, up.Pix[i])
	}
	if top == 0 {
		return out
	}
	for i := 0; i < len(up.Pix); i += 4 {
		v := uint8(min(255, (int(up.Pix[i])*255+int(top)/2)/int(top)))
		c := cmap.entry(v, v)
		out.Pix[i], out.Pix[i+1], out.Pix[i+2], out.Pix[i+3] = c.R, c.G, c.B, c.A
	}
	return out
}

// HeatLayer and the paletted layer have the pixels imaging's resize gives.
func TestHeatLayerPaletted(t *testing.T) {
	for _, w := range [][]float32{hotGrid(7, 7, 2, 5, 0.4), hotGrid(7, 7, 0, 0, 0.9), make([]float32, 49), uniform(49)} {
		want := imagingHeatLayer(w, 7, 7, 112, 112, Viridis)
		layer, err := HeatLayer(w, 7, 7, 112, 112, Viridis)
		if err != nil {
			t.Fatal(err)
		}
		got, err := HeatLayerPaletted(w, 7, 7, 112, 112, Viridis)
		if err != nil {
			t.Fatal(err)
		}
		for y := range 112 {
			for x := range 112 {
				a := want.NRGBAAt(x, y)
				if b, c := layer.NRGBAAt(x, y), got.At(x, y); a != b || any(a) != c {
					t.Fatalf("pixel (%d, %d): HeatLayer %v, paletted %v, with imaging %v", x, y, b, c, a)
				}
			}
		}
	}
	if _, err := HeatLayerPaletted(make([]float32, 3), 7, 7, 112, 112, Viridis); err == nil {
		t.Error("3 weights for a 7x7 grid: no error")
	}
}

func uniform(n int) []float32 {
	w := make([]float32, n)
	for i := range w {
		w[i] = 1 / float32(n)
	}
	return w
}

// A caption word's heat layer as the server sends it: drawn at 112x112
// and encoded as PNG at png.BestSpeed. "before": drawn with imaging's
// resize as an RGBA image, a new encoder each time; "now": drawn by
// HeatLayerPaletted, the encoder's buffers reused (as web does).
func BenchmarkWordLayer(b *testing.B) {
	w := hotGrid(7, 7, 2, 5, 0.4)
	run := func(b *testing.B, enc png.Encoder, draw func() image.Image) {
		var n int
		for b.Loop() {
			var buf bytes.Buffer
			if err := enc.Encode(&buf, draw()); err != nil {
				b.Fatal(err)
			}
			n = buf.Len()
		}
		b.ReportMetric(float64(n), "bytes")
	}
	b.Run("before", func(b *testing.B) {
		run(b, png.Encoder{CompressionLevel: png.BestSpeed}, func() image.Image { return imagingHeatLayer(w, 7, 7, 112, 112, Viridis) })
	})
	b.Run("now", func(b *testing.B) {
		run(b, png.Encoder{CompressionLevel: png.BestSpeed, BufferPool: &onePool{}}, func() image.Image {
			img, err := HeatLayerPaletted(w, 7, 7, 112, 112, Viridis)
			if err != nil {
				b.Fatal(err)
			}
			return img
		})
	})
}

// onePool keeps one png.EncoderBuffer (the benchmark encodes one at a time).
type onePool struct{ b *png.EncoderBuffer }

func (p *onePool) Get() *png.EncoderBuffer  { return p.b }
func (p *onePool) Put(b *png.EncoderBuffer) { p.b = b }
