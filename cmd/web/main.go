// Command web serves the app: go run ./cmd/web [-addr :8080].
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"time"

	"attention/internal/fetch"
	"attention/model/caption"
	"attention/model/mobilenet"
	"attention/model/segment"
	"attention/model/trained"
	"attention/web"
	"attention/web/classroom"
)

func main() {
	m := &Main{}
	flag.StringVar(&m.Addr, "addr", ":8080", "address to listen on")
	flag.StringVar(&m.ModelDir, "model-dir", "", "load models (*.ckpt) from this directory instead of the embedded ones")
	flag.StringVar(&m.EncoderWeights, "encoder-weights", "", "the image encoder, "+mobilenet.WeightsFile+" (default: the user cache directory, downloaded there once if missing)")
	flag.BoolVar(&m.Offline, "offline", false, "never download the image encoder's weights")
	flag.Int64Var(&m.MemLimitMB, "mem-limit", 3072, "soft memory limit in MB (the Go runtime collects harder as the heap nears it; 0: none)")
	flag.StringVar(&m.AllowedHosts, "allowed-hosts", "", "comma-separated host names the server answers to (default: the -addr host, localhost, 127.0.0.1, ::1 and this machine's name and addresses; * for any)")
	flag.IntVar(&m.Limits.MaxConns, "max-conns", 4096, "open connections at most; past it a request is answered 503 with Retry-After")
	flag.IntVar(&m.Limits.MaxConnsPerAddr, "max-conns-per-addr", 1024, "open connections at most from one client address (a classroom behind NAT shares one)")
	flag.IntVar(&m.Limits.MaxSessions, "max-sessions", 2048, "live websocket sessions at most; past it a session is closed with 1013 (try again later)")
	flag.IntVar(&m.Limits.MaxSessionsPerAddr, "max-sessions-per-addr", 512, "live websocket sessions at most from one client address")
	flag.DurationVar(&m.Limits.WSMessageWait, "ws-message-wait", web.DefaultWSMessageWait, "time one websocket message may take to arrive whole (pongs do not extend it)")
	flag.StringVar(&m.SegWeights, "seg-weights", "", "the segmentation network, "+segFile+", for the caption page's \"where is the object?\" check (default: the user cache directory, if it is there)")
	flag.BoolVar(&m.Classes, "classes", true, "run classes: a teacher's decoding followed live by students who join with a code")
	flag.StringVar(&m.NATS, "nats", "", "NATS server URL for classes shared by several replicas (default: NATS in process, no port opened)")
	flag.StringVar(&m.NATSListen, "nats-listen", "", "without -nats: host:port where the in-process NATS accepts other replicas (default: no port)")
	flag.DurationVar(&m.ClassIdle, "class-idle", 2*time.Hour, "a class ends after this long without its teacher")
	flag.StringVar(&m.PublicURL, "public-url", "", "where students reach this server, e.g. http://192.168.1.20:8080, for a class's join link and QR code (default: the address the teacher's browser used)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := m.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "web:", err)
		os.Exit(1)
	}
	slog.Info("listening", "addr", m.URL())
	<-ctx.Done()
	if err := m.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "web: shutdown:", err)
		os.Exit(1)
	}
}

// Main is the running program, so tests can start the real server on :0.
type Main struct {
	Addr           string
	ModelDir       string
	EncoderWeights string // the MobileNetV2 file; "" looks in the cache and downloads
	Offline        bool   // never download
	SegWeights     string // the DeepLabV3 file; "" looks in the cache
	AllowedHosts   string // comma-separated; "" is the listen host, loopback and this machine's names and addresses
	MemLimitMB     int64  // soft memory limit; 0 leaves the runtime's
	// Classes runs classes over NATS: NATS's URL, or "" for one in
	// process (accepting other replicas at NATSListen, if set); a class
	// ends after ClassIdle without its teacher (0: 2 hours).
	Classes    bool
	NATS       string
	NATSListen string
	ClassIdle  time.Duration
	// PublicURL is where students reach the server, for join links and
	// QR codes ("" : the address the teacher's browser used).
	PublicURL string
	// Limits: the caps on connections and sessions, and the websocket
	// message deadline (web.Config's fields of those names; zero values
	// take web's defaults).
	Limits web.Config
	Logger *slog.Logger

	ln       net.Listener
	srv      *http.Server
	web      *web.Server
	classes  *classroom.Hub
	fetching sync.WaitGroup // a background download of the encoder
	stopMem  context.CancelFunc
}

