package viz

import (
	"errors"
	"go/parser"
	"go/token"
	"image"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// hottest returns the position of the most opaque pixel.
func hottest(img *image.NRGBA) image.Point {
	best, at := -1, image.Point{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if a := int(img.NRGBAAt(x, y).A); a > best {
				best, at = a, image.Pt(x, y)
			}
		}
	}
	return at
}

func TestHeatLayerHottestPixelInHotRegion(t *testing.T) {
	const rows, cols, w, h = 7, 7, 140, 105 // not square: 20x15 px regions
	for _, cell := range [][2]int{{0, 0}, {2, 5}, {3, 3}, {6, 6}, {6, 0}} {
		r, c := cell[0], cell[1]
		// A weak peak: the focus must still be drawn at full strength.
		img, err := HeatLayer(hotGrid(rows, cols, r, c, 0.1), rows, cols, w, h, Viridis)
		if err != nil {
			t.Fatal(err)
		}
		region := image.Rect(c*w/cols, r*h/rows, (c+1)*w/cols, (r+1)*h/rows)
		p := hottest(img)
		if !p.In(region) {
			t.Errorf("hot cell (%d,%d): hottest pixel %v is outside its region %v", r, c, p, region)
		}
		if got := img.NRGBAAt(p.X, p.Y); got != Viridis.At(1) {
			t.Errorf("hot cell (%d,%d): hottest pixel is %v, want the top of the map, opaque", r, c, got)
		}
		// Far from the focus the photo shows through. The other cells hold
		// about a fifth of the peak weight, a quarter of the smoothed peak.
		far := image.Pt((c+4)%cols*w/cols+w/cols/2, (r+4)%rows*h/rows+h/rows/2)
		if a := img.NRGBAAt(far.X, far.Y).A; a > 80 {
			t.Errorf("hot cell (%d,%d): alpha %d at %v, far from the focus", r, c, a, far)
		}
	}
}

func TestHeatLayerUniform(t *testing.T) {
	w := make([]float32, 49)
	for i := range w {
		w[i] = 1.0 / 49
	}
	img, err := HeatLayer(w, 7, 7, 50, 30, Cividis)
	if err != nil {
		t.Fatal(err)
	}
	want := Cividis.At(1)
	for i := 0; i < len(img.Pix); i += 4 {
		if got := img.Pix[i : i+4]; got[0] != want.R || got[1] != want.G || got[2] != want.B || got[3] != want.A {
			t.Fatalf("pixel %d is %v, want %v everywhere", i/4, got, want)
		}
	}
}

func TestHeatLayerZeroIsTransparent(t *testing.T) {
	img, err := HeatLayer(make([]float32, 9), 3, 3, 12, 12, Viridis)
	if err != nil {
		t.Fatal(err)
	}
	for i := 3; i < len(img.Pix); i += 4 {
		if img.Pix[i] != 0 {
			t.Fatalf("pixel %d has alpha %d, want 0", i/4, img.Pix[i])
		}
	}
}

func TestHeatLayerSmooth(t *testing.T) {
	// Across the edge of the hot region no step is as large as a
	// nearest-neighbour upsampling would make it (all of 255 at once).
	img, err := HeatLayer(hotGrid(7, 7, 3, 3, 0.9), 7, 7, 140, 140, Viridis)
	if err != nil {
		t.Fatal(err)
	}
	y := 70
	for x := 1; x < 140; x++ {
		a, b := int(img.NRGBAAt(x-1, y).A), int(img.NRGBAAt(x, y).A)
		if d := b - a; d > 40 || d < -40 {
			t.Errorf("alpha jumps from %d to %d at x=%d", a, b, x)
		}
	}
}

func TestHeatLayerErrors(t *testing.T) {
	nan := float32(math.NaN())
	inf := float32(math.Inf(1))
	cases := []struct {
		name       string
		weights    []float32
		rows, cols int
		w, h       int
		want       string
	}{
		{"short", make([]float32, 48), 7, 7, 10, 10, "48 weights for a 7x7"},
		{"long", make([]float32, 50), 7, 7, 10, 10, "50 weights for a 7x7"},
		{"zero rows", nil, 0, 7, 10, 10, "must be positive"},
		{"negative cols", make([]float32, 4), 2, -2, 10, 10, "must be positive"},
		{"zero width", make([]float32, 4), 2, 2, 0, 10, "size 0x10"},
		{"negative height", make([]float32, 4), 2, 2, 10, -3, "size 10x-3"},
		{"huge", make([]float32, 4), 2, 2, maxSide + 1, 10, "outside"},
		{"NaN", []float32{0, nan, 0, 0}, 2, 2, 10, 10, "weight 1 is NaN"},
		{"Inf", []float32{0, 0, inf, 0}, 2, 2, 10, 10, "weight 2 is +Inf"},
		{"negative", []float32{0, 0, 0, -0.5}, 2, 2, 10, 10, "weight 3 is negative"},
	}
	for _, c := range cases {
		_, err := HeatLayer(c.weights, c.rows, c.cols, c.w, c.h, Viridis)
		if !errors.Is(err, ErrInput) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want ErrInput saying %q", c.name, err, c.want)
		}
	}
}

