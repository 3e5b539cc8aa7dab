package web

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"attention/model"
	"attention/model/vocab"
)

func (s *Server) listModels(c echo.Context) error {
	caps, off := s.caps.get()
	infos := make([]model.Info, 0, len(s.order)+len(caps))
	for _, id := range s.order {
		infos = append(infos, s.translators[id].Info())
	}
	for _, m := range caps {
		infos = append(infos, m.Info())
	}
	resp := map[string]any{"models": infos}
	if off != "" {
		resp["caption_unavailable"] = off
	}
	return c.JSON(http.StatusOK, resp)
}

// WordsResponse is a model's output vocabulary: Words[id] is the word
// with that id, the ids a decode's "force" takes.
type WordsResponse struct {
	Model string   `json:"model"`
	Words []string `json:"words"`
}

// modelWords is GET /api/v1/models/:model/words: the words a model can
// write, for forcing a word typed by hand.
func (s *Server) modelWords(c echo.Context) error {
	id := c.Param("model")
	var m any
	if t, ok := s.translators[id]; ok {
		m = t
	} else if cm, e := s.captioner(id); e == nil {
		m = cm
	} else {
		return Errorf(ENotFound, "unknown model %q", clip(id, 40))
	}
	v, ok := m.(model.Vocabulary)
	if !ok {
		return Errorf(EUnsupported, "model %q cannot list its words", clip(id, 40))
	}
	// The same for as long as the server runs; a restart may load others.
	c.Response().Header().Set("Cache-Control", "private, max-age=3600")
	return c.JSON(http.StatusOK, WordsResponse{Model: id, Words: v.OutputWords()})
}

// TranslateRequest is the body of POST /api/v1/translate and the payload of
// a websocket "translate" message.
type TranslateRequest struct {
	ID    string `json:"id,omitempty"`
	Text  string `json:"text"`
	Model string `json:"model"`
	Beam  int    `json:"beam,omitempty"`
	// Force imposes the first words, by vocabulary id (a step's token_id,
	// or an alternative's id): "what if the model had written this?"
	Force []int `json:"force,omitempty"`
	// Override sets the attention of one step by hand: "what if the model
	// had looked there?"
	Override *model.Override `json:"override,omitempty"`
}

// InspectRequest opens one step of a decode: the decoder is fed Prefix
// (the ids of the words before the step) and the step is returned in
// numbers, its attention set to Weights when given. Over HTTP it names
// its source (Text and Model); over the websocket, Of names the request
// on the same connection whose source it opens.
type InspectRequest struct {
	ID      string    `json:"id,omitempty"`
	Of      string    `json:"of,omitempty"`
	Text    string    `json:"text,omitempty"`
	Model   string    `json:"model,omitempty"`
	Prefix  []int     `json:"prefix"`
	Weights []float32 `json:"weights,omitempty"`
}

// maxWeights bounds the hand-set weights a request may carry (a source
// has at most this many positions).
const maxWeights = 1024

// checkOverride checks hand-set attention as far as the server can
// without the model (which checks the weights against the source).
func checkOverride(o *model.Override) *Error {
	if o == nil {
		return nil
	}
	if o.Step < 0 || o.Step > MaxForce {
		return Errorf(EInvalid, "override: step must be between 0 and %d", MaxForce)
	}
	if len(o.Weights) == 0 || len(o.Weights) > maxWeights {
		return Errorf(EInvalid, "override: give one weight per source position (at most %d)", maxWeights)
	}
	return nil
}

// glassTopK is how many words an inspected step lists.
const glassTopK = 8

// inspect runs one inspect on p, answering with a user's error for bad
// input and logging a fault.
func (s *Server) inspect(p model.Prepared, req InspectRequest) (*model.Glass, *Error) {
	in, ok := p.(model.Inspector)
	if !ok {
		return nil, Errorf(EUnsupported, "this model's steps cannot be opened")
	}
	if len(req.Prefix) > MaxForce {
		return nil, Errorf(EInvalid, "prefix: at most %d words", MaxForce)
	}
	if len(req.Weights) > maxWeights {
		return nil, Errorf(EInvalid, "weights: at most %d", maxWeights)
	}
	g, err := in.Inspect(req.Prefix, req.Weights, glassTopK)
	switch {
	case errors.Is(err, model.ErrInputTooLong):
		return nil, Errorf(ETooLarge, "%s", err)
	case errors.Is(err, model.ErrInvalidInput):
		return nil, Errorf(EInvalid, "%s", err)
	case err != nil:
		s.log.Error("inspecting a step", "err", err)
		return nil, Errorf(EInternal, "something went wrong on the server; it has been logged")
	}
	return g, nil
}