// Run loads the models and starts serving; it returns once listening.
func (m *Main) Run(ctx context.Context) error {
	if m.Logger == nil {
		m.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	if m.MemLimitMB > 0 {
		debug.SetMemoryLimit(m.MemLimitMB << 20)
		m.Logger.Info("soft memory limit", "MB", m.MemLimitMB)
	}
	public, err := publicURL(m.PublicURL)
	if err != nil {
		return err
	}
	models, err := trained.Load(m.ModelDir)
	if err != nil {
		return err
	}
	cfg := web.Config{Logger: m.Logger, AllowedHosts: m.allowedHosts(), PublicURL: public,
		MaxConns: m.Limits.MaxConns, MaxConnsPerAddr: m.Limits.MaxConnsPerAddr,
		MaxSessions: m.Limits.MaxSessions, MaxSessionsPerAddr: m.Limits.MaxSessionsPerAddr,
		WSMessageWait: m.Limits.WSMessageWait, ByLength: models.ByLength}
	for _, t := range models.Translators {
		cfg.Translators = append(cfg.Translators, t)
	}
	if m.Classes {
		m.classes, err = classroom.Start(classroom.Config{URL: m.NATS, Listen: m.NATSListen, Idle: m.ClassIdle}, m.Logger)
		if err != nil {
			return err
		}
		cfg.Classes = m.classes
		if u := m.classes.URL(); u != "" {
			m.Logger.Info("classes: NATS in process, accepting other replicas", "url", u)
		}
	}
	if len(cfg.Translators) == 0 {
		m.Logger.Warn("no translation models found", "dir", m.ModelDir)
	}
	handler := web.New(cfg)
	m.web = handler
	m.startCaptions(ctx, handler, models.Captioners)
	m.startSegmenter(handler)
	ln, err := net.Listen("tcp", m.Addr)
	if err != nil {
		m.closeClasses()
		return err
	}
	m.ln = handler.Listener(ln)
	mctx, stopMem := context.WithCancel(ctx)
	m.stopMem = stopMem
	go m.returnMemory(mctx)
	m.srv = &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: readHeaderWait,
		ReadTimeout:       readWait,
		WriteTimeout:      writeWait,
		IdleTimeout:       idleWait,
		MaxHeaderBytes:    32 << 10,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	go func() {
		if err := m.srv.Serve(m.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.Logger.Error("serve", "err", err)
		}
	}()
	return nil
}

// startCaptions pairs each caption decoder with the image encoder. A
// local copy of the encoder (-encoder-weights, or the cache) is used at
// once; otherwise it is downloaded in the background while the server
// already serves, and captioning turns on when it arrives. Without the
// encoder the server still runs and the caption page says what to do.
func (m *Main) startCaptions(ctx context.Context, srv *web.Server, decs []*caption.Model) {
	if len(decs) == 0 {
		srv.SetCaptioners(nil, "No caption model is loaded: train one with go run ./cmd/train -model caption (see docs/MODELS.md).")
		return
	}
	src := fetch.Source{Path: m.EncoderWeights, Offline: true}
	data, path, err := fetch.Fetch(ctx, src)
	if err == nil || m.EncoderWeights != "" || m.Offline {
		m.useEncoder(srv, decs, data, path, err)
		return
	}
	srv.SetCaptioners(nil, "The image encoder (MobileNetV2) is being downloaded from "+mobilenet.WeightsURL+"; reload this page in a minute.")
	m.fetching.Add(1)
	go func() {
		defer m.fetching.Done()
		fctx, cancel := context.WithTimeout(ctx, fetchWait)
		defer cancel()
		src.Offline = false
		data, path, err := fetch.Fetch(fctx, src)
		m.useEncoder(srv, decs, data, path, err)
	}()
}

func (m *Main) useEncoder(srv *web.Server, decs []*caption.Model, data []byte, path string, err error) {
	if err != nil {
		m.Logger.Warn("captioning is off", "err", err)
		srv.SetCaptioners(nil, "The image encoder is not available ("+err.Error()+"). To turn captioning on, download "+
			mobilenet.WeightsURL+" and restart the server with -encoder-weights PATH, or let it download the file itself.")
		return
	}
	caps, err := caption.Pipelines(data, decs)
	if err != nil {
		m.Logger.Warn("captioning is off", "err", err)
		srv.SetCaptioners(nil, "The image encoder file "+path+" could not be read: "+err.Error())
		return
	}
	m.Logger.Info("image encoder loaded", "path", path)
	srv.SetCaptioners(caps, "")
}

// The segmentation network behind the "where is the object?" check:
// DeepLabV3-MobileNetV2 on PASCAL VOC, the Coral test data file.
const (
	segFile   = "deeplabv3_mnv2_pascal_quant.tflite"
	segURL    = "https://github.com/google-coral/test_data/raw/master/" + segFile
	segSHA256 = "350af47fd346ea6d74b58833a351f583ba860e9806ec5bd292ff8d8f1f249398"
	// segSize is its input side: 257 costs a quarter of the native 513,
	// and its maps agree with 513's on 92% of pixels (docs/MODELS.md).
	segSize = 257
)

// startSegmenter loads the segmentation network if a verified copy is at
// hand; without it the check is offered as off, with what to do.
func (m *Main) startSegmenter(srv *web.Server) {
	path := m.SegWeights
	if path == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return
		}
		path = filepath.Join(base, "attention-made-visible", segFile)
		if _, err := os.Stat(path); err != nil {
			m.Logger.Info("the \"where is the object?\" check is off: no segmentation network", "looked in", path, "get it from", segURL)
			return
		}
	}
	data, err := os.ReadFile(path)
	if err == nil {
		sum := sha256.Sum256(data)
		if got := hex.EncodeToString(sum[:]); got != segSHA256 {
			err = fmt.Errorf("SHA-256 is %s, want %s", got, segSHA256)
		}
	}
	var net *segment.Net
	if err == nil {
		net, err = segment.LoadSize(data, segSize)
	}
	if err != nil {
		m.Logger.Warn("the \"where is the object?\" check is off", "path", path, "err", err)
		return
	}
	m.Logger.Info("segmentation network loaded", "path", path)
	srv.SetSegmenter(net)
}

