package web

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"attention/model"
	"attention/model/photo"
	"attention/viz"
)

// Sizes of the pictures the server sends with a caption.
const (
	displaySize = 448 // the largest square crop the page shows, twice the encoder's input; and the exports' size
	heatSize    = 112 // each word's heat layer; the page stretches it over the photo
	stripThumb  = 160 // one word's picture in the exported strip
)

// CaptionRequest is a caption request: the multipart form of
// POST /api/v1/caption (fields image, model, beam) or the payload of a
// websocket "caption" message, where the image is base64 (a data: URL
// is accepted too).
type CaptionRequest struct {
	ID    string `json:"id,omitempty"`
	Model string `json:"model,omitempty"`
	Beam  int    `json:"beam,omitempty"`
	Force []int  `json:"force,omitempty"` // as TranslateRequest.Force
	// Override as TranslateRequest.Override; in the form, a field
	// "override" holding its JSON.
	Override *model.Override `json:"override,omitempty"`
	Image    string          `json:"image"`

	photo *photoBuffer // the decoded file
	// inspect: the form's "inspect" field (JSON {"prefix", "weights"}),
	// for /api/v1/caption/inspect.
	inspect *InspectRequest
}

// captionSet holds the caption models. They may arrive after the server
// has started: the image encoder can be downloading in the background.
type captionSet struct {
	mu   sync.RWMutex
	list []model.Captioner
	off  string // why there are none, and what to do
	seg  model.Segmenter
}

func (cs *captionSet) get() ([]model.Captioner, string) {
	cs.mu.RLock()
	defer cs.mu.RUnlock()
	return cs.list, cs.off
}

// SetCaptioners replaces the caption models; with none, off says why and
// what to do (the caption page and API show it). Safe while serving.
func (s *Server) SetCaptioners(list []model.Captioner, off string) {
	if len(list) == 0 && off == "" {
		off = "this server has no caption model loaded"
	}
	if len(list) > 0 {
		off = ""
	}
	s.caps.mu.Lock()
	defer s.caps.mu.Unlock()
	s.caps.list, s.caps.off = append([]model.Captioner(nil), list...), off
}

// SetSegmenter turns on the "where is the object?" check: each caption
// word that names a PASCAL VOC class found in the photo comes with the
// object's outline and the attention on it. Safe while serving.
func (s *Server) SetSegmenter(seg model.Segmenter) {
	s.caps.mu.Lock()
	defer s.caps.mu.Unlock()
	s.caps.seg = seg
}

func (cs *captionSet) segmenter() model.Segmenter {
	cs.mu.RLock()
	defer cs.mu.RUnlock()
	return cs.seg
}

// captioner picks the model a caption request asks for; "" means the first.
func (s *Server) captioner(id string) (model.Captioner, *Error) {
	list, off := s.caps.get()
	if len(list) == 0 {
		return nil, Errorf(EUnavailable, "%s", off)
	}
	if id == "" {
		return list[0], nil
	}
	var ids []string
	for _, c := range list {
		if c.Info().ID == id {
			return c, nil
		}
		ids = append(ids, c.Info().ID)
	}
	return nil, Errorf(ENotFound, "unknown caption model %q: choose one of %s", clip(id, 40), strings.Join(ids, ", "))
}

// captionFields checks what a caption request says besides its photo:
// done before the photo is read when the fields come first.
func (s *Server) captionFields(req *CaptionRequest) (model.Captioner, *Error) {
	c, e := s.captioner(req.Model)
	if e != nil {
		return nil, e
	}
	if req.Beam < 0 || req.Beam > model.MaxBeam {
		return nil, Errorf(EInvalid, "beam must be between 1 and %d", model.MaxBeam)
	}
	if e := checkForce(req.Force); e != nil {
		return nil, e
	}
	if e := checkOverride(req.Override); e != nil {
		return nil, e
	}
	return c, nil
}