// MaxForce bounds a request's forced words.
const MaxForce = 100

func checkForce(force []int) *Error {
	if len(force) > MaxForce {
		return Errorf(EInvalid, "force: at most %d words", MaxForce)
	}
	return nil
}

// decodeError is what a user sees when a decode stops on bad input (a
// forced id that is no word), or nil for anything else.
func decodeError(err error) *Error {
	if errors.Is(err, model.ErrInvalidInput) {
		return Errorf(EInvalid, "%s", err)
	}
	return nil
}

// DecodeResponse is the collected stream of one translation or caption.
type DecodeResponse struct {
	Model        string       `json:"model"`
	Source       model.Source `json:"source"`
	TargetTokens []string     `json:"target_tokens"`
	Text         string       `json:"text"`
	Attention    [][]float32  `json:"attention"`
	Steps        []model.Step `json:"steps"`
	ElapsedMS    int64        `json:"elapsed_ms"`
	// Captions only, as the stream sends them: the square crop the model
	// saw, and one heat layer per step (data: URLs).
	Image string   `json:"image,omitempty"`
	Heat  []string `json:"heat,omitempty"`
	// With a segmenter: per step, the object its word names, or null.
	Objects []*ObjectLook `json:"objects,omitempty"`
	// With a beam wider than 1: the search tree, level by level.
	Tree []model.TreeLevel `json:"tree,omitempty"`
}

// check validates a request; what needs the model is left to prepare.
func (s *Server) check(req TranslateRequest) (model.Translator, *Error) {
	t, ok := s.translators[req.Model]
	if !ok {
		if req.Model == "" {
			return nil, Errorf(EInvalid, "no model chosen: set \"model\" to one of %s", strings.Join(s.order, ", "))
		}
		return nil, Errorf(ENotFound, "unknown model %q: choose one of %s", clip(req.Model, 40), strings.Join(s.order, ", "))
	}
	if !utf8.ValidString(req.Text) {
		return nil, Errorf(EInvalid, "the text is not valid UTF-8")
	}
	if strings.TrimSpace(req.Text) == "" {
		return nil, Errorf(EInvalid, "the text is empty: type a sentence to translate")
	}
	if n := utf8.RuneCountInString(req.Text); n > MaxTextChars {
		return nil, Errorf(ETooLarge, "the text is %d characters long; the limit is %d characters", n, MaxTextChars)
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
	return t, nil
}

// prepareText tokenises and encodes: the encoder is as costly as a few
// decoding steps, so callers hold a decode slot while it runs.
func (s *Server) prepareText(t model.Translator, text string) (*prepared, *Error) {
	p, err := t.Prepare(text)
	switch {
	case errors.Is(err, model.ErrInputTooLong):
		return nil, Errorf(ETooLarge, "%s", err)
	case errors.Is(err, model.ErrInvalidInput):
		return nil, Errorf(EInvalid, "%s", err)
	case err != nil: // a fault, not the user's
		s.log.Error("preparing a translation", "model", t.Info().ID, "err", err)
		return nil, Errorf(EInternal, "something went wrong on the server; it has been logged")
	}
	return &prepared{p: p}, nil
}

func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// readJSON reads a decode request's JSON body into v, strictly, after the
// client's rate limit.
func (s *Server) readJSON(c echo.Context, v any) *Error {
	r := c.Request()
	if !s.perAddr.allow(r.RemoteAddr, time.Now()) {
		return Errorf(ERateLimited, "too many requests from your address; wait a moment")
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		return Errorf(EUnsupported, "send JSON with Content-Type: application/json")
	}
	if e := checkEncoding(r); e != nil {
		return e
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), r.Body, MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return Errorf(ETooLarge, "the request body is over %d bytes", MaxBodyBytes)
		}
		return Errorf(EInvalid, "could not read the request body")
	}
	if !utf8.Valid(body) {
		return Errorf(EInvalid, "the request body is not valid UTF-8")
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return Errorf(EInvalid, "malformed JSON: %s", jsonProblem(err))
	}
	return nil
}

