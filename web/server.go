// Package web is the HTTP and websocket server. It knows models only
// through the types in package model.
package web

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"attention/model"
	"attention/model/photo"
	"attention/static"
	"attention/templates"
	"attention/web/classroom"
)

// Limits on what a request may carry.
const (
	MaxTextChars = 300      // characters of text to translate
	MaxBodyBytes = 64 << 10 // JSON request body
	// MaxWSMessage bounds one websocket message: a caption request carries
	// its photo as base64, a third larger than the file.
	MaxWSMessage = 14 << 20
)

// httpDecodeTimeout bounds one HTTP translate or caption request, the wait
// for a decode slot included; past it the answer is 503 busy.
const httpDecodeTimeout = 30 * time.Second

// DefaultWSMessageWait is how long one websocket message may take to
// arrive whole when Limits.WSMessageWait is not set: a 10 MB photo on a
// slow phone connection.
const DefaultWSMessageWait = 60 * time.Second

// Config is what a Server is built from.
type Config struct {
	Translators []model.Translator
	Captioners  []model.Captioner
	// CaptionOff, when there are no captioners, says why and what to do;
	// the caption page and API show it.
	CaptionOff string
	Logger     *slog.Logger
	// MaxDecodes bounds how many decodes run at once (default: the CPUs).
	MaxDecodes int
	// MaxQueue bounds how many requests may wait for a decode (default 256);
	// beyond it requests are told the server is busy.
	MaxQueue int
	// AddrRate and AddrBurst limit decode requests per client address
	// (default 20 a second, bursts of 60: a classroom may share an address).
	AddrRate, AddrBurst float64
	// SessionRate and SessionBurst limit the requests of one websocket
	// session (default 4 a second, bursts of 8).
	SessionRate, SessionBurst float64
	// AllowedHosts are the host names (without port) that requests may
	// name in their Host header, against DNS rebinding; "*" allows any.
	// Empty allows any (tests); cmd/web passes the listen address, the
	// loopback names and the machine's name by default.
	AllowedHosts []string
	// MaxConns and MaxConnsPerAddr cap the open connections accepted
	// through Listener, in all and from one client address (defaults 4096
	// and 1024, well below a process's usual file descriptor limit; one
	// address can be a classroom behind NAT). Past them a connection is
	// answered 503 with Retry-After.
	MaxConns, MaxConnsPerAddr int
	// MaxSessions and MaxSessionsPerAddr cap the live websocket sessions
	// (defaults 2048 and 512); past them a session is closed with 1013
	// (try again later) and the reason.
	MaxSessions, MaxSessionsPerAddr int
	// WSMessageWait bounds the time one websocket message may take to
	// arrive whole (default 60 s; a 14 MiB photo message needs about
	// 2 Mbit/s); pongs do not extend it.
	WSMessageWait time.Duration
	// PhotoMemory bounds the bytes of photos held at once: uploads being
	// read and captions waiting for or in a decode (default 192 MiB);
	// past it a caption is answered busy.
	PhotoMemory int64
	// ByLength holds, by translation model id, its BLEU by source length
	// beside its baseline's, for the figure (GET /api/v1/figures/length/ID).
	ByLength map[string]model.ByLength
	// Image bounds one photo: its file, and its pixels as the header states
	// them, checked before any pixel is decoded (default
	// photo.DefaultLimits).
	Image photo.Limits
	// Classes shares decodes with a class (nil: classes are off).
	Classes *classroom.Hub
	// PublicURL is where students reach this server ("scheme://host:port"),
	// for a class's join link and QR code; "" uses the address the
	// teacher's browser used.
	PublicURL string
}

// Server holds the dependencies of every handler.
type Server struct {
	echo        *echo.Echo
	log         *slog.Logger
	translators map[string]model.Translator
	order       []string
	caps        captionSet
	decodes     *queue
	perAddr     *limiter // decode requests per client address
	sessRate    float64  // requests a second per websocket session...
	sessBurst   float64  // ...in bursts of at most this many
	hosts       map[string]bool
	conns       *connLimits
	msgWait     time.Duration
	photoMem    *budget
	image       photo.Limits
	byLength    map[string]model.ByLength
	classes     *classroom.Hub
	joinFails   *limiter // class codes that did not work, per client address
	publicURL   string

	liveMu sync.Mutex
	live   map[*session]bool // open websocket sessions, for CloseSessions
}