// checkCaption validates what can be checked without decoding pixels.
func (s *Server) checkCaption(req *CaptionRequest) (model.Captioner, *Error) {
	c, e := s.captionFields(req)
	if e != nil {
		return nil, e
	}
	if req.photo.Len() == 0 {
		return nil, Errorf(EInvalid, "no image: attach a JPEG, PNG, GIF or WebP photo")
	}
	return c, nil
}

// photoError maps an image decoding error to what the user is told.
func photoError(err error) *Error {
	switch {
	case errors.Is(err, photo.ErrEmpty):
		return Errorf(EInvalid, "the image file is empty")
	case errors.Is(err, photo.ErrTooLarge), errors.Is(err, photo.ErrTooBig):
		return Errorf(ETooLarge, "%s", err.Error())
	case errors.Is(err, photo.ErrNotImage):
		return Errorf(EUnsupported, "%s", err.Error())
	case errors.Is(err, photo.ErrCorrupt), errors.Is(err, photo.ErrNoPixels):
		return Errorf(EInvalid, "%s", err.Error())
	}
	return Errorf(EInvalid, "the image could not be read")
}

// prepared is a source encoded and ready to decode; for a photo, with the
// square crop the model saw (nil for text) and that crop as a data: URL.
type prepared struct {
	p       model.Prepared
	crop    image.Image // the square the page shows (at most displaySize)
	cropURL string
	objects *objectMap // what the segmenter found in the crop; nil without one
}

// objectMap is a photo's class map, with each class's outline made once.
type objectMap struct {
	classes  []uint8
	w, h     int
	outlines map[uint8]string
}

// ObjectLook is where a word's attention fell on the object it names: the
// live attention-correctness readout of the "where is the object?" check.
type ObjectLook struct {
	Class string  `json:"class"` // the PASCAL VOC class the word names
	Mass  float64 `json:"mass"`  // share of the word's attention on the object's pixels
	Area  float64 `json:"area"`  // the object's share of the photo: what uniform attention would put there
	// Outline is the object's border as a transparent PNG (data: URL) to
	// lay over the photo.
	Outline string `json:"outline"`
}

// outlineSize is the side of an outline layer; the page stretches it.
const outlineSize = 224

// look is the object a step's word names, where the photo shows it; nil
// when it names none, or after a fault drawing its outline (logged to log).
func (om *objectMap) look(st model.Step, src model.Source, log *slog.Logger) *ObjectLook {
	if om == nil || src.Kind != "image" {
		return nil
	}
	class, shares, area, ok := model.NamedObject(st.Token, om.classes, om.w, om.h, src.Rows, src.Cols)
	if !ok || len(st.Attention) != len(shares) {
		return nil
	}
	id := uint8(model.ObjectClassID(class))
	url, ok := om.outlines[id]
	if !ok {
		img, err := viz.Outline(om.classes, om.w, om.h, id, outlineSize, outlineSize)
		if err == nil {
			url, err = dataURL(img, true)
		}
		if err != nil {
			log.Error("drawing an object's outline", "class", class, "err", err)
			return nil
		}
		om.outlines[id] = url
	}
	l := model.LookAt(st.Attention, shares, area)
	return &ObjectLook{Class: class, Mass: l.Mass, Area: l.Area, Outline: url}
}

