package viz

import (
	"bytes"
	"encoding/xml"
	"image"
	"image/gif"
	"strings"
	"testing"
)

func TestAlignmentSVG(t *testing.T) {
	src := []string{"A", "dog", "runs", "<b>&"}
	tgt := []string{"Ein", "Hund", "läuft"}
	w := [][]float32{{0.7, 0.1, 0.1, 0.1}, {0, 1, 0, 0}, {0.1, 0.1, 0.6, 0.2}}
	svg, err := AlignmentSVG(src, tgt, w, 20, Viridis)
	if err != nil {
		t.Fatal(err)
	}
	// Well-formed XML whose cells and labels are the grid's.
	var doc struct {
		Rects []struct {
			Fill  string `xml:"fill,attr"`
			Title string `xml:"title"`
		} `xml:"rect"`
		Texts []string `xml:"text"`
	}
	if err := xml.Unmarshal(svg, &doc); err != nil {
		t.Fatalf("not XML: %v\n%s", err, svg)
	}
	if got := len(doc.Rects); got != 1+len(src)*len(tgt) { // the background, then one a cell
		t.Fatalf("%d rects, want %d", got, 1+len(src)*len(tgt))
	}
	if got := strings.Join(doc.Texts, " "); got != "A dog runs <b>& Ein Hund läuft" {
		t.Fatalf("labels %q", got)
	}
	hund := doc.Rects[1+1*len(src)+1] // row "Hund", column "dog": weight 1
	if c := Viridis.At(1); hund.Fill != hex(c) || !strings.Contains(hund.Title, "Hund → dog: 1.000") {
		t.Fatalf("cell Hund/dog: %+v", hund)
	}
	if _, err := AlignmentSVG(src, tgt, w[:2], 20, Viridis); err == nil {
		t.Fatal("two rows of weights for three words: no error")
	}
}

func TestAnimation(t *testing.T) {
	words := []string{"a", "dog", "runs"}
	w := [][]float32{hotGrid(7, 7, 0, 0, 0.9), hotGrid(7, 7, 3, 3, 0.9), hotGrid(7, 7, 6, 6, 0.9)}
	g, err := Animation(testPhoto(140, 140), words, w, 7, 7, 80, Viridis)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := gif.EncodeAll(&buf, g); err != nil {
		t.Fatal(err)
	}
	back, err := gif.DecodeAll(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Image) != 3 || back.Delay[0] != 80 || back.Delay[2] != 240 {
		t.Fatalf("%d frames, delays %v", len(back.Image), back.Delay)
	}
	// Each frame's heat sits where its word looked: the hot corner of frame
	// 0 differs from frame 2's there.
	at := func(i int, p image.Point) [3]uint32 {
		r, g, b, _ := back.Image[i].At(p.X, p.Y).RGBA()
		return [3]uint32{r, g, b}
	}
	corner := image.Pt(5, 5)
	if at(0, corner) == at(2, corner) {
		t.Fatal("frames 0 and 2 look the same in the top-left region")
	}
	if b := back.Image[0].Bounds(); b.Dx() != 140 || b.Dy() <= 140 {
		t.Fatalf("frame %v: want the photo's width and room for the caption below", b)
	}
	if _, err := Animation(testPhoto(140, 140), words, w[:2], 7, 7, 80, Viridis); err == nil {
		t.Fatal("two maps for three words: no error")
	}
}

// BenchmarkAnimation448 draws a 15-word caption's animation over the
// page's 448x448 crop, as the download does.
func BenchmarkAnimation448(b *testing.B) {
	words := strings.Fields("a black and white dog is running through the grass with a ball in its mouth")
	w := make([][]float32, len(words))
	for i := range w {
		w[i] = hotGrid(7, 7, i%7, (i*3)%7, 0.6)
	}
	photo := testPhoto(448, 448)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Animation(photo, words, w, 7, 7, 80, Viridis); err != nil {
			b.Fatal(err)
		}
	}
}