// New builds a server and registers its routes.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxDecodes <= 0 {
		cfg.MaxDecodes = runtime.GOMAXPROCS(0)
	}
	if cfg.MaxQueue <= 0 {
		cfg.MaxQueue = 256
	}
	if cfg.AddrRate <= 0 {
		cfg.AddrRate, cfg.AddrBurst = 20, 60
	}
	if cfg.SessionRate <= 0 {
		cfg.SessionRate, cfg.SessionBurst = 4, 8
	}
	defaults := []struct {
		v   *int
		def int
	}{{&cfg.MaxConns, 4096}, {&cfg.MaxConnsPerAddr, 1024}, {&cfg.MaxSessions, 2048}, {&cfg.MaxSessionsPerAddr, 512}}
	for _, d := range defaults {
		if *d.v <= 0 {
			*d.v = d.def
		}
	}
	if cfg.WSMessageWait <= 0 {
		cfg.WSMessageWait = DefaultWSMessageWait
	}
	if cfg.Image == (photo.Limits{}) {
		cfg.Image = photo.DefaultLimits()
	}
	if cfg.PhotoMemory <= 0 {
		cfg.PhotoMemory = 192 << 20
	}
	s := &Server{echo: echo.New(), log: cfg.Logger, translators: map[string]model.Translator{},
		decodes: newQueue(cfg.MaxDecodes, cfg.MaxQueue), perAddr: newLimiter(cfg.AddrRate, cfg.AddrBurst),
		sessRate: cfg.SessionRate, sessBurst: cfg.SessionBurst,
		conns: newConnLimits(cfg), msgWait: cfg.WSMessageWait, photoMem: &budget{max: cfg.PhotoMemory}, image: cfg.Image, byLength: cfg.ByLength,
		classes: cfg.Classes, joinFails: newLimiter(joinFailRate, joinFailBurst), publicURL: strings.TrimRight(cfg.PublicURL, "/")}
	if len(cfg.AllowedHosts) > 0 && !slices.Contains(cfg.AllowedHosts, "*") {
		s.hosts = map[string]bool{}
		for _, h := range cfg.AllowedHosts {
			s.hosts[hostOnly(h)] = true
		}
	}
	for _, t := range cfg.Translators {
		id := t.Info().ID
		s.translators[id] = t
		s.order = append(s.order, id)
	}
	s.SetCaptioners(cfg.Captioners, cfg.CaptionOff)
	e := s.echo
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	e.Use(s.recoverPanics, s.logRequests, securityHeaders, s.checkHostAndOrigin)
	s.routes()
	return s
}

// routes registers every route, in one place.
func (s *Server) routes() {
	e := s.echo
	// Pages and reads answer HEAD as well as GET (net/http sends no body).
	get := func(path string, h echo.HandlerFunc) {
		e.GET(path, h)
		e.HEAD(path, h)
	}
	get("/", s.translatePage)
	get("/healthz", func(c echo.Context) error { return c.JSON(http.StatusOK, map[string]string{"status": "ok"}) })
	get("/api/v1/models", s.listModels)
	get("/api/v1/models/:model/words", s.modelWords)
	e.POST("/api/v1/translate", s.translate)
	get("/caption", s.captionPage)
	e.POST("/api/v1/caption", s.caption)
	e.POST("/api/v1/caption/strip", s.captionStrip)
	e.POST("/api/v1/caption/animation", s.captionAnimation)
	e.POST("/api/v1/caption/inspect", s.captionInspect)
	get("/api/v1/figures/length/:model", s.lengthFigure)
	e.POST("/api/v1/translate/alignment", s.alignment)
	e.POST("/api/v1/translate/inspect", s.translateInspect)
	e.GET("/ws", s.websocket)
	get("/join", s.joinPage)
	get("/static/*", s.staticFile)
}