// preparePhoto decodes, crops and encodes. It is the expensive part of a
// caption, so callers hold a decode slot while it runs. The crop for the
// page is made and compressed on another goroutine while the encoder
// runs: on a machine with a core to spare, the first word comes sooner.
func (s *Server) preparePhoto(c model.Captioner, file *photoBuffer) (*prepared, *Error) {
	data := file.Bytes()
	file.release() // decoded below; the photo memory is free for the next one
	seg := s.caps.segmenter()
	img, _, err := photo.Decode(bytes.NewReader(data), s.image)
	if err != nil {
		return nil, photoError(err)
	}
	pp := &prepared{}
	// The crop the encoder sees, made once here for the segmenter too:
	// Prepare takes a photo of its crop size as it is.
	input := photo.Square(img, c.CropSize())
	// The crop the page shows: the centre square at the photo's own
	// resolution, at most displaySize. A smaller photo is not enlarged
	// (the page scales it; enlarging adds bytes, not detail): a photo as
	// small as the encoder's input is shown as the encoder saw it.
	side := min(img.Bounds().Dx(), img.Bounds().Dy(), displaySize)
	done := make(chan error, 1)
	go func() {
		crop := image.Image(input)
		if side != c.CropSize() {
			crop = photo.Square(img, side)
		}
		url, err := dataURL(crop, false)
		pp.crop, pp.cropURL = crop, url
		done <- err
	}()
	segDone := make(chan *objectMap, 1)
	if seg != nil {
		go func() {
			classes, w, h, err := seg.Segment(input)
			if err != nil { // a fault: the caption goes on without the check
				s.log.Error("segmenting a photo", "err", err)
				segDone <- nil
				return
			}
			segDone <- &objectMap{classes: classes, w: w, h: h, outlines: map[uint8]string{}}
		}()
	} else {
		segDone <- nil
	}
	p, err := c.Prepare(input)
	pp.objects = <-segDone
	if cropErr := <-done; cropErr != nil {
		s.log.Error("compressing a photo's crop for the page", "err", cropErr)
		return nil, Errorf(EInternal, "the photo could not be compressed for the page; it has been logged")
	}
	if err != nil { // the encoder and decoder disagree on the grid: a deployment fault
		s.log.Error("preparing a caption", "model", c.Info().ID, "err", err)
		return nil, Errorf(EInternal, "the image encoder does not fit this caption model; it has been logged")
	}
	pp.p = p
	return pp, nil
}

// readUpload reads a multipart caption request without touching the disk:
// the image part is held in memory, bounded by the image limit and the
// server's photo memory. Unless the error is not nil, the caller calls
// release when it is done with the photo.
func (s *Server) readUpload(c echo.Context) (req *CaptionRequest, release func(), _ *Error) {
	r := c.Request()
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		return nil, nil, Errorf(EUnsupported, "send the photo as multipart/form-data in a field named \"image\"")
	}
	if e := checkEncoding(r); e != nil {
		return nil, nil, e
	}
	r.Body = http.MaxBytesReader(c.Response(), r.Body, s.image.MaxBytes+64<<10)
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, nil, Errorf(EInvalid, "malformed multipart body")
	}
	pb := &photoBuffer{limit: s.image.MaxBytes, mem: s.photoMem}
	req, e := readParts(mr, pb)
	if e != nil {
		pb.release()
		return nil, nil, e
	}
	// Read to the end of the body, so that the server notices (and
	// cancels the request's context) when the client hangs up.
	io.Copy(io.Discard, io.LimitReader(r.Body, 64<<10))
	return req, pb.release, nil
}

