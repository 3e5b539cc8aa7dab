package web_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"attention/web"
	"attention/web/classroom"
)

func startHub(t *testing.T, cfg classroom.Config) *classroom.Hub {
	t.Helper()
	h, err := classroom.Start(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// replica is one server of several sharing a NATS.
type replica struct {
	hub *classroom.Hub
	srv *httptest.Server
}

func startReplica(t *testing.T, nats string) *replica {
	t.Helper()
	r := &replica{hub: startHub(t, classroom.Config{URL: nats})}
	r.srv = newServerWith(t, web.Config{Classes: r.hub})
	t.Cleanup(r.stop)
	return r
}

// stop ends the replica as a restart would: its connections drop.
func (r *replica) stop() {
	if r.srv == nil {
		return
	}
	r.srv.CloseClientConnections()
	r.srv.Close()
	r.hub.Close()
	r.srv = nil
}

// openClass opens a class on page in lang from connection c and returns
// the server's class_opened.
func openClass(t *testing.T, c *websocket.Conn, page, lang string) web.ClassOpenedPayload {
	t.Helper()
	send(t, c, `{"type":"class_open","v":1,"payload":{"page":"`+page+`","lang":"`+lang+`"}}`)
	var opened web.ClassOpenedPayload
	json.Unmarshal(next(t, c, web.MsgClassOpened), &opened)
	return opened
}

// next reads messages until one of type typ, skipping follower counts.
func next(t *testing.T, c *websocket.Conn, typ string) json.RawMessage {
	t.Helper()
	for {
		m := read(t, c)
		if m.Type == typ {
			return m.Payload
		}
		if m.Type != web.MsgClassFollowers {
			t.Fatalf("want %s, got %s: %s", typ, m.Type, m.Payload)
		}
	}
}

func classEvent(t *testing.T, c *websocket.Conn) classroom.Event {
	t.Helper()
	var ev classroom.Event
	if err := json.Unmarshal(next(t, c, web.MsgClassEvent), &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

// A class across two replicas sharing one NATS (a separate node, as an
// external NATS would be): the teacher on A, a student on B gets the
// teacher's decode once, as the teacher got it; B restarts and the
// student, back, gets the class's last input and step; A restarts and the
// teacher takes the class back with its secret on B.
func TestClassAcrossReplicas(t *testing.T) {
	node := startHub(t, classroom.Config{Listen: "127.0.0.1:0"})
	t.Cleanup(node.Close)
	if node.URL() == "" {
		t.Fatal("the NATS node opened no port")
	}
	a, b := startReplica(t, node.URL()), startReplica(t, node.URL())

	teacher := dial(t, a.srv)
	opened := openClass(t, teacher, "translate", "en")
	if len(opened.Code) != classroom.CodeLen || opened.Secret == "" || !strings.HasPrefix(opened.QR, "data:image/png;base64,") ||
		!strings.HasSuffix(opened.JoinURL, "/join?code="+opened.Code) {
		t.Fatalf("opened: %+v", opened)
	}

	student := dial(t, b.srv)
	send(t, student, `{"type":"class_join","v":1,"payload":{"code":"`+strings.ToLower(opened.Code)+`"}}`)
	var st classroom.State
	json.Unmarshal(next(t, student, web.MsgClassState), &st)
	if st.Code != opened.Code || st.Page != "translate" || st.Source != nil {
		t.Fatalf("state on joining an empty class: %+v", st)
	}
	var count web.ClassFollowersPayload
	json.Unmarshal(next(t, teacher, web.MsgClassFollowers), &count)
	if count.N != 1 {
		t.Errorf("the teacher sees %d followers, want 1", count.N)
	}

	_, steps, done := translateWS(t, teacher, "r1", "Two dogs are playing in the snow.")
	if ev := classEvent(t, student); ev.Kind != classroom.KindSource {
		t.Fatalf("first event %+v, want the source", ev)
	}
	for i, want := range steps {
		ev := classEvent(t, student)
		var got web.StepPayload
		json.Unmarshal(ev.Data, &got)
		if ev.Kind != classroom.KindStep || got.Step.Token != want.Step.Token || !slices.Equal(got.Step.Attention, want.Step.Attention) {
			t.Fatalf("step %d: the student got %s %+v, the teacher %+v", i, ev.Kind, got.Step, want.Step)
		}
	}
	var gotDone web.DonePayload
	if ev := classEvent(t, student); ev.Kind != classroom.KindDone || json.Unmarshal(ev.Data, &gotDone) != nil || gotDone.Text != done.Text {
		t.Fatalf("done: %+v, want %q", ev, done.Text)
	}
	send(t, teacher, `{"type":"class_view","v":1,"payload":{"view":{"step":2}}}`)
	if ev := classEvent(t, student); ev.Kind != classroom.KindView || string(ev.Data) != `{"step":2}` {
		t.Fatalf("view: %+v", ev)
	}

	// The student's replica restarts; the student comes back to the new one.
	b.stop()
	b = startReplica(t, node.URL())
	student = dial(t, b.srv)
	send(t, student, `{"type":"class_join","v":1,"payload":{"code":"`+opened.Code+`"}}`)
	json.Unmarshal(next(t, student, web.MsgClassState), &st)
	if st.Source == nil || len(st.Steps) != len(steps) || st.Done == nil || string(st.View) != `{"step":2}` {
		t.Fatalf("back after a restart: %d steps, view %s, source %s; want %d steps and the view", len(st.Steps), st.View, st.Source, len(steps))
	}

	// The teacher's replica restarts; the teacher resumes on B.
	a.stop()
	teacher = dial(t, b.srv)
	send(t, teacher, `{"type":"class_resume","v":1,"payload":{"code":"`+opened.Code+`","secret":"`+opened.Secret+`","page":"translate","lang":"en"}}`)
	var resumed web.ClassOpenedPayload
	json.Unmarshal(next(t, teacher, web.MsgClassOpened), &resumed)
	if resumed.Code != opened.Code || resumed.Secret != "" {
		t.Fatalf("resumed: %+v", resumed)
	}
	translateWS(t, teacher, "r2", "A man is riding a bike.")
	if ev := classEvent(t, student); ev.Kind != classroom.KindSource || !strings.Contains(string(ev.Data), `"r2"`) {
		t.Fatalf("after the teacher came back: %+v", ev)
	}
	send(t, teacher, `{"type":"class_close","v":1,"payload":{}}`)
	next(t, teacher, web.MsgClassClosed)
	for {
		if ev := classEvent(t, student); ev.Kind == classroom.KindClosed {
			break
		}
	}
	send(t, student, `{"type":"class_join","v":1,"payload":{"code":"`+opened.Code+`"}}`)
	if e := wsError(t, read(t, student)); e.Code != web.ENotFound {
		t.Errorf("joining a closed class: %+v", e)
	}
}

// Every bad classroom message gets a clear error, and so does the join
// page; failed codes are rate-limited per address.
func TestClassErrors(t *testing.T) {
	hub := startHub(t, classroom.Config{})
	t.Cleanup(hub.Close)
	srv := newServerWith(t, web.Config{Classes: hub})
	c := dial(t, srv)
	for _, tc := range []struct{ msg, code, says string }{
		{`{"type":"class_join","v":1,"payload":{"code":"K7P"}}`, web.EInvalid, "6 letters"},
		{`{"type":"class_join","v":1,"payload":{"code":"AAAAAA"}}`, web.ENotFound, "no class"},
		{`{"type":"class_view","v":1,"payload":{"view":{"step":1}}}`, web.EInvalid, "open a class"},
		{`{"type":"class_close","v":1,"payload":{}}`, web.EInvalid, "no class open"},
		{`{"type":"class_open","v":1,"payload":{"page":"admin","lang":"en"}}`, web.EInvalid, "page"},
		{`{"type":"class_open","v":1,"payload":{"page":"translate","lang":"xx"}}`, web.EInvalid, "language"},
		{`{"type":"class_resume","v":1,"payload":{"code":"AAAAAA","secret":"x","page":"translate","lang":"en"}}`, web.ENotFound, "no class"},
		{`{"type":"class_join","v":1,"payload":{"code":"AAAAAA","extra":1}}`, web.EBadMessage, "extra"},
		{`{"type":"class_view","v":1,"payload":{"view":"` + strings.Repeat("x", 5000) + `"}}`, web.ETooLarge, "4 KiB"},
	} {
		send(t, c, tc.msg)
		if e := wsError(t, read(t, c)); e.Code != tc.code || !strings.Contains(e.Message, tc.says) {
			t.Errorf("%.60s: %+v, want %s saying %q", tc.msg, e, tc.code, tc.says)
		}
	}

	// Someone else's class: not without its secret; a view over the limit.
	teacher := dial(t, srv)
	opened := openClass(t, teacher, "caption", "ko")
	// A wrong key is answered as a code that names no class, so resuming
	// tells no one which codes are in use.
	send(t, c, `{"type":"class_resume","v":1,"payload":{"code":"`+opened.Code+`","secret":"guess","page":"caption","lang":"ko"}}`)
	if e := wsError(t, read(t, c)); e.Code != web.ENotFound || !strings.Contains(e.Message, "no class with that code and key") {
		t.Errorf("resume without the secret: %+v, want not_found", e)
	}
	send(t, teacher, `{"type":"class_view","v":1,"payload":{"view":{"pad":"`+strings.Repeat("x", 1100)+`"}}}`)
	if e := wsError(t, wsMsg{Type: web.MsgError, V: 1, Payload: next(t, teacher, web.MsgError)}); e.Code != web.EInvalid || !strings.Contains(e.Message, "1024") {
		t.Errorf("an oversized view: %+v", e)
	}

	// The join page: a good code goes to the teacher's page and language.
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := noRedirect.Get(srv.URL + "/join?code=" + strings.ToLower(opened.Code[:3]+"-"+opened.Code[3:]))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || loc != "/caption?class="+opened.Code+"&lang=ko" {
		t.Errorf("join with a good code: %d to %q", res.StatusCode, loc)
	}
	for _, tc := range []struct {
		code string
		want int
	}{{"", http.StatusOK}, {"K7P3Q0", http.StatusBadRequest}, {"AAAAAA", http.StatusNotFound}} {
		res, err := http.Get(srv.URL + "/join?code=" + tc.code)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != tc.want || !strings.Contains(string(body), `id="code"`) {
			t.Errorf("join %q: %d, want %d and the form again", tc.code, res.StatusCode, tc.want)
		}
	}
	// Guessing: after a burst of codes that did not work from one address,
	// even a good one waits, and says why.
	last := 0
	for range 25 {
		res, err := http.Get(srv.URL + "/join?code=BBBBBB")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		last = res.StatusCode
	}
	if last != http.StatusTooManyRequests {
		t.Errorf("the 25th wrong code: %d, want 429", last)
	}
	c2 := dial(t, srv)
	send(t, c2, `{"type":"class_join","v":1,"payload":{"code":"`+opened.Code+`"}}`)
	if e := wsError(t, read(t, c2)); e.Code != web.ERateLimited || !strings.Contains(e.Message, "codes that did not work") {
		t.Errorf("a good code after 25 wrong ones: %+v, want rate_limited", e)
	}
	send(t, c2, `{"type":"class_resume","v":1,"payload":{"code":"`+opened.Code+`","secret":"guess","page":"caption","lang":"ko"}}`)
	if e := wsError(t, read(t, c2)); e.Code != web.ERateLimited {
		t.Errorf("a resume after 25 wrong codes: %+v, want rate_limited", e)
	}
}

// A whole class joins from one address (a school's network) at once: the
// per-address request limit does not turn students away.
func TestClassJoinsFromOneAddress(t *testing.T) {
	hub := startHub(t, classroom.Config{})
	t.Cleanup(hub.Close)
	srv := newServerWith(t, web.Config{Classes: hub, AddrRate: 1, AddrBurst: 2})
	teacher := dial(t, srv)
	opened := openClass(t, teacher, "translate", "en")
	for i := range 12 {
		c := dial(t, srv)
		send(t, c, `{"type":"class_join","v":1,"payload":{"code":"`+opened.Code+`"}}`)
		if m := read(t, c); m.Type != web.MsgClassState {
			t.Fatalf("student %d of 12 from one address: %s %s, want class_state", i+1, m.Type, m.Payload)
		}
	}
	// Decoding is still held to the address's limit.
	c := dial(t, srv)
	limited := false
	for i := range 6 {
		send(t, c, fmt.Sprintf(`{"type":"translate","v":1,"payload":{"id":"r%d","text":"A dog runs.","model":"en-de"}}`, i))
	}
	for range 6 {
		m := read(t, c)
		for m.Type != web.MsgError && m.Type != web.MsgDone {
			m = read(t, c)
		}
		if m.Type == web.MsgError && wsError(t, m).Code == web.ERateLimited {
			limited = true
		}
	}
	if !limited {
		t.Error("six translations at once from an address allowed two: none was refused")
	}
}

// Without classes the messages say so, and the join page too.
func TestClassesOff(t *testing.T) {
	srv := newServer(t)
	c := dial(t, srv)
	send(t, c, `{"type":"class_open","v":1,"payload":{"page":"translate","lang":"en"}}`)
	if e := wsError(t, read(t, c)); e.Code != web.EUnavailable || !strings.Contains(e.Message, "classes are off") {
		t.Errorf("class_open without classes: %+v", e)
	}
	res, err := http.Get(srv.URL + "/join?code=K7P3QX")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(body), "does not run classes") {
		t.Errorf("join page without classes: %d %.200s", res.StatusCode, body)
	}
}

// A class left idle past its limit ends: the teacher's next move is
// answered by class_closed "expired", and the code does not come back.
func TestClassExpiredTellsTeacher(t *testing.T) {
	hub := startHub(t, classroom.Config{Idle: time.Second})
	t.Cleanup(hub.Close)
	srv := newServerWith(t, web.Config{Classes: hub})
	teacher := dial(t, srv)
	opened := openClass(t, teacher, "translate", "en")
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := hub.Lookup(context.Background(), opened.Code); errors.Is(err, classroom.ErrNoClass) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the class did not expire")
		}
		time.Sleep(100 * time.Millisecond)
	}
	send(t, teacher, `{"type":"class_view","v":1,"payload":{"view":{"step":2}}}`)
	var closed web.ClassClosedPayload
	json.Unmarshal(next(t, teacher, web.MsgClassClosed), &closed)
	if closed.Code != opened.Code || closed.Reason != "expired" {
		t.Errorf("class_closed %+v, want %s expired", closed, opened.Code)
	}
	if _, err := hub.Lookup(context.Background(), opened.Code); !errors.Is(err, classroom.ErrNoClass) {
		t.Errorf("the expired class came back: %v", err)
	}
	// The connection teaches nothing now.
	send(t, teacher, `{"type":"class_view","v":1,"payload":{"view":{"step":3}}}`)
	if e := wsError(t, wsMsg{Type: web.MsgError, V: 1, Payload: next(t, teacher, web.MsgError)}); e.Code != web.EInvalid {
		t.Errorf("a view after the class expired: %+v", e)
	}
}

// The join link and QR code use the server's public address when it has
// one; a link that names this machine only (loopback) is flagged, so the
// page can say that students' phones cannot open it.
func TestClassJoinURL(t *testing.T) {
	hub := startHub(t, classroom.Config{})
	t.Cleanup(hub.Close)
	for _, tc := range []struct {
		public, prefix string
		loopback       bool
	}{
		{"", "http://127.0.0.1:", true},
		{"http://192.168.1.20:8080/", "http://192.168.1.20:8080/join?code=", false},
		{"https://attention.example", "https://attention.example/join?code=", false},
	} {
		srv := newServerWith(t, web.Config{Classes: hub, PublicURL: tc.public})
		c := dial(t, srv)
		opened := openClass(t, c, "translate", "en")
		if !strings.HasPrefix(opened.JoinURL, tc.prefix) || !strings.HasSuffix(opened.JoinURL, "/join?code="+opened.Code) || opened.Loopback != tc.loopback {
			t.Errorf("public URL %q: join_url %q loopback %v, want %q... loopback %v", tc.public, opened.JoinURL, opened.Loopback, tc.prefix, tc.loopback)
		}
	}
}
