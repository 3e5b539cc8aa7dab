package classroom

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func start(t *testing.T, cfg Config) *Hub {
	t.Helper()
	h, err := Start(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	return h
}

func TestNormalizeCode(t *testing.T) {
	for in, want := range map[string]string{"k7p3qx": "K7P3QX", "K7P-3QX": "K7P3QX", " k7p 3qx ": "K7P3QX"} {
		if got, err := NormalizeCode(in); err != nil || got != want {
			t.Errorf("NormalizeCode(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "K7P3Q", "K7P3QXX", "K7P3Q0", "KIP3QX", "K7P3Q!", strings.Repeat("A", 1000)} {
		if _, err := NormalizeCode(in); !errors.Is(err, ErrBadCode) {
			t.Errorf("NormalizeCode(%q): %v, want ErrBadCode", in, err)
		}
	}
	for range 100 {
		c := newCode()
		if n, err := NormalizeCode(c); err != nil || n != c {
			t.Fatalf("new code %q does not read back: %v", c, err)
		}
	}
}

// events collects what a follower is sent.
type events chan Event

func (e events) deliver(b []byte) bool {
	var ev Event
	if json.Unmarshal(b, &ev) != nil {
		return false
	}
	select {
	case e <- ev:
		return true
	default:
		return false // not keeping up
	}
}

func (e events) next(t *testing.T) Event {
	t.Helper()
	select {
	case ev := <-e:
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no event")
		return Event{}
	}
}

// A class from open to close: a follower who joins mid-decode gets the
// state so far and then every later event once, in order; the teacher
// sees the follower counted; a reconnecting teacher needs the secret;
// after close the code no longer works.
func TestClassLifecycle(t *testing.T) {
	h := start(t, Config{})
	ctx := context.Background()
	counts := make(chan int, 16)
	teacher, secret, err := h.Open(ctx, "translate", "en", func(n int) { counts <- n })
	if err != nil {
		t.Fatal(err)
	}
	defer teacher.Leave()
	code := teacher.Code()
	publish := func(kind, data string) {
		t.Helper()
		if err := teacher.Publish(kind, json.RawMessage(data)); err != nil {
			t.Fatal(err)
		}
	}
	publish(KindSource, `{"id":"r0"}`)
	publish(KindTree, `{"level":0,"old":true}`)
	publish(KindSource, `{"id":"r1"}`) // a new input: the old one's tree goes
	publish(KindTree, `{"level":0}`)
	publish(KindStep, `{"i":0}`)

	got := make(events, 16)
	f, st, err := h.Join(ctx, strings.ToLower(code), got.deliver)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Leave()
	f.Start()
	if st.Code != code || st.Page != "translate" || st.Seq != 5 || string(st.Source) != `{"id":"r1"}` || len(st.Steps) != 1 ||
		len(st.Trees) != 1 || string(st.Trees[0]) != `{"level":0}` {
		t.Fatalf("state on joining: %+v", st)
	}
	if n := <-counts; n != 1 {
		t.Errorf("teacher counts %d followers, want 1", n)
	}
	publish(KindStep, `{"i":1}`)
	publish(KindView, `{"step":1}`)
	if ev := got.next(t); ev.Seq != 6 || ev.Kind != KindStep || string(ev.Data) != `{"i":1}` {
		t.Errorf("first event after joining: %+v", ev)
	}
	if ev := got.next(t); ev.Seq != 7 || ev.Kind != KindView {
		t.Errorf("second event: %+v", ev)
	}

	// Resuming: only with the secret.
	if _, err := h.Resume(ctx, code, "guess", "translate", "en", nil); !errors.Is(err, ErrNotYours) {
		t.Errorf("resume with a wrong secret: %v", err)
	}
	again, err := h.Resume(ctx, code, secret, "caption", "ko", nil)
	if err != nil {
		t.Fatal(err)
	}
	if ev := got.next(t); ev.Kind != KindPage || !strings.Contains(string(ev.Data), `"caption"`) {
		t.Errorf("a teacher back on another page: %+v", ev)
	}
	if err := again.Close(); err != nil {
		t.Fatal(err)
	}
	if ev := got.next(t); ev.Kind != KindClosed {
		t.Errorf("after close: %+v", ev)
	}
	if _, _, err := h.Join(ctx, code, got.deliver); !errors.Is(err, ErrNoClass) {
		t.Errorf("joining a closed class: %v", err)
	}
	if _, _, err := h.Join(ctx, "AAAAAA", got.deliver); !errors.Is(err, ErrNoClass) {
		t.Errorf("joining a class never opened: %v", err)
	}
}

// A class whose teacher is silent for the idle limit expires.
func TestClassExpires(t *testing.T) {
	h := start(t, Config{Idle: time.Second})
	ctx := context.Background()
	teacher, _, err := h.Open(ctx, "caption", "en", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer teacher.Leave()
	if _, err := h.Lookup(ctx, teacher.Code()); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := h.Lookup(ctx, teacher.Code())
		if errors.Is(err, ErrNoClass) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("class still there after its idle limit: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// The teacher's next event does not open it again under the same code.
	if err := teacher.Publish(KindView, json.RawMessage(`{"step":1}`)); !errors.Is(err, ErrNoClass) {
		t.Errorf("publishing to an expired class: %v, want ErrNoClass", err)
	}
	if _, err := h.Lookup(ctx, teacher.Code()); !errors.Is(err, ErrNoClass) {
		t.Errorf("the expired class came back: %v", err)
	}
}

// A teacher who reloaded (a second Teacher on the same class) and the old
// connection can both still write: the newest state wins, nothing fails.
func TestResumedTeacherWrites(t *testing.T) {
	h := start(t, Config{})
	ctx := context.Background()
	first, secret, err := h.Open(ctx, "translate", "en", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Leave()
	second, err := h.Resume(ctx, first.Code(), secret, "translate", "en", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Leave()
	for i, tc := range []*Teacher{second, first, second} {
		view := json.RawMessage(fmt.Sprintf(`{"step":%d}`, i))
		if err := tc.Publish(KindView, view); err != nil {
			t.Fatalf("publish %d: %v", i, err)
		}
		st, err := h.Lookup(ctx, first.Code())
		if err != nil {
			t.Fatal(err)
		}
		if string(st.View) != string(view) {
			t.Errorf("after publish %d the class's view is %s, want %s", i, st.View, view)
		}
	}
}

// A follower that does not keep up is dropped; the others get every event.
func TestSlowFollowerDropped(t *testing.T) {
	h := start(t, Config{})
	ctx := context.Background()
	teacher, _, err := h.Open(ctx, "translate", "en", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer teacher.Leave()
	slow := make(events) // never read: every delivery fails
	fs, _, err := h.Join(ctx, teacher.Code(), slow.deliver)
	if err != nil {
		t.Fatal(err)
	}
	defer fs.Leave()
	fs.Start()
	fast := make(events, 64)
	ff, _, err := h.Join(ctx, teacher.Code(), fast.deliver)
	if err != nil {
		t.Fatal(err)
	}
	defer ff.Leave()
	ff.Start()
	for i := range 20 {
		if err := teacher.Publish(KindStep, json.RawMessage(fmt.Sprintf(`{"i":%d}`, i))); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 20 {
		if ev := fast.next(t); ev.Seq != uint64(i+1) {
			t.Fatalf("event %d has seq %d", i, ev.Seq)
		}
	}
	ended := func() bool {
		fs.mu.Lock()
		defer fs.mu.Unlock()
		return fs.ended
	}
	for deadline := time.Now().Add(2 * time.Second); !ended() && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if !ended() {
		t.Error("the follower that never read is still following")
	}
}
