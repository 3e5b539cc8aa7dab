package viz

import (
	"bytes"
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// LengthBucket is a range of source lengths, in words, and how many
// sentences of a test set fall in it.
type LengthBucket struct {
	Lo, Hi int // Hi 0: no upper end
	N      int
}

// Label names the bucket: "6-10", or "31+".
func (b LengthBucket) Label() string {
	if b.Hi == 0 {
		return fmt.Sprintf("%d+", b.Lo)
	}
	return fmt.Sprintf("%d-%d", b.Lo, b.Hi)
}

// LengthSeries is one model's score in each bucket.
type LengthSeries struct {
	Name  string
	Score []float64
}

// LengthFigure draws the figure of Bahdanau et al. (2015, Fig. 2): a score
// (BLEU) against source length, one line per model, each bucket's size in
// its axis label. mark > 0 draws a dashed line at that length (the
// sentence on screen). format is "png" or "svg"; the figure is w x h
// points (72 a inch).
func LengthFigure(buckets []LengthBucket, series []LengthSeries, mark int, w, h float64, format string) ([]byte, error) {
	if len(buckets) < 2 {
		return nil, inputErr("%d length buckets: need at least 2", len(buckets))
	}
	for _, s := range series {
		if len(s.Score) != len(buckets) {
			return nil, inputErr("%s: %d scores for %d buckets", s.Name, len(s.Score), len(buckets))
		}
	}
	p := plot.New()
	p.Title.Text = "BLEU by source length"
	p.X.Label.Text = "source sentence length (words); sentences in each bucket"
	p.Y.Label.Text = "BLEU"
	p.Y.Min = 0
	labels := make([]string, len(buckets))
	for i, b := range buckets {
		labels[i] = fmt.Sprintf("%s\n(%d)", b.Label(), b.N)
	}
	p.NominalX(labels...)
	colours := []color.Color{Viridis.At(0.15), Viridis.At(0.7), Cividis.At(0.5)}
	for k, s := range series {
		pts := make(plotter.XYs, len(s.Score))
		for i, v := range s.Score {
			pts[i].X, pts[i].Y = float64(i), v
			p.Y.Max = max(p.Y.Max, v*1.1)
		}
		line, dots, err := plotter.NewLinePoints(pts)
		if err != nil {
			return nil, err
		}
		c := colours[k%len(colours)]
		line.Color, line.Width = c, vg.Points(2.5)
		dots.Color, dots.Shape, dots.Radius = c, draw.CircleGlyph{}, vg.Points(4)
		if k%2 == 1 {
			line.Dashes = []vg.Length{vg.Points(6), vg.Points(3)}
			dots.Shape = draw.BoxGlyph{}
		}
		p.Add(line, dots)
		p.Legend.Add(s.Name, line, dots)
	}
	p.Legend.Top = false
	p.Legend.Left = true
	if i := Bucket(buckets, mark); mark > 0 && i >= 0 {
		x := float64(i)
		m, err := plotter.NewLine(plotter.XYs{{X: x, Y: 0}, {X: x, Y: p.Y.Max}})
		if err != nil {
			return nil, err
		}
		m.Color, m.Dashes, m.Width = color.Gray{Y: 90}, []vg.Length{vg.Points(2), vg.Points(2)}, vg.Points(1.5)
		p.Add(m)
		p.Legend.Add(fmt.Sprintf("this sentence (%d words)", mark), m)
	}
	var canvas vg.CanvasWriterTo
	switch format {
	case "png":
		canvas = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(vg.Length(w), vg.Length(h)), vgimg.UseDPI(144))}
	case "svg":
		canvas = vgsvg.New(vg.Length(w), vg.Length(h))
	default:
		return nil, inputErr("format %q: png or svg", format)
	}
	p.Draw(draw.New(canvas))
	var buf bytes.Buffer
	if _, err := canvas.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Bucket returns the index of the bucket holding a source of n words, or
// -1.
func Bucket(buckets []LengthBucket, n int) int {
	for i, b := range buckets {
		if n >= b.Lo && (b.Hi == 0 || n <= b.Hi) {
			return i
		}
	}
	return -1
}