func readParts(mr *multipart.Reader, pb *photoBuffer) (*CaptionRequest, *Error) {
	req := &CaptionRequest{}
	seenImage := false
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, uploadError(err)
		}
		switch part.FormName() {
		case "image":
			if seenImage {
				return nil, Errorf(EInvalid, "send one image per request")
			}
			seenImage = true
			_, err := io.Copy(pb, part)
			switch {
			case pb.tooBig:
				return nil, Errorf(ETooLarge, "the image file is over %d MB", pb.limit>>20)
			case pb.noSpace:
				return nil, Errorf(EBusy, "the server is holding as many photos as it can; try again in a moment")
			case err != nil:
				return nil, uploadError(err)
			}
			req.photo = pb
		case "model", "beam":
			v, err := io.ReadAll(io.LimitReader(part, 65))
			if err != nil {
				return nil, uploadError(err)
			}
			if len(v) > 64 {
				return nil, Errorf(EInvalid, "the %s field is too long", part.FormName())
			}
			if part.FormName() == "model" {
				req.Model = string(v)
			} else if req.Beam, err = strconv.Atoi(strings.TrimSpace(string(v))); err != nil {
				return nil, Errorf(EInvalid, "beam must be a whole number between 1 and %d", model.MaxBeam)
			}
		case "inspect": // JSON {"prefix", "weights"} (see InspectRequest)
			v, err := io.ReadAll(io.LimitReader(part, MaxBodyBytes+1))
			if err != nil {
				return nil, uploadError(err)
			}
			if len(v) > MaxBodyBytes {
				return nil, Errorf(EInvalid, "the inspect field is too long")
			}
			req.inspect = &InspectRequest{}
			if err := json.Unmarshal(v, req.inspect); err != nil {
				return nil, Errorf(EInvalid, "inspect: send {\"prefix\": [ids], \"weights\": [...]} as JSON")
			}
		case "override": // JSON (see TranslateRequest.Override)
			v, err := io.ReadAll(io.LimitReader(part, MaxBodyBytes+1))
			if err != nil {
				return nil, uploadError(err)
			}
			if len(v) > MaxBodyBytes {
				return nil, Errorf(EInvalid, "the override field is too long")
			}
			if err := json.Unmarshal(v, &req.Override); err != nil {
				return nil, Errorf(EInvalid, "override: send {\"step\": N, \"weights\": [...]} as JSON")
			}
		case "force": // ids, comma-separated (see TranslateRequest.Force)
			v, err := io.ReadAll(io.LimitReader(part, 2049))
			if err != nil {
				return nil, uploadError(err)
			}
			if len(v) > 2048 {
				return nil, Errorf(EInvalid, "the force field is too long")
			}
			for _, f := range strings.Split(string(v), ",") {
				if f = strings.TrimSpace(f); f == "" {
					continue
				}
				id, err := strconv.Atoi(f)
				if err != nil {
					return nil, Errorf(EInvalid, "force: %q is not a word id; send ids separated by commas", clip(f, 20))
				}
				req.Force = append(req.Force, id)
			}
		default:
			return nil, Errorf(EInvalid, "unknown form field %q: send image, and optionally model, beam and force", clip(part.FormName(), 40))
		}
	}
	if !seenImage {
		return nil, Errorf(EInvalid, "no image: attach a JPEG, PNG, GIF or WebP photo in a field named \"image\"")
	}
	return req, nil
}

func uploadError(err error) *Error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return Errorf(ETooLarge, "the upload is over %d MB", mbe.Limit>>20)
	}
	return Errorf(EInvalid, "the upload was cut short or is not valid multipart data")
}

// readCaption reads and checks a caption upload, after the client's rate
// limit. Unless the error is not nil, the caller calls release when it is
// done with the photo.
func (s *Server) readCaption(c echo.Context) (*CaptionRequest, model.Captioner, func(), *Error) {
	if !s.perAddr.allow(c.Request().RemoteAddr, time.Now()) {
		return nil, nil, nil, Errorf(ERateLimited, "too many requests from your address; wait a moment")
	}
	req, release, e := s.readUpload(c)
	if e != nil {
		return nil, nil, nil, e
	}
	capt, e := s.checkCaption(req)
	if e != nil {
		release()
		return nil, nil, nil, e
	}
	return req, capt, release, nil
}

// captionHTTP runs a whole caption for the HTTP endpoints.
func (s *Server) captionHTTP(c echo.Context) (*prepared, *DecodeResponse, error) {
	req, capt, release, e := s.readCaption(c)
	if e != nil {
		return nil, nil, e
	}
	defer release()
	ctx, done, e := s.httpSlot(c)
	if e != nil {
		return nil, nil, e
	}
	defer done()
	start := time.Now()
	pp, e := s.preparePhoto(capt, req.photo)
	if e != nil {
		return nil, nil, e
	}
	resp, err := collect(ctx, capt.Info(), pp.p, model.Options{Beam: req.Beam, Force: req.Force, Override: req.Override}, start)
	return pp, resp, err
}

