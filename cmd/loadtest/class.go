package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"attention/model/trained"
	"attention/web"
	"attention/web/classroom"
)

// classTest is the class scenario: one teacher, n followers (slow of
// them never reading), rounds translations, each then stepped through
// word by word at the "watch" pace. It measures how long the teacher's
// words and steps take to reach the followers.
type classTest struct {
	target        string
	n, slow       int
	rounds        int
	modelID       string
	maxP99        time.Duration
	pace          time.Duration   // between the teacher's steps
	wordDelays    []time.Duration // teacher's client has the word -> a follower has it
	viewDelays    []time.Duration // teacher sends a step -> a follower has it
	mu            sync.Mutex
	joined, fails atomic.Int64
	dropped       atomic.Int64
}

type wsIn struct {
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload"`
}

func runClass(target string, n, slow, rounds int, modelID string, maxP99, pace time.Duration) error {
	if target == "" {
		models, err := trained.Load("")
		if err != nil {
			return err
		}
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		hub, err := classroom.Start(classroom.Config{}, log)
		if err != nil {
			return err
		}
		defer hub.Close()
		cfg := web.Config{Logger: log, Classes: hub} // the limits a server has by default: a class shares one address here
		for _, m := range models.Translators {
			cfg.Translators = append(cfg.Translators, m)
		}
		srv := httptest.NewServer(web.New(cfg))
		defer srv.Close()
		target = srv.URL
	}
	if err := loopbackOnly(target); err != nil {
		return err
	}
	ct := &classTest{target: "ws" + strings.TrimPrefix(target, "http") + "/ws", n: n, slow: slow, rounds: rounds, modelID: modelID, maxP99: maxP99, pace: pace}
	return ct.run()
}

func (ct *classTest) run() error {
	teacher, _, err := websocket.DefaultDialer.Dial(ct.target, nil)
	if err != nil {
		return fmt.Errorf("teacher: %w", err)
	}
	defer teacher.Close()
	write := func(typ string, payload any) error {
		b, _ := json.Marshal(map[string]any{"type": typ, "v": 1, "payload": payload})
		return teacher.WriteMessage(websocket.TextMessage, b)
	}
	if err := write("class_open", map[string]string{"page": "translate", "lang": "en"}); err != nil {
		return err
	}
	var opened web.ClassOpenedPayload
	if err := readUntil(teacher, web.MsgClassOpened, &opened); err != nil {
		return err
	}

	// The teacher's words, by request id and index, as its client got them.
	var seenMu sync.Mutex
	seen := map[string]time.Time{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	ready := make(chan struct{}, ct.n)
	for i := 0; i < ct.n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ct.follow(ctx, opened.Code, i < ct.slow, ready, func(key string) (time.Time, bool) {
				seenMu.Lock()
				defer seenMu.Unlock()
				at, ok := seen[key]
				return at, ok
			})
		}()
	}
	for range ct.n {
		<-ready
	}
	fmt.Printf("class %s: %d followers joined (%d of them never read), %d failed to join\n", opened.Code, ct.joined.Load(), ct.slow, ct.fails.Load())

	start := time.Now()
	for r := 0; r < ct.rounds; r++ {
		id := fmt.Sprintf("t%d", r)
		if err := write("translate", map[string]any{"id": id, "text": sentences[r%len(sentences)], "model": ct.modelID, "beam": 1}); err != nil {
			return err
		}
		words := 0
		for {
			var m wsIn
			teacher.SetReadDeadline(time.Now().Add(time.Minute))
			if err := teacher.ReadJSON(&m); err != nil {
				return fmt.Errorf("teacher: %w", err)
			}
			if m.Type == web.MsgStep {
				seenMu.Lock()
				seen[fmt.Sprintf("%s/%d", id, words)] = time.Now()
				seenMu.Unlock()
				words++
			}
			if m.Type == web.MsgError {
				return fmt.Errorf("teacher: %s", m.Payload)
			}
			if m.Type == web.MsgDone {
				break
			}
		}
		// The teacher steps through the words (300 ms: the "watch" pace).
		for k := 0; k < words; k++ {
			if err := write("class_view", map[string]any{"view": map[string]any{"step": k, "sent_ns": time.Now().UnixNano()}}); err != nil {
				return err
			}
			time.Sleep(ct.pace)
		}
	}
	time.Sleep(time.Second) // the last view's deliveries
	elapsed := time.Since(start)
	cancel()
	teacher.Close()
	wg.Wait()

	fmt.Printf("followers %d, rounds %d, in %s, %d CPUs\n", ct.n, ct.rounds, elapsed.Round(time.Millisecond), runtime.NumCPU())
	fmt.Printf("  teacher's word reaches a follower:  %s\n", pct(ct.wordDelays))
	fmt.Printf("  teacher's step reaches a follower:  %s\n", pct(ct.viewDelays))
	if ct.slow > 0 {
		fmt.Printf("  followers that never read, dropped by the server: %d of %d\n", ct.dropped.Load(), ct.slow)
	}
	if ct.fails.Load() > 0 {
		return errors.New("some followers could not join")
	}
	if p := max(p99(ct.wordDelays), p99(ct.viewDelays)); ct.maxP99 > 0 && p > ct.maxP99 {
		return fmt.Errorf("p99 delay to a follower %s is over %s", p, ct.maxP99)
	}
	return nil
}