var staticFiles = http.FileServer(http.FS(static.FS))

// staticFile serves the pages' scripts, styles and example photos; a
// missing one is the same JSON 404 as any unknown route.
func (s *Server) staticFile(c echo.Context) error {
	name := c.Param("*")
	if st, err := fs.Stat(static.FS, name); err != nil || name == "" || st.IsDir() {
		return echo.ErrNotFound
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	r := c.Request().Clone(c.Request().Context())
	r.URL.Path = "/" + name
	staticFiles.ServeHTTP(c.Response(), r)
	return nil
}

// ServeHTTP makes the server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.echo.ServeHTTP(w, r) }

// handleError is the one place errors become responses.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	switch {
	case errors.Is(err, context.Canceled):
		// The client left (or the server is stopping): nobody to answer.
		s.log.Info("request cancelled", "path", c.Path())
		return
	case errors.Is(err, context.DeadlineExceeded):
		err = Errorf(EBusy, "the server took too long to answer; try again in a moment")
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		code := EInternal
		msg := http.StatusText(he.Code)
		switch he.Code {
		case http.StatusNotFound:
			code, msg = ENotFound, "no such page: "+c.Request().URL.Path
		case http.StatusMethodNotAllowed:
			code, msg = EInvalid, "method not allowed"
		case http.StatusRequestEntityTooLarge:
			code, msg = ETooLarge, "the request body is too large"
		}
		if code == EInternal {
			s.log.Error("http error", "path", c.Path(), "err", err)
		}
		c.JSON(he.Code, map[string]*Error{"error": {Code: code, Message: msg}})
		return
	}
	e, known := asError(err)
	if !known {
		s.log.Error("internal error", "path", c.Path(), "err", err)
	}
	if e.Code == EBusy {
		c.Response().Header().Set("Retry-After", strconv.Itoa(retryAfter))
	}
	c.JSON(status(e.Code), map[string]*Error{"error": e})
}

func (s *Server) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				s.log.Error("panic", "path", c.Path(), "panic", r)
				err = errors.New("panic")
			}
		}()
		return next(c)
	}
}

// logRequests logs request facts, never the text or images users send.
func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		s.log.Info("request", "method", c.Request().Method, "route", c.Path(), "status", c.Response().Status,
			"bytes", c.Response().Size, "ms", time.Since(start).Milliseconds())
		return nil
	}
}

// checkHostAndOrigin refuses a Host the server does not answer to (DNS
// rebinding: a page on evil.example resolving its name to this machine),
// and a POST from another origin's page: a multipart upload is a "simple"
// cross-origin request that browsers send without asking. Clients that
// send no Origin (curl, scripts) are served.
func (s *Server) checkHostAndOrigin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if s.hosts != nil && !s.hosts[hostOnly(r.Host)] {
			return Errorf(EForbidden, "this server does not answer to the host name %q", clip(r.Host, 60))
		}
		if o := r.Header.Get("Origin"); o != "" && r.Method == http.MethodPost {
			u, err := url.Parse(o)
			if err != nil || !strings.EqualFold(u.Host, r.Host) {
				return Errorf(EForbidden, "requests from another site's pages are refused (origin %q)", clip(o, 60))
			}
		}
		return next(c)
	}
}

// hostOnly is a Host header's name without its port, lower-cased.
func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		hostport = h
	}
	return strings.ToLower(strings.Trim(hostport, "[]"))
}

func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		var b [18]byte
		rand.Read(b[:])
		nonce := base64.StdEncoding.EncodeToString(b[:])
		h := c.Response().Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self' 'nonce-"+nonce+"'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		req := c.Request()
		c.SetRequest(req.WithContext(templ.WithNonce(req.Context(), nonce)))
		return next(c)
	}
}

// pageLang is the visitor's language: ?lang= when it names one the pages
// speak (links keep it, so a shared link opens in it), else the browser's
// Accept-Language.
func pageLang(c echo.Context) templates.Lang {
	return templates.Negotiate(c.QueryParam("lang"), c.Request().Header.Get("Accept-Language"))
}

