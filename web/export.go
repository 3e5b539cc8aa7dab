package web

import (
	"bytes"
	"image"
	"image/gif"
	"image/png"
	"io"
	"net/http"
	"strconv"

	"github.com/disintegration/imaging"
	"github.com/labstack/echo/v4"

	"attention/model"
	"attention/viz"
)

// Export sizes.
const (
	alignCell  = 28  // one cell of the exported alignment grid, pixels
	legendH    = 14  // the colour bar under it
	animDelay  = 90  // hundredths of a second a word
	exportsMax = 100 // words an export draws at most (a forced run may be long)
)

// colormap is the export's colour map: ?colormap=viridis (the default) or
// cividis, which reads the same to every kind of colour vision.
func colormap(c echo.Context) (viz.Colormap, *Error) {
	name := c.QueryParam("colormap")
	if name == "" {
		return viz.Viridis, nil
	}
	m, ok := viz.ColormapByName(name)
	if !ok {
		return viz.Colormap{}, Errorf(EInvalid, "unknown colormap %q: choose viridis or cividis", clip(name, 20))
	}
	return m, nil
}

// attachment sends data as a download named name.
func attachment(c echo.Context, name, ctype string, data []byte) error {
	c.Response().Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	return c.Blob(http.StatusOK, ctype, data)
}

// alignment is POST /api/v1/translate/alignment?format=png|svg: the
// translation's attention grid as a picture, for slides and papers. The
// body is a translate request; the grid is the decode's.
func (s *Server) alignment(c echo.Context) error {
	format := c.QueryParam("format")
	if format == "" {
		format = "png"
	}
	if format != "png" && format != "svg" {
		return Errorf(EInvalid, "unknown format %q: choose png or svg", clip(format, 20))
	}
	cmap, e := colormap(c)
	if e != nil {
		return e
	}
	resp, err := s.translateHTTP(c)
	if err != nil {
		return err
	}
	if len(resp.Steps) == 0 {
		return Errorf(EInvalid, "the translation has no words to draw")
	}
	src, tgt, att := resp.Source.Tokens, resp.TargetTokens, resp.Attention
	if len(tgt) > exportsMax {
		tgt, att = tgt[:exportsMax], att[:exportsMax]
	}
	if format == "svg" {
		svg, err := viz.AlignmentSVG(src, tgt, att, alignCell, cmap)
		if err != nil {
			return err
		}
		return attachment(c, "alignment.svg", "image/svg+xml", svg)
	}
	grid, err := viz.Alignment(src, tgt, att, alignCell, cmap)
	if err != nil {
		return err
	}
	// The colour bar under the grid: 0 at the left, 1 at the right.
	b := grid.Bounds()
	img := imaging.New(b.Dx(), b.Dy()+legendH+8, image.White.C)
	img = imaging.Paste(img, grid, image.Point{})
	img = imaging.Paste(img, viz.Legend(cmap, b.Dx()-16, legendH), image.Pt(8, b.Dy()))
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return err
	}
	return attachment(c, "alignment.png", "image/png", buf.Bytes())
}

// captionPicture captions an upload for a picture of it: the crop, the
// grid, the words as a picture writes them and their attention (the first
// exportsMax).
func (s *Server) captionPicture(c echo.Context) (*prepared, model.Source, []string, [][]float32, error) {
	pp, resp, err := s.captionHTTP(c)
	if err != nil {
		return nil, model.Source{}, nil, nil, err
	}
	if len(resp.Steps) == 0 {
		return nil, model.Source{}, nil, nil, Errorf(EInvalid, "the caption has no words to draw")
	}
	words, att := make([]string, 0, len(resp.Steps)), resp.Attention
	for _, st := range resp.Steps {
		words = append(words, shownWord(st.Token, st.Unknown && !st.Copied))
	}
	if len(words) > exportsMax {
		words, att = words[:exportsMax], att[:exportsMax]
	}
	return pp, resp.Source, words, att, nil
}

// captionAnimation is POST /api/v1/caption/animation: the caption written
// word by word over the photo, each word's attention as a heat layer, as
// an animated GIF. The body is a caption upload.
func (s *Server) captionAnimation(c echo.Context) error {
	return s.captionExport(c, "caption-attention.gif", "image/gif", func(crop image.Image, src model.Source, words []string, att [][]float32, cmap viz.Colormap, w io.Writer) error {
		g, err := viz.Animation(crop, words, att, src.Rows, src.Cols, animDelay, cmap)
		if err != nil {
			return err
		}
		return gif.EncodeAll(w, g)
	})
}

// captionExport captions an upload and sends what draw writes of it as a
// download named name.
func (s *Server) captionExport(c echo.Context, name, ctype string, draw func(crop image.Image, src model.Source, words []string, att [][]float32, cmap viz.Colormap, w io.Writer) error) error {
	cmap, e := colormap(c)
	if e != nil {
		return e
	}
	pp, src, words, att, err := s.captionPicture(c)
	if err != nil {
		return err
	}
	// Exports are drawn at displaySize whatever the photo's size, so that
	// the words written under the picture stay legible.
	crop := pp.crop
	if b := crop.Bounds(); b.Dx() != displaySize {
		crop = imaging.Resize(crop, displaySize, displaySize, imaging.Lanczos)
	}
	var buf bytes.Buffer
	if err := draw(crop, src, words, att, cmap, &buf); err != nil {
		return err
	}
	return attachment(c, name, ctype, buf.Bytes())
}

// lengthFigure is GET /api/v1/figures/length/ID?mark=N&format=svg|png:
// model ID's BLEU by source length beside its baseline's (the analogue of
// Bahdanau et al.'s Fig. 2), with a line at length N (the sentence on
// screen) when N > 0.
func (s *Server) lengthFigure(c echo.Context) error {
	id := c.Param("model")
	b, ok := s.byLength[id]
	if !ok {
		return Errorf(ENotFound, "no scores by length for %q: measure them with cmd/eval -by-length -record", clip(id, 40))
	}
	mark := 0
	if v := c.QueryParam("mark"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 1000 {
			return Errorf(EInvalid, "mark must be a sentence length in words")
		}
		mark = n
	}
	format := c.QueryParam("format")
	if format == "" {
		format = "svg"
	}
	if format != "svg" && format != "png" {
		return Errorf(EInvalid, "unknown format %q: choose svg or png", clip(format, 20))
	}
	buckets := make([]viz.LengthBucket, len(b.Buckets))
	for i, r := range b.Buckets {
		buckets[i] = viz.LengthBucket{Lo: r.Lo, Hi: r.Hi, N: r.N}
	}
	series := make([]viz.LengthSeries, len(b.Series))
	for i, x := range b.Series {
		series[i] = viz.LengthSeries{Name: x.Name, Score: x.BLEU}
	}
	data, err := viz.LengthFigure(buckets, series, mark, 560, 360, format)
	if err != nil {
		return err
	}
	ctype := "image/svg+xml"
	if format == "png" {
		ctype = "image/png"
	}
	return c.Blob(http.StatusOK, ctype, data)
}