// follow joins the class and, unless slow, reads its events, timing each
// word against the teacher's client and each view against its send time.
func (ct *classTest) follow(ctx context.Context, code string, slow bool, ready chan<- struct{}, teacherAt func(string) (time.Time, bool)) {
	dialer := *websocket.DefaultDialer
	if slow {
		nd := &net.Dialer{Control: smallReceiveBuffer}
		dialer.NetDialContext = nd.DialContext
	}
	c, _, err := dialer.DialContext(ctx, ct.target, nil)
	if err != nil {
		ct.fails.Add(1)
		ready <- struct{}{}
		return
	}
	defer c.Close()
	if !slow {
		go func() {
			<-ctx.Done()
			c.Close()
		}()
	}
	b, _ := json.Marshal(map[string]any{"type": "class_join", "v": 1, "payload": map[string]string{"code": code}})
	var st classroom.State
	if c.WriteMessage(websocket.TextMessage, b) != nil || readUntil(c, web.MsgClassState, &st) != nil {
		ct.fails.Add(1)
		ready <- struct{}{}
		return
	}
	ct.joined.Add(1)
	ready <- struct{}{}
	if slow {
		// Never reads until the end: the server must drop it, not wait
		// for it. A drop shows as the connection's end once it reads;
		// a follower still connected reads until its deadline.
		<-ctx.Done()
		c.SetReadDeadline(time.Now().Add(15 * time.Second)) // past the server's write deadline
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				var ne net.Error
				if !errors.As(err, &ne) || !ne.Timeout() {
					ct.dropped.Add(1)
				}
				return
			}
		}
	}
	var words, views []time.Duration
	defer func() {
		ct.mu.Lock()
		ct.wordDelays = append(ct.wordDelays, words...)
		ct.viewDelays = append(ct.viewDelays, views...)
		ct.mu.Unlock()
	}()
	index := map[string]int{}
	for {
		var m wsIn
		if err := c.ReadJSON(&m); err != nil {
			return
		}
		now := time.Now()
		if m.Type != web.MsgClassEvent {
			continue
		}
		var ev classroom.Event
		if json.Unmarshal(m.Payload, &ev) != nil {
			continue
		}
		switch ev.Kind {
		case classroom.KindStep:
			var sp web.StepPayload
			json.Unmarshal(ev.Data, &sp)
			key := fmt.Sprintf("%s/%d", sp.ID, index[sp.ID])
			index[sp.ID]++
			if at, ok := teacherAt(key); ok {
				words = append(words, max(0, now.Sub(at)))
			} else {
				words = append(words, 0) // here before the teacher's own client had it
			}
		case classroom.KindView:
			var v struct {
				SentNS int64 `json:"sent_ns"`
			}
			if json.Unmarshal(ev.Data, &v) == nil && v.SentNS > 0 {
				views = append(views, now.Sub(time.Unix(0, v.SentNS)))
			}
		}
	}
}

// readUntil reads c until a message of type typ, decoding its payload
// into v; an error message first is returned as an error.
func readUntil(c *websocket.Conn, typ string, v any) error {
	for {
		var m wsIn
		c.SetReadDeadline(time.Now().Add(30 * time.Second))
		if err := c.ReadJSON(&m); err != nil {
			return err
		}
		c.SetReadDeadline(time.Time{})
		if m.Type == typ {
			return json.Unmarshal(m.Payload, v)
		}
		if m.Type == web.MsgError {
			return fmt.Errorf("server: %s", m.Payload)
		}
	}
}

func p99(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, int(0.99*float64(len(s))))]
}