// captionInspect is POST /api/v1/caption/inspect: one step of the caption
// of the uploaded photo, in numbers; the form's "inspect" field holds the
// InspectRequest's prefix and weights.
func (s *Server) captionInspect(c echo.Context) error {
	req, capt, release, e := s.readCaption(c)
	if e != nil {
		return e
	}
	defer release()
	if req.inspect == nil {
		return Errorf(EInvalid, "no step to open: send a field \"inspect\" holding {\"prefix\": [ids], \"weights\": [...]}")
	}
	_, done, e := s.httpSlot(c)
	if e != nil {
		return e
	}
	defer done()
	pp, e := s.preparePhoto(capt, req.photo)
	if e != nil {
		return e
	}
	g, e := s.inspect(pp.p, *req.inspect)
	if e != nil {
		return e
	}
	return c.JSON(http.StatusOK, map[string]any{"model": capt.Info().ID, "source": pp.p.Source(), "glass": g})
}

// caption is POST /api/v1/caption.
func (s *Server) caption(c echo.Context) error {
	pp, resp, err := s.captionHTTP(c)
	if err != nil {
		return err
	}
	resp.Image = pp.cropURL
	for _, st := range resp.Steps {
		resp.Heat = append(resp.Heat, s.heatLayer(st, resp.Source))
		if pp.objects != nil {
			resp.Objects = append(resp.Objects, pp.objects.look(st, resp.Source, s.log))
		}
	}
	return c.JSON(http.StatusOK, resp)
}

// captionStrip is POST /api/v1/caption/strip: the caption as one PNG, a
// small heatmap per word, like the figures in the Show, Attend and Tell paper.
func (s *Server) captionStrip(c echo.Context) error {
	return s.captionExport(c, "caption-attention.png", "image/png", func(crop image.Image, src model.Source, words []string, att [][]float32, cmap viz.Colormap, w io.Writer) error {
		img, err := viz.Strip(crop, words, att, src.Rows, src.Cols, stripThumb, cmap)
		if err != nil {
			return err
		}
		return png.Encode(w, img)
	})
}

// shownWord is a caption word as a picture writes it: never the raw
// unknown-word token.
func shownWord(token string, unknown bool) string {
	if unknown {
		return "(unknown word)"
	}
	return token
}

// dataURL encodes an image for a JSON message.
func dataURL(img image.Image, asPNG bool) (string, error) {
	if n, ok := img.(*image.NRGBA); ok && !asPNG && n.Opaque() {
		// Opaque, so the same bytes are an RGBA image, for which
		// image/jpeg has a fast path (about 1.8x faster at 448x448).
		img = &image.RGBA{Pix: n.Pix, Stride: n.Stride, Rect: n.Rect}
	}
	var buf bytes.Buffer
	prefix := "data:image/jpeg;base64,"
	var err error
	if asPNG {
		prefix = "data:image/png;base64,"
		err = fastPNG.Encode(&buf, img)
	} else {
		err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85})
	}
	if err != nil {
		return "", err
	}
	return prefix + base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

// fastPNG encodes the images sent inside messages (a heat layer for every
// caption word): the quickest compression, and the encoder's buffers kept
// between images (a new one allocates 1.2 MB, most of an encode's time).
var fastPNG = png.Encoder{CompressionLevel: png.BestSpeed, BufferPool: &pngBuffers{}}

// pngBuffers lets concurrent encodes reuse png's buffers.
type pngBuffers struct{ pool sync.Pool }

func (b *pngBuffers) Get() *png.EncoderBuffer {
	e, _ := b.pool.Get().(*png.EncoderBuffer)
	return e
}

func (b *pngBuffers) Put(e *png.EncoderBuffer) { b.pool.Put(e) }

// heatLayer is one word's attention as a transparent colour layer; "" (the
// page then shows the word without it) after a fault, which is logged.
func (s *Server) heatLayer(st model.Step, src model.Source) string {
	img, err := viz.HeatLayerPaletted(st.Attention, src.Rows, src.Cols, heatSize, heatSize, viz.Viridis)
	var u string
	if err == nil {
		u, err = dataURL(img, true)
	}
	if err != nil {
		s.log.Error("drawing a word's heat layer", "word", st.Index, "err", err)
		return ""
	}
	return u
}