func TestOverlay(t *testing.T) {
	photo := testPhoto(70, 70)
	weights := hotGrid(7, 7, 1, 5, 0.8)

	clear, err := Overlay(photo, weights, 7, 7, 0, Viridis)
	if err != nil {
		t.Fatal(err)
	}
	if msg := diff(photo, clear); msg != "" {
		t.Errorf("opacity 0 changes the photo: %s", msg)
	}

	full, err := Overlay(photo, weights, 7, 7, 1, Viridis)
	if err != nil {
		t.Fatal(err)
	}
	if got := full.NRGBAAt(55, 15); !near(got, Viridis.At(1), 1) {
		t.Errorf("opacity 1: centre of the hot region is %s, want %s", hex(got), hex(Viridis.At(1)))
	}
	if got := full.NRGBAAt(15, 55); !near(got, photo.NRGBAAt(15, 55), 8) {
		t.Errorf("opacity 1: far from the focus %s, want about the photo's %s", hex(got), hex(photo.NRGBAAt(15, 55)))
	}

	// A photo whose bounds do not start at the origin is placed at it.
	sub := photo.SubImage(image.Rect(10, 10, 60, 40))
	out, err := Overlay(sub, weights, 7, 7, 0, Viridis)
	if err != nil {
		t.Fatal(err)
	}
	if out.Bounds() != image.Rect(0, 0, 50, 30) || out.NRGBAAt(0, 0) != photo.NRGBAAt(10, 10) {
		t.Errorf("sub-image: bounds %v, first pixel %v", out.Bounds(), out.NRGBAAt(0, 0))
	}
}

func TestOverlayErrors(t *testing.T) {
	w := hotGrid(3, 3, 1, 1, 0.5)
	cases := []struct {
		name    string
		photo   image.Image
		opacity float64
		want    string
	}{
		{"nil photo", nil, 0.5, "no photo"},
		{"empty photo", image.NewNRGBA(image.Rectangle{}), 0.5, "photo size 0x0"},
		{"opacity above 1", testPhoto(9, 9), 1.5, "opacity 1.5"},
		{"opacity below 0", testPhoto(9, 9), -0.1, "opacity -0.1"},
		{"opacity NaN", testPhoto(9, 9), math.NaN(), "opacity NaN"},
	}
	for _, c := range cases {
		_, err := Overlay(c.photo, w, 3, 3, c.opacity, Viridis)
		if !errors.Is(err, ErrInput) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want ErrInput saying %q", c.name, err, c.want)
		}
	}
	if _, err := Overlay(testPhoto(9, 9), w[:8], 3, 3, 0.5, Viridis); !errors.Is(err, ErrInput) {
		t.Errorf("bad grid: err = %v, want ErrInput", err)
	}
}

func TestStripLayout(t *testing.T) {
	photo := testPhoto(80, 40) // landscape: thumbnails are thumb x thumb/2
	maps := func(n int) [][]float32 {
		m := make([][]float32, n)
		for i := range m {
			m[i] = hotGrid(3, 3, i%3, i%3, 0.7)
		}
		return m
	}
	one, err := Strip(photo, []string{"a"}, maps(1), 3, 3, 64, Viridis)
	if err != nil {
		t.Fatal(err)
	}
	six, err := Strip(photo, strings.Fields("a b c d e f"), maps(6), 3, 3, 64, Viridis)
	if err != nil {
		t.Fatal(err)
	}
	seven, err := Strip(photo, strings.Fields("a b c d e f g"), maps(7), 3, 3, 64, Viridis)
	if err != nil {
		t.Fatal(err)
	}
	if one.Bounds().Dx() >= six.Bounds().Dx() || one.Bounds().Dy() != six.Bounds().Dy() {
		t.Errorf("one word %v, six words %v: want one row, wider", one.Bounds(), six.Bounds())
	}
	if seven.Bounds().Dx() != six.Bounds().Dx() || seven.Bounds().Dy() <= six.Bounds().Dy() {
		t.Errorf("six words %v, seven words %v: want the seventh on a new row", six.Bounds(), seven.Bounds())
	}
	if one.NRGBAAt(0, 0) != white {
		t.Errorf("background %v, want white", one.NRGBAAt(0, 0))
	}
}