// translate is POST /api/v1/translate.
func (s *Server) translate(c echo.Context) error {
	resp, err := s.translateHTTP(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, resp)
}

// translateHTTP reads a translate request from the body and decodes it.
func (s *Server) translateHTTP(c echo.Context) (*DecodeResponse, error) {
	var req TranslateRequest
	if e := s.readJSON(c, &req); e != nil {
		return nil, e
	}
	t, e := s.check(req)
	if e != nil {
		return nil, e
	}
	ctx, done, e := s.httpSlot(c)
	if e != nil {
		return nil, e
	}
	defer done()
	start := time.Now()
	pp, e := s.prepareText(t, req.Text)
	if e != nil {
		return nil, e
	}
	return collect(ctx, t.Info(), pp.p, model.Options{Beam: req.Beam, Force: req.Force, Override: req.Override}, start)
}

// translateInspect is POST /api/v1/translate/inspect: one step of the
// translation of text, in numbers (InspectRequest).
func (s *Server) translateInspect(c echo.Context) error {
	var req InspectRequest
	if e := s.readJSON(c, &req); e != nil {
		return e
	}
	t, e := s.check(TranslateRequest{Text: req.Text, Model: req.Model})
	if e != nil {
		return e
	}
	_, done, e := s.httpSlot(c)
	if e != nil {
		return e
	}
	defer done()
	pp, e := s.prepareText(t, req.Text)
	if e != nil {
		return e
	}
	g, e := s.inspect(pp.p, req)
	if e != nil {
		return e
	}
	return c.JSON(http.StatusOK, map[string]any{"model": t.Info().ID, "source": pp.p.Source(), "glass": g})
}

// httpSlot holds a decode slot for an HTTP request, waiting for one at
// most httpDecodeTimeout; the context bounds the request's decode, and
// done gives the slot back.
func (s *Server) httpSlot(c echo.Context) (ctx context.Context, done func(), _ *Error) {
	ctx, cancel := context.WithTimeout(c.Request().Context(), httpDecodeTimeout)
	if err := s.decodes.acquire(ctx, nil); err != nil {
		cancel()
		return nil, nil, Errorf(EBusy, "the server is busy; try again in a moment")
	}
	return ctx, func() {
		s.decodes.release()
		cancel()
	}, nil
}

// collect runs a decode to the end.
func collect(ctx context.Context, info model.Info, p model.Prepared, opts model.Options, start time.Time) (*DecodeResponse, error) {
	resp := &DecodeResponse{Model: info.ID, Source: p.Source(), TargetTokens: []string{}, Attention: [][]float32{}, Steps: []model.Step{}}
	if opts.Beam > 1 {
		opts.Tree = func(l model.TreeLevel) { resp.Tree = append(resp.Tree, l) }
	}
	for st, err := range p.Decode(ctx, opts) {
		if e := decodeError(err); e != nil {
			return nil, e
		}
		if err != nil {
			return nil, err
		}
		resp.Steps = append(resp.Steps, st)
		resp.TargetTokens = append(resp.TargetTokens, st.Token)
		resp.Attention = append(resp.Attention, st.Attention)
	}
	resp.Text = vocab.Detokenize(resp.TargetTokens, info.TgtLang)
	resp.ElapsedMS = time.Since(start).Milliseconds()
	return resp, nil
}

// jsonProblem describes a JSON decoding error without echoing user data.
func jsonProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return "syntax error at byte " + itoa(int(se.Offset))
	case errors.As(err, &te):
		return "field \"" + te.Field + "\" has the wrong type"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the JSON ends too early"
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		return strings.TrimPrefix(err.Error(), "json: ")
	}
	return "not a JSON object"
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// checkEncoding refuses a compressed request body: it would be read as
// garbage and answered as malformed.
func checkEncoding(r *http.Request) *Error {
	if enc := r.Header.Get("Content-Encoding"); enc != "" && !strings.EqualFold(enc, "identity") {
		return Errorf(EUnsupported, "the body is sent with Content-Encoding %q: send it uncompressed", clip(enc, 20))
	}
	return nil
}
