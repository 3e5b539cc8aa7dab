package web_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"attention/web"
)

func wsError(t *testing.T, m wsMsg) web.ErrorPayload {
	t.Helper()
	var e web.ErrorPayload
	if m.Type != web.MsgError || json.Unmarshal(m.Payload, &e) != nil {
		t.Fatalf("got %s %s, want an error", m.Type, m.Payload)
	}
	return e
}

// The rate limit applies once the envelope's type is read, before the
// payload: a session past its limit is told so even for a payload that
// would not parse.
func TestWebsocketRateLimitBeforePayload(t *testing.T) {
	srv := newServer(t)
	c := dial(t, srv)
	for i := 0; i < 8; i++ { // the session's burst, spent on cheap refusals
		send(t, c, `{"type":"translate","v":1,"payload":{"id":"x","text":" ","model":"en-de"}}`)
		if e := wsError(t, read(t, c)); e.Code != web.EInvalid {
			t.Fatalf("request %d: %+v", i, e)
		}
	}
	send(t, c, `{"type":"translate","v":1,"payload":{"text": this is not JSON`)
	if e := wsError(t, read(t, c)); e.Code != web.ERateLimited {
		t.Fatalf("past the limit: %+v, want rate_limited before the payload is parsed", e)
	}
}

// A caption's model and beam are checked before its photo is read, and
// the photos held at once are bounded by Config.PhotoMemory.
func TestCaptionFieldsBeforePhoto(t *testing.T) {
	newCaptionServer(t) // loads the caption models
	srv := newServerWith(t, web.Config{Captioners: caps, PhotoMemory: 1 << 20, AddrRate: 1e9, AddrBurst: 1e9})
	big := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xFF, 0xD8, 0xFF}, 1<<20)) // 3 MB
	c := dial(t, srv)
	send(t, c, `{"type":"caption","v":1,"payload":{"id":"b","beam":99,"image":"`+big+`"}}`)
	if e := wsError(t, read(t, c)); e.Code != web.EInvalid || e.ID != "b" || !strings.Contains(e.Message, "beam") {
		t.Fatalf("beam 99 before a 3 MB photo: %+v, want invalid beam (the photo never read)", e)
	}
	send(t, c, `{"type":"caption","v":1,"payload":{"id":"m","image":"`+big+`"}}`)
	if e := wsError(t, read(t, c)); e.Code != web.EBusy {
		t.Fatalf("a 3 MB photo with 1 MiB of photo memory: %+v, want busy", e)
	}
	// The memory was given back: a small photo is captioned.
	send(t, c, captionMsg("ok", testImages(t)["1x1"]))
	for {
		m := read(t, c)
		if m.Type == web.MsgError {
			t.Fatalf("small photo after: %s", m.Payload)
		}
		if m.Type == web.MsgDone {
			break
		}
	}
}

// A burst of any size gets rate_limited answers and then a close frame
// with its reason, never a reset: 1,000 messages sent before reading.
func TestWebsocketBurstClosesCleanly(t *testing.T) {
	srv := newServer(t)
	c := dial(t, srv)
	msg := []byte(`{"type":"translate","v":1,"payload":{"id":"b","text":"A dog runs.","model":"en-de"}}`)
	for i := 0; i < 1000; i++ {
		if err := c.WriteMessage(websocket.TextMessage, msg); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	limited := 0
	for {
		c.SetReadDeadline(time.Now().Add(20 * time.Second))
		_, b, err := c.ReadMessage()
		if err != nil {
			var ce *websocket.CloseError
			if !errors.As(err, &ce) || ce.Code != websocket.ClosePolicyViolation || ce.Text == "" {
				t.Fatalf("after %d rate_limited answers: %v; want a close frame with a reason", limited, err)
			}
			t.Logf("%d rate_limited answers, then close %d %q", limited, ce.Code, ce.Text)
			break
		}
		if bytes.Contains(b, []byte(`"rate_limited"`)) {
			limited++
		}
	}
	if limited == 0 {
		t.Fatal("no rate_limited answer before the close")
	}
}

// newCappedServer serves through Server.Listener with the given caps.
func newCappedServer(t *testing.T, cfg web.Config) (*web.Server, *httptest.Server) {
	t.Helper()
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	s := web.New(cfg)
	srv := httptest.NewUnstartedServer(s)
	srv.Listener = s.Listener(srv.Listener)
	srv.Start()
	t.Cleanup(srv.Close)
	return s, srv
}

func waitCounts(t *testing.T, s *web.Server, conns, sessions int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		c, ss := s.Counts()
		if (conns < 0 || c == conns) && (sessions < 0 || ss == sessions) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d connections and %d sessions, want %d and %d", c, ss, conns, sessions)
		}
	}
}