// publicURL checks -public-url: an http or https address with a host and
// nothing after it.
func publicURL(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.Trim(u.Path, "/") != "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("-public-url %q: give the address students open, like http://192.168.1.20:8080 (http or https, a host, no path)", s)
	}
	return u.Scheme + "://" + u.Host, nil
}

// allowedHosts are the host names requests may use: -allowed-hosts, or by
// default the listen address's host, the loopback names, this machine's
// name and its addresses (students on a classroom network type the IP),
// and -public-url's host.
func (m *Main) allowedHosts() []string {
	if m.AllowedHosts != "" {
		return strings.Split(m.AllowedHosts, ",")
	}
	hosts := []string{"localhost", "127.0.0.1", "::1"}
	if u, err := url.Parse(m.PublicURL); err == nil && u.Hostname() != "" {
		hosts = append(hosts, u.Hostname())
	}
	if h, _, err := net.SplitHostPort(m.Addr); err == nil && h != "" && h != "0.0.0.0" && h != "::" {
		hosts = append(hosts, h)
	}
	if name, err := os.Hostname(); err == nil {
		hosts = append(hosts, name)
	}
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok {
				hosts = append(hosts, ipn.IP.String())
			}
		}
	}
	return hosts
}

// returnMemory gives memory the heap no longer uses back to the system.
// The HTTP server's timeouts. A caption upload (10 MB at most) must
// arrive within readWait; writeWait bounds a whole response, a caption
// strip included; websockets set their own deadlines (web.Limits).
const (
	readHeaderWait = 5 * time.Second
	readWait       = 30 * time.Second
	writeWait      = 60 * time.Second
	idleWait       = 120 * time.Second
	shutdownWait   = 5 * time.Second // requests in flight may finish this long at shutdown
	fetchWait      = 5 * time.Minute // the image encoder's download (14 MB)
)

// How often returnMemory looks at the heap, and how often at most a quiet
// server is collected.
const (
	memCheckEvery = 10 * time.Second
	memForceEvery = 30 * time.Second
)

// After a burst (many photos at once) an idle server's runtime would hold
// it until its next forced collection, minutes later, since nothing
// allocates to start one. So while the runtime makes no collection of its
// own (a quiet server), one is forced every 30 s, or at once when the
// heap holds 48 MB more than after the last; a busy server is left to the
// runtime. A collection of this heap takes milliseconds.
func (m *Main) returnMemory(ctx context.Context) {
	t := time.NewTicker(memCheckEvery)
	defer t.Stop()
	var after uint64 // held after the last forced collection
	var forced time.Time
	var lastGC uint32
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		quiet := ms.NumGC == lastGC
		if held := ms.HeapSys - ms.HeapReleased; quiet && (time.Since(forced) >= memForceEvery || held > after+48<<20) {
			// Twice: what a sync.Pool holds (web's photo chunks)
			// survives one collection.
			debug.FreeOSMemory()
			debug.FreeOSMemory()
			runtime.ReadMemStats(&ms)
			after, forced = ms.HeapSys-ms.HeapReleased, time.Now()
		}
		lastGC = ms.NumGC
	}
}

// URL is the address the server listens on.
func (m *Main) URL() string { return "http://" + m.ln.Addr().String() }

// Close stops the server, letting requests in flight finish for a while.
func (m *Main) Close() error {
	if m.srv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), shutdownWait)
	defer cancel()
	m.web.CloseSessions("the server is shutting down")
	err := m.srv.Shutdown(ctx)
	m.stopMem()
	m.fetching.Wait()
	m.closeClasses()
	return err
}

func (m *Main) closeClasses() {
	if m.classes != nil {
		m.classes.Close()
		m.classes = nil
	}
}
