package viz

import (
	"fmt"
	"image/color"
	"math"
	"testing"
)

func hex(c color.NRGBA) string { return fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B) }

func near(a, b color.NRGBA, tol int) bool {
	d := func(x, y uint8) bool { return int(x)-int(y) <= tol && int(y)-int(x) <= tol }
	return d(a.R, b.R) && d(a.G, b.G) && d(a.B, b.B) && d(a.A, b.A)
}

func TestColormapAnchors(t *testing.T) {
	// Published values: the ends of each map exactly, and the middle as
	// R's viridisLite gives it (viridis(3)[2], cividis(3)[2]).
	cases := []struct {
		cmap Colormap
		t    float64
		want color.NRGBA
		tol  int
	}{
		{Viridis, 0, color.NRGBA{0x44, 0x01, 0x54, 0xff}, 0},
		{Viridis, 1, color.NRGBA{0xfd, 0xe7, 0x25, 0xff}, 0},
		{Viridis, 0.5, color.NRGBA{0x21, 0x90, 0x8c, 0xff}, 1},
		{Cividis, 0, color.NRGBA{0x00, 0x20, 0x4d, 0xff}, 0},
		{Cividis, 1, color.NRGBA{0xff, 0xea, 0x46, 0xff}, 0},
		{Cividis, 0.5, color.NRGBA{0x7c, 0x7b, 0x78, 0xff}, 1},
	}
	for _, c := range cases {
		if got := c.cmap.At(c.t); !near(got, c.want, c.tol) {
			t.Errorf("%s.At(%v) = %s, want %s", c.cmap.Name(), c.t, hex(got), hex(c.want))
		}
	}
}

func TestColormapClamps(t *testing.T) {
	for _, c := range Colormaps() {
		lo, hi := c.At(0), c.At(1)
		for _, x := range []float64{-1, math.Inf(-1), math.NaN()} {
			if got := c.At(x); got != lo {
				t.Errorf("%s.At(%v) = %s, want At(0) = %s", c.Name(), x, hex(got), hex(lo))
			}
		}
		for _, x := range []float64{1.5, math.Inf(1)} {
			if got := c.At(x); got != hi {
				t.Errorf("%s.At(%v) = %s, want At(1) = %s", c.Name(), x, hex(got), hex(hi))
			}
		}
	}
	var zero Colormap
	if zero.At(0.3) != Viridis.At(0.3) || zero.Name() != "viridis" {
		t.Error("the zero Colormap is not Viridis")
	}
}

// Both maps get lighter all the way up; a mistyped table entry would show
// as a dip. 8-bit rounding alone moves L* by well under 0.5.
func TestColormapLightnessRises(t *testing.T) {
	lstar := func(c color.NRGBA) float64 {
		lin := func(u uint8) float64 {
			v := float64(u) / 255
			if v <= 0.04045 {
				return v / 12.92
			}
			return math.Pow((v+0.055)/1.055, 2.4)
		}
		y := 0.2126*lin(c.R) + 0.7152*lin(c.G) + 0.0722*lin(c.B)
		if y <= 216.0/24389 {
			return y * 24389 / 27
		}
		return 116*math.Cbrt(y) - 16
	}
	for _, c := range Colormaps() {
		prev := lstar(c.At(0))
		for k := 1; k < 256; k++ {
			l := lstar(c.At(float64(k) / 255))
			if l < prev-0.5 {
				t.Errorf("%s: lightness drops from %.2f to %.2f at entry %d", c.Name(), prev, l, k)
			}
			prev = l
		}
	}
}

func TestColormapInterpolates(t *testing.T) {
	// Halfway between two entries lies halfway between their colours.
	a, b := Viridis.At(100.0/255), Viridis.At(101.0/255)
	mid := Viridis.At(100.5 / 255)
	for _, ch := range [][3]uint8{{a.R, b.R, mid.R}, {a.G, b.G, mid.G}, {a.B, b.B, mid.B}} {
		lo, hi := min(ch[0], ch[1]), max(ch[0], ch[1])
		if ch[2] < lo || ch[2] > hi {
			t.Errorf("At(100.5/255) = %s is not between %s and %s", hex(mid), hex(a), hex(b))
		}
	}
}

func TestColormapByName(t *testing.T) {
	for _, c := range Colormaps() {
		got, ok := ColormapByName(c.Name())
		if !ok || got.Name() != c.Name() {
			t.Errorf("ColormapByName(%q) = %v, %v", c.Name(), got.Name(), ok)
		}
	}
	if _, ok := ColormapByName("jet"); ok {
		t.Error(`ColormapByName("jet") found a map`)
	}
}

func TestLegend(t *testing.T) {
	img := Legend(Cividis, 50, 4)
	if got := img.Bounds().Size(); got.X != 50 || got.Y != 4 {
		t.Fatalf("size %v, want 50x4", got)
	}
	for y := range 4 {
		if got := img.NRGBAAt(0, y); got != Cividis.At(0) {
			t.Errorf("left edge row %d = %s, want %s", y, hex(got), hex(Cividis.At(0)))
		}
		if got := img.NRGBAAt(49, y); got != Cividis.At(1) {
			t.Errorf("right edge row %d = %s, want %s", y, hex(got), hex(Cividis.At(1)))
		}
	}
	for _, s := range [][2]int{{0, 4}, {10, 0}, {-1, -1}} {
		if got := Legend(Viridis, s[0], s[1]); !got.Bounds().Empty() {
			t.Errorf("Legend(%d, %d) is %v, want empty", s[0], s[1], got.Bounds())
		}
	}
}
