package viz

import (
	"bytes"
	"encoding/xml"
	"image/png"
	"strings"
	"testing"
)

func TestBucket(t *testing.T) {
	b := []LengthBucket{{Lo: 1, Hi: 5}, {Lo: 6, Hi: 10}, {Lo: 11}}
	for n, want := range map[int]int{0: -1, 1: 0, 5: 0, 6: 1, 10: 1, 11: 2, 80: 2} {
		if got := Bucket(b, n); got != want {
			t.Errorf("%d words: bucket %d, want %d", n, got, want)
		}
	}
	if b[2].Label() != "11+" || b[1].Label() != "6-10" {
		t.Errorf("labels %q %q", b[2].Label(), b[1].Label())
	}
}

func TestLengthFigure(t *testing.T) {
	b := []LengthBucket{{Lo: 1, Hi: 10, N: 900}, {Lo: 11, Hi: 20, N: 500}, {Lo: 21, N: 40}}
	s := []LengthSeries{{Name: "with attention", Score: []float64{36, 33, 30}}, {Name: "without attention", Score: []float64{30, 24, 15}}}
	pngData, err := LengthFigure(b, s, 14, 480, 320, "png")
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(pngData))
	if err != nil {
		t.Fatal(err)
	}
	if sz := img.Bounds().Size(); sz.X != 960 || sz.Y != 640 { // 480 x 320 points at 144 dpi
		t.Fatalf("png is %v, want 960x640", sz)
	}
	svg, err := LengthFigure(b, s, 14, 480, 320, "svg")
	if err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(svg, new(struct{})); err != nil {
		t.Fatalf("svg is not XML: %v", err)
	}
	for _, want := range []string{"with attention", "without attention", "this sentence (14 words)", "(900)", "21+"} {
		if !strings.Contains(string(svg), want) {
			t.Errorf("svg lacks %q", want)
		}
	}
	if _, err := LengthFigure(b, []LengthSeries{{Name: "x", Score: []float64{1}}}, 0, 480, 320, "png"); err == nil {
		t.Error("one score for three buckets: no error")
	}
}
