package web_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"attention/model"
	"attention/model/trained"
	"attention/web"
)

var (
	loadOnce sync.Once
	loaded   []model.Translator
	loadErr  error
)

// newServer starts the real Echo instance with the embedded models.
func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	return newServerWith(t, web.Config{})
}

// newServerWith starts it with the given limits.
func newServerWith(t *testing.T, cfg web.Config) *httptest.Server {
	t.Helper()
	loadOnce.Do(func() {
		ms, err := trained.Translators("")
		loadErr = err
		for _, m := range ms {
			loaded = append(loaded, m)
		}
	})
	if loadErr != nil {
		t.Fatal(loadErr)
	}
	if len(loaded) == 0 {
		t.Fatal("no embedded translation models in model/trained/weights")
	}
	cfg.Translators, cfg.Logger = loaded, slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := httptest.NewServer(web.New(cfg))
	t.Cleanup(func() {
		srv.Close()
		http.DefaultClient.CloseIdleConnections()
	})
	return srv
}

type apiError struct {
	Error web.Error `json:"error"`
}

func post(t *testing.T, url, ctype, body string) (int, []byte) {
	t.Helper()
	resp, err := http.Post(url+"/api/v1/translate", ctype, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func checkAttention(t *testing.T, att [][]float32, rows, cols int) {
	t.Helper()
	if len(att) != rows {
		t.Fatalf("attention has %d rows, want %d", len(att), rows)
	}
	for i, row := range att {
		if len(row) != cols {
			t.Fatalf("attention row %d has %d columns, want %d", i, len(row), cols)
		}
		var sum float64
		for _, a := range row {
			if a < 0 || a > 1 {
				t.Fatalf("attention weight %v out of [0,1]", a)
			}
			sum += float64(a)
		}
		if math.Abs(sum-1) > 1e-4 {
			t.Fatalf("attention row %d sums to %v", i, sum)
		}
	}
}

func TestTranslateAPI(t *testing.T) {
	srv := newServer(t)
	for _, beam := range []int{1, 5} {
		code, body := post(t, srv.URL, "application/json", `{"text": "A man is riding a bike.", "model": "en-de", "beam": `+string(rune('0'+beam))+`}`)
		if code != 200 {
			t.Fatalf("beam %d: status %d: %s", beam, code, body)
		}
		var r web.DecodeResponse
		if err := json.Unmarshal(body, &r); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(r.Source.Tokens, " "); got != "A man is riding a bike ." {
			t.Fatalf("source tokens %q", got)
		}
		if len(r.TargetTokens) == 0 || r.Text == "" || len(r.Steps) != len(r.TargetTokens) {
			t.Fatalf("beam %d: empty or inconsistent translation: %+v", beam, r)
		}
		checkAttention(t, r.Attention, len(r.TargetTokens), len(r.Source.Tokens))
		for i, s := range r.Steps {
			if s.Index != i || s.Token != r.TargetTokens[i] || len(s.TopK) == 0 || s.Prob <= 0 || s.Prob > 1 {
				t.Fatalf("beam %d: step %d inconsistent: %+v", beam, i, s)
			}
			if !s.Unknown && s.TopK[0].Prob < s.Prob-1e-6 {
				t.Fatalf("top-1 probability %v below the chosen word's %v", s.TopK[0].Prob, s.Prob)
			}
		}
		t.Logf("beam %d: %s", beam, r.Text)
	}
}

func TestUnknownWordsAreMarked(t *testing.T) {
	srv := newServer(t)
	code, body := post(t, srv.URL, "application/json", `{"text": "A zyxwvut plays.", "model": "en-de"}`)
	if code != 200 {
		t.Fatalf("status %d: %s", code, body)
	}
	var r web.DecodeResponse
	json.Unmarshal(body, &r)
	if len(r.Source.Unknown) != 4 || !r.Source.Unknown[1] || r.Source.Unknown[0] {
		t.Fatalf("unknown flags %v for %q", r.Source.Unknown, r.Source.Tokens)
	}
}

// Text the model cannot read is refused with a reason, not translated as a
// row of unknown words.
func TestNotEnglishRefused(t *testing.T) {
	srv := newServer(t)
	for _, c := range []struct{ text, want string }{
		{"나는 배가 고파요", "Korean"},
		{"Глубоко в лесу живёт медведь", "Cyrillic"},
		{"Zxqv blorptang wibbleflux gronkshaw.", "not in its vocabulary"},
	} {
		code, body := post(t, srv.URL, "application/json", `{"text": "`+c.text+`", "model": "en-de"}`)
		var e apiError
		json.Unmarshal(body, &e)
		if code != 400 || e.Error.Code != web.EInvalid || !strings.Contains(e.Error.Message, c.want) {
			t.Errorf("%q: got %d %s, want 400 naming %q", c.text, code, body, c.want)
		}
	}
}

func TestModelsAndHealth(t *testing.T) {
	srv := newServer(t)
	resp, err := http.Get(srv.URL + "/api/v1/models")
	if err != nil {
		t.Fatal(err)
	}
	var ms struct{ Models []model.Info }
	json.NewDecoder(resp.Body).Decode(&ms)
	resp.Body.Close()
	found := false
	for _, m := range ms.Models {
		if m.ID == "en-de" && m.Kind == "translation" && m.SrcLang == "en" && m.TgtLang == "de" && m.Params > 0 {
			found = true
		}
	}
	if !found {
		t.Fatalf("en-de missing from %+v", ms)
	}
	resp, err = http.Get(srv.URL + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()
}

func TestPageHeaders(t *testing.T) {
	srv := newServer(t)
	resp, err := http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Contains(body, []byte(`id="grid"`)) {
		t.Fatalf("page: %d", resp.StatusCode)
	}
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self' 'nonce-", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("Referrer-Policy") == "" {
		t.Errorf("missing headers: %v", resp.Header)
	}
	nonce := csp[strings.Index(csp, "'nonce-")+7:]
	nonce = nonce[:strings.Index(nonce, "'")]
	if !bytes.Contains(body, []byte(`nonce="`+nonce+`"`)) {
		t.Errorf("page scripts do not carry the CSP nonce")
	}
	if bytes.Contains(body, []byte(" onclick=")) || bytes.Contains(body, []byte(" style=\"")) {
		t.Errorf("page has inline handlers or styles")
	}
}

func TestBadHTTPInput(t *testing.T) {
	srv := newServer(t)
	cases := []struct {
		name, ctype, body string
		status            int
		code              string
	}{
		{"empty text", "application/json", `{"text": "", "model": "en-de"}`, 400, web.EInvalid},
		{"whitespace", "application/json", `{"text": "  \n\t ", "model": "en-de"}`, 400, web.EInvalid},
		{"control characters only", "application/json", `{"text": "\u0001\u0002", "model": "en-de"}`, 400, web.EInvalid},
		{"over-long", "application/json", `{"text": "` + strings.Repeat("a", 301) + `", "model": "en-de"}`, 413, web.ETooLarge},
		{"unknown model", "application/json", `{"text": "hi", "model": "xx-yy"}`, 404, web.ENotFound},
		{"no model", "application/json", `{"text": "hi"}`, 400, web.EInvalid},
		{"malformed JSON", "application/json", `{"text": "hi", "model": `, 400, web.EInvalid},
		{"not an object", "application/json", `[1,2]`, 400, web.EInvalid},
		{"unknown field", "application/json", `{"text": "hi", "model": "en-de", "x": 1}`, 400, web.EInvalid},
		{"bad beam", "application/json", `{"text": "hi", "model": "en-de", "beam": 99}`, 400, web.EInvalid},
		{"wrong type", "application/json", `{"text": 5, "model": "en-de"}`, 400, web.EInvalid},
		{"form body", "application/x-www-form-urlencoded", `text=hi`, 415, web.EUnsupported},
		{"huge body", "application/json", `{"text": "` + strings.Repeat("a", 100<<10) + `"}`, 413, web.ETooLarge},
	}
	for _, c := range cases {
		code, body := post(t, srv.URL, c.ctype, c.body)
		var e apiError
		json.Unmarshal(body, &e)
		if code != c.status || e.Error.Code != c.code || e.Error.Message == "" {
			t.Errorf("%s: got %d %s, want %d %s", c.name, code, body, c.status, c.code)
		}
	}
	for _, path := range []string{"/nope", "/static/nope.js", "/static/"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		var e apiError
		json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		if resp.StatusCode != 404 || e.Error.Code != web.ENotFound {
			t.Errorf("GET %s: %d %+v, want a JSON 404", path, resp.StatusCode, e)
		}
	}
	for _, path := range []string{"/", "/caption", "/healthz", "/api/v1/models", "/static/common.js"} {
		resp, err := http.Head(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("HEAD %s: %d, want 200", path, resp.StatusCode)
		}
	}
	req, _ := http.NewRequest("POST", srv.URL+"/api/v1/translate", strings.NewReader("\x1f\x8b compressed"))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Encoding", "gzip")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 415 {
		t.Errorf("gzip body: %d, want 415", resp.StatusCode)
	}
	// Still healthy.
	if code, _ := post(t, srv.URL, "application/json", `{"text": "A dog.", "model": "en-de"}`); code != 200 {
		t.Fatalf("server unhealthy after bad input: %d", code)
	}
}

type wsMsg struct {
	Type    string          `json:"type"`
	V       int             `json:"v"`
	Payload json.RawMessage `json:"payload"`
}

func dial(t *testing.T, srv *httptest.Server) *websocket.Conn {
	t.Helper()
	c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func read(t *testing.T, c *websocket.Conn) wsMsg {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	var m wsMsg
	if err := c.ReadJSON(&m); err != nil {
		t.Fatal(err)
	}
	if m.V != 1 {
		t.Fatalf("message version %d", m.V)
	}
	return m
}

func send(t *testing.T, c *websocket.Conn, s string) {
	t.Helper()
	if err := c.WriteMessage(websocket.TextMessage, []byte(s)); err != nil {
		t.Fatal(err)
	}
}

// translateWS runs one request and returns the source and steps.
func translateWS(t *testing.T, c *websocket.Conn, id, text string) (web.SourcePayload, []web.StepPayload, web.DonePayload) {
	t.Helper()
	send(t, c, `{"type":"translate","v":1,"payload":{"id":"`+id+`","text":"`+text+`","model":"en-de","beam":1}}`)
	var src web.SourcePayload
	var steps []web.StepPayload
	for {
		m := read(t, c)
		switch m.Type {
		case web.MsgSource:
			json.Unmarshal(m.Payload, &src)
		case web.MsgStep:
			var s web.StepPayload
			json.Unmarshal(m.Payload, &s)
			steps = append(steps, s)
		case web.MsgDone:
			var d web.DonePayload
			json.Unmarshal(m.Payload, &d)
			return src, steps, d
		default:
			t.Fatalf("unexpected %s: %s", m.Type, m.Payload)
		}
	}
}

func TestWebsocketStream(t *testing.T) {
	srv := newServer(t)
	c := dial(t, srv)
	src, steps, done := translateWS(t, c, "r1", "Two dogs are playing in the snow.")
	if src.ID != "r1" || len(src.Source.Tokens) != 8 || done.Steps != len(steps) || done.Text == "" {
		t.Fatalf("source %+v, %d steps, done %+v", src, len(steps), done)
	}
	att := make([][]float32, len(steps))
	for i, s := range steps {
		if s.ID != "r1" || s.Step.Index != i {
			t.Fatalf("step %d: %+v", i, s)
		}
		att[i] = s.Step.Attention
	}
	checkAttention(t, att, len(steps), len(src.Source.Tokens))
}

func TestWebsocketBadMessages(t *testing.T) {
	srv := newServer(t)
	c := dial(t, srv)
	cases := []struct{ name, msg, code string }{
		{"not JSON", `hello`, web.EBadMessage},
		{"truncated JSON", `{"type":"translate","v":1,"payload":{"text":"a`, web.EBadMessage},
		{"unknown type", `{"type":"dance","v":1,"payload":{}}`, web.EBadMessage},
		{"wrong version", `{"type":"translate","v":2,"payload":{}}`, web.EBadMessage},
		{"no payload", `{"type":"translate","v":1}`, web.EBadMessage},
		{"empty text", `{"type":"translate","v":1,"payload":{"id":"x","text":" ","model":"en-de"}}`, web.EInvalid},
		{"unknown model", `{"type":"translate","v":1,"payload":{"id":"x","text":"hi","model":"zz"}}`, web.ENotFound},
		{"too long", `{"type":"translate","v":1,"payload":{"id":"x","text":"` + strings.Repeat("b ", 200) + `","model":"en-de"}}`, web.ETooLarge},
	}
	for _, tc := range cases {
		send(t, c, tc.msg)
		m := read(t, c)
		var e web.ErrorPayload
		json.Unmarshal(m.Payload, &e)
		if m.Type != web.MsgError || e.Code != tc.code || e.Message == "" {
			t.Errorf("%s: got %s %s, want error %s", tc.name, m.Type, m.Payload, tc.code)
		}
	}
	if err := c.WriteMessage(websocket.BinaryMessage, []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	if m := read(t, c); m.Type != web.MsgError {
		t.Fatalf("binary frame: got %s", m.Type)
	}
	// The socket is still usable.
	if _, steps, _ := translateWS(t, c, "ok", "A dog."); len(steps) == 0 {
		t.Fatal("no steps after bad messages")
	}
}

func TestWebsocketCrossOriginRefused(t *testing.T) {
	srv := newServer(t)
	h := http.Header{"Origin": {"http://evil.example"}}
	_, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/ws", h)
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-origin upgrade: err %v, resp %v", err, resp)
	}
}

func TestRateLimit(t *testing.T) {
	srv := newServerWith(t, web.Config{AddrRate: 0.01, AddrBurst: 2})
	for i := 0; i < 2; i++ {
		if code, body := post(t, srv.URL, "application/json", `{"text": "A dog.", "model": "en-de"}`); code != 200 {
			t.Fatalf("request %d: %d %s", i, code, body)
		}
	}
	code, body := post(t, srv.URL, "application/json", `{"text": "A dog.", "model": "en-de"}`)
	var e apiError
	json.Unmarshal(body, &e)
	if code != http.StatusTooManyRequests || e.Error.Code != web.ERateLimited {
		t.Fatalf("third request: %d %s", code, body)
	}
	// The page and the health check are not limited.
	for _, path := range []string{"/", "/healthz"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s while limited: %v %v", path, resp, err)
		}
		resp.Body.Close()
	}
}

// A page on another site may not upload through a visitor's browser, and a
// request naming a host the server does not answer to (DNS rebinding) is
// refused, over HTTP and the websocket. Clients without an Origin are served.
func TestOriginAndHostChecks(t *testing.T) {
	srv := newServerWith(t, web.Config{AllowedHosts: []string{"127.0.0.1", "localhost"}})
	do := func(method, path, host, origin, body string) int {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if host != "" {
			req.Host = host
		}
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	const text = `{"text": "A dog runs.", "model": "en-de"}`
	if code := do("POST", "/api/v1/translate", "", "", text); code != 200 {
		t.Errorf("no Origin (curl): %d, want 200", code)
	}
	if code := do("POST", "/api/v1/translate", "", srv.URL, text); code != 200 {
		t.Errorf("same origin: %d, want 200", code)
	}
	if code := do("POST", "/api/v1/translate", "", "http://evil.example", text); code != 403 {
		t.Errorf("cross-origin POST: %d, want 403", code)
	}
	if code := do("POST", "/api/v1/caption", "", "http://evil.example", ""); code != 403 {
		t.Errorf("cross-origin upload: %d, want 403", code)
	}
	if code := do("GET", "/", "evil.example:80", "", ""); code != 403 {
		t.Errorf("unknown Host: %d, want 403", code)
	}
	if code := do("GET", "/", "localhost:1234", "", ""); code != 200 {
		t.Errorf("localhost: %d, want 200", code)
	}
	// DNS rebinding on the websocket: Host and Origin both the attacker's.
	hdr := http.Header{"Origin": {"http://evil.example:80"}}
	d := websocket.Dialer{NetDial: func(network, _ string) (net.Conn, error) { return net.Dial(network, srv.Listener.Addr().String()) }}
	_, resp, err := d.Dial("ws://evil.example:80/ws", hdr)
	if err == nil || resp == nil || resp.StatusCode != 403 {
		t.Errorf("websocket with a foreign Host: %v %v, want 403", resp, err)
	}
}

// Forcing the model's own first words reproduces its translation, marked
// forced; forcing another word changes the translation from there.
func TestForceOverHTTP(t *testing.T) {
	srv := newServer(t)
	run := func(force []int) web.DecodeResponse {
		t.Helper()
		b, _ := json.Marshal(web.TranslateRequest{Text: "A man is riding a bike.", Model: "en-de", Force: force})
		code, body := post(t, srv.URL, "application/json", string(b))
		if code != 200 {
			t.Fatalf("force %v: %d %s", force, code, body)
		}
		var r web.DecodeResponse
		if err := json.Unmarshal(body, &r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	own := run(nil)
	if len(own.Steps) < 3 {
		t.Fatalf("translation too short: %q", own.Text)
	}
	again := run([]int{own.Steps[0].TokenID, own.Steps[1].TokenID})
	if again.Text != own.Text || !again.Steps[0].Forced || !again.Steps[1].Forced || again.Steps[2].Forced {
		t.Errorf("forcing its own words: %q (forced %v %v %v), want %q", again.Text, again.Steps[0].Forced, again.Steps[1].Forced, again.Steps[2].Forced, own.Text)
	}
	alt := own.Steps[1].TopK[1]
	other := run([]int{own.Steps[0].TokenID, alt.ID})
	if other.Steps[1].Token != alt.Token || other.Text == own.Text {
		t.Errorf("forcing %q as word 2: %q, want it there and a different translation from %q", alt.Token, other.Text, own.Text)
	}

	// A word typed by hand: its id comes from the model's word list, and
	// forcing it writes that word.
	res, err := http.Get(srv.URL + "/api/v1/models/en-de/words")
	if err != nil {
		t.Fatal(err)
	}
	var words web.WordsResponse
	if err := json.NewDecoder(res.Body).Decode(&words); err != nil || res.StatusCode != 200 {
		t.Fatalf("words: %d %v", res.StatusCode, err)
	}
	res.Body.Close()
	if words.Model != "en-de" || len(words.Words) < 1000 || words.Words[own.Steps[0].TokenID] != own.Steps[0].Token {
		t.Fatalf("en-de's words: %d of them, id %d is %q, want %q", len(words.Words), own.Steps[0].TokenID, words.Words[own.Steps[0].TokenID], own.Steps[0].Token)
	}
	typed := slices.Index(words.Words, "Fahrradfahrer")
	if typed < 0 {
		t.Fatal("no Fahrradfahrer in en-de's words")
	}
	if forced := run([]int{own.Steps[0].TokenID, typed}); forced.Steps[1].Token != "Fahrradfahrer" || !forced.Steps[1].Forced {
		t.Errorf("forcing the typed word: %q", forced.Text)
	}
	for _, tc := range []struct {
		path string
		code int
	}{{"/api/v1/models/xx-yy/words", 404}, {"/api/v1/models/en-fr/words", 200}} {
		res, err := http.Get(srv.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != tc.code {
			t.Errorf("GET %s: %d, want %d", tc.path, res.StatusCode, tc.code)
		}
	}
}