func TestStripErrors(t *testing.T) {
	photo := testPhoto(20, 20)
	good := hotGrid(3, 3, 0, 0, 0.5)
	cases := []struct {
		name    string
		photo   image.Image
		words   []string
		weights [][]float32
		thumb   int
		want    string
	}{
		{"nil photo", nil, []string{"a"}, [][]float32{good}, 32, "no photo"},
		{"no words", photo, nil, nil, 32, "no words"},
		{"fewer maps", photo, []string{"a", "b"}, [][]float32{good}, 32, "2 words but 1 attention maps"},
		{"bad map", photo, []string{"a", "dog"}, [][]float32{good, good[:5]}, 32, `word 1 ("dog"): viz: invalid input: 5 weights`},
		{"thumb 0", photo, []string{"a"}, [][]float32{good}, 0, "thumbnail size 0"},
	}
	for _, c := range cases {
		_, err := Strip(c.photo, c.words, c.weights, 3, 3, c.thumb, Viridis)
		if !errors.Is(err, ErrInput) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want ErrInput saying %q", c.name, err, c.want)
		}
	}
}

func TestAlignment(t *testing.T) {
	src, tgt := []string{"a", "b"}, []string{"x", "y", "z"}
	w := [][]float32{{1, 0}, {0.5, 0.5}, {0, 1}}
	img, err := Alignment(src, tgt, w, 20, Viridis)
	if err != nil {
		t.Fatal(err)
	}
	// The grid's bottom-right cell is z -> b, weight 1, and the image ends a
	// margin after it.
	b := img.Bounds()
	pad := 5
	if got := img.NRGBAAt(b.Max.X-pad-10, b.Max.Y-pad-10); got != Viridis.At(1) {
		t.Errorf("cell (z, b) = %s, want %s", hex(got), hex(Viridis.At(1)))
	}
	if got := img.NRGBAAt(b.Max.X-pad-10-21, b.Max.Y-pad-10); got != Viridis.At(0) {
		t.Errorf("cell (z, a) = %s, want %s", hex(got), hex(Viridis.At(0)))
	}
	if got := img.NRGBAAt(b.Max.X-pad-10, b.Max.Y-pad-10-21); got != Viridis.At(0.5) {
		t.Errorf("cell (y, b) = %s, want %s", hex(got), hex(Viridis.At(0.5)))
	}
}

func TestAlignmentErrors(t *testing.T) {
	src, tgt := []string{"a", "b"}, []string{"x", "y"}
	cases := []struct {
		name     string
		src, tgt []string
		weights  [][]float32
		cell     int
		want     string
	}{
		{"no source", nil, tgt, [][]float32{{}, {}}, 20, "got 0 and 2"},
		{"missing row", src, tgt, [][]float32{{1, 0}}, 20, "2 target words but 1 rows"},
		{"ragged", src, tgt, [][]float32{{1, 0}, {1}}, 20, `row 1 ("y") has 1 weights for 2 source words`},
		{"NaN", src, tgt, [][]float32{{1, 0}, {float32(math.NaN()), 1}}, 20, `row 1 ("y"): viz: invalid input: weight 0 is NaN`},
		{"cell 0", src, tgt, [][]float32{{1, 0}, {0, 1}}, 0, "cell size 0"},
	}
	for _, c := range cases {
		_, err := Alignment(c.src, c.tgt, c.weights, c.cell, Viridis)
		if !errors.Is(err, ErrInput) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want ErrInput saying %q", c.name, err, c.want)
		}
	}
}

func TestLabelsFit(t *testing.T) {
	lab, err := newLabeller(14)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"", "a", "Mädchen", "Donaudampfschifffahrtsgesellschaft"} {
		img, err := lab.render(w, 60)
		if err != nil {
			t.Fatal(err)
		}
		if img.Bounds().Dx() > 60 {
			t.Errorf("%q is %d px wide, want at most 60", w, img.Bounds().Dx())
		}
	}
}

// viz stays a leaf: plain data in, images out.
func TestImportsStayPure(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if p == "net/http" || strings.Contains(p, "labstack/echo") ||
				strings.HasPrefix(p, "attention/web") || strings.HasPrefix(p, "attention/model") {
				t.Errorf("%s imports %s", name, p)
			}
		}
	}
}

func BenchmarkHeatLayer640x480(b *testing.B) {
	w := hotGrid(7, 7, 2, 5, 0.4)
	for b.Loop() {
		if _, err := HeatLayer(w, 7, 7, 640, 480, Viridis); err != nil {
			b.Fatal(err)
		}
	}
}