// Past the connection cap a request is answered 503 busy with Retry-After
// at once; the health check still answers 200.
func TestConnectionCap(t *testing.T) {
	s, srv := newCappedServer(t, web.Config{MaxConnsPerAddr: 3})
	addr := srv.Listener.Addr().String()
	var held []net.Conn
	for i := 0; i < 3; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		held = append(held, c)
	}
	waitCounts(t, s, 3, -1)
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	resp, err := client.Get(srv.URL + "/api/v1/models")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var e apiError
	json.Unmarshal(body, &e)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" ||
		e.Error.Code != web.EBusy || !strings.Contains(e.Error.Message, "connections") {
		t.Fatalf("past the cap: %d Retry-After %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	resp, err = client.Get(srv.URL + "/healthz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("health check past the cap: %v %v", resp, err)
	}
	resp.Body.Close()
	held[0].Close()
	waitCounts(t, s, 2, -1)
	resp, err = client.Get(srv.URL + "/api/v1/models")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("after a connection closed: %v %v", resp, err)
	}
	resp.Body.Close()
}

// Past the session cap a websocket is closed with 1013 and the reason.
func TestSessionCap(t *testing.T) {
	s, srv := newCappedServer(t, web.Config{MaxSessionsPerAddr: 2})
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws"
	var open []*websocket.Conn
	for i := 0; i < 2; i++ {
		c, _, err := websocket.DefaultDialer.Dial(url, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		open = append(open, c)
	}
	waitCounts(t, s, -1, 2)
	c, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _, err = c.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.CloseTryAgainLater || !strings.Contains(ce.Text, "sessions") {
		t.Fatalf("third session: %v, want close 1013 with a reason", err)
	}
	open[0].Close()
	waitCounts(t, s, -1, 1)
	c2, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	waitCounts(t, s, -1, 2)
}

// The text limits in docs/protocol.md are the ones the server applies,
// and each refusal names its limit as the docs state it.
func TestTextLimitsMatchDocs(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "protocol.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`text over (\d+) characters or over (\d+) words`).FindStringSubmatch(string(doc))
	if m == nil {
		t.Fatal("docs/protocol.md does not state the text limits")
	}
	chars, _ := strconv.Atoi(m[1])
	words, _ := strconv.Atoi(m[2])
	srv := newServer(t)
	for _, tc := range []struct{ text, want string }{
		{strings.Repeat("a", chars+1), m[1] + " characters"},
		{strings.TrimSpace(strings.Repeat("a ", words+5)), m[2] + " words"},
	} {
		b, _ := json.Marshal(map[string]string{"text": tc.text, "model": "en-de"})
		code, body := post(t, srv.URL, "application/json", string(b))
		var e apiError
		json.Unmarshal(body, &e)
		if code != http.StatusRequestEntityTooLarge || e.Error.Code != web.ETooLarge || !strings.Contains(e.Error.Message, tc.want) {
			t.Errorf("%d characters: %d %s; want 413 naming %q as the docs do", len(tc.text), code, body, tc.want)
		}
	}
}