// render writes a page in lang.
func (s *Server) render(c echo.Context, lang templates.Lang, comp templ.Component) error {
	return s.renderStatus(c, http.StatusOK, lang, comp)
}

// renderStatus writes a page in lang with status.
func (s *Server) renderStatus(c echo.Context, status int, lang templates.Lang, comp templ.Component) error {
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	h.Add("Vary", "Accept-Language")
	h.Set("Content-Language", string(lang))
	c.Response().WriteHeader(status)
	return comp.Render(templates.WithLang(c.Request().Context(), lang), c.Response())
}

var examples = []string{
	"A man in a blue shirt is riding a bike.",
	"Two dogs are playing in the snow.",
	"A little girl climbs into a wooden playhouse.",
}

// captionExamples are photos the project may ship (static/examples/LICENSES.md).
var captionExamples = []templates.Example{
	{Src: "/static/examples/chelsea.jpg", Alt: "example.chelsea", Credit: "Stefan van der Walt", Licence: "CC0"},
	{Src: "/static/examples/coffee.jpg", Alt: "example.coffee", Credit: "Rachel Michetti", Licence: "CC0"},
	{Src: "/static/examples/astronaut.jpg", Alt: "example.astronaut", Credit: "NASA", Licence: "public domain"},
	{Src: "/static/examples/rocket.jpg", Alt: "example.rocket", Credit: "SpaceX", Licence: "public domain"},
}

func (s *Server) translatePage(c echo.Context) error {
	lang := pageLang(c)
	var opts []templates.ModelOption
	for _, id := range s.order {
		o := modelOption(s.translators[id].Info(), lang)
		if _, ok := s.translators[id+"-noatt"]; ok && o.Attention {
			o.Baseline = id + "-noatt"
		}
		opts = append(opts, o)
	}
	return s.render(c, lang, templates.TranslatePage(templates.TranslateProps{Models: opts, MaxChars: MaxTextChars, Examples: examples}))
}

func (s *Server) captionPage(c echo.Context) error {
	lang := pageLang(c)
	var opts []templates.ModelOption
	list, off := s.caps.get()
	for _, m := range list {
		opts = append(opts, modelOption(m.Info(), lang))
	}
	// Every caption model with attention has the one baseline, Show and
	// Tell, trained on the same photos and encoder.
	const baseline = "caption-noatt"
	if slices.ContainsFunc(opts, func(o templates.ModelOption) bool { return o.ID == baseline }) {
		for i := range opts {
			if opts[i].Attention {
				opts[i].Baseline = baseline
			}
		}
	}
	return s.render(c, lang, templates.CaptionPage(templates.CaptionProps{Models: opts, Unavailable: off,
		MaxMB: int(s.image.MaxBytes >> 20), MaxMP: int(s.image.MaxPixels / 1_000_000), Examples: captionExamples,
		Objects: s.caps.segmenter() != nil}))
}

// modelOption is a model as the pickers show it, with its first score
// that is not a dev-set score.
// modelOption is a model as the picker shows it in lang: its title and
// what it was trained on come from the model, in Korean from the
// catalogue's model.ID.title and model.ID.trainedOn where it has them.
func modelOption(info model.Info, lang templates.Lang) templates.ModelOption {
	var metric templates.Metric
	for _, m := range info.Metrics {
		if m.Split != "dev" {
			metric = formatMetric(m)
			break
		}
	}
	return templates.ModelOption{ID: info.ID, Title: templates.Own(lang, "model."+info.ID+".title", info.Title),
		SrcLang: info.SrcLang, TgtLang: info.TgtLang, Attention: info.Attention, Metric: metric,
		TrainedOn: templates.Own(lang, "model."+info.ID+".trainedOn", info.TrainedOn)}
}

func formatMetric(m model.Metric) templates.Metric {
	split := m.Split
	if m.Note != "" {
		split += " (" + m.Note + ")"
	}
	return templates.Metric{Name: m.Name, Value: strconv.FormatFloat(m.Value, 'f', 1, 64), Split: split}
}
