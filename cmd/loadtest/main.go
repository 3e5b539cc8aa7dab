// Command loadtest opens many websocket sessions that translate at once and
// reports errors, time to first word and the gap between words. It starts
// its own server on loopback unless -url names one (loopback only).
//
//	go run ./cmd/loadtest -n 200 -rounds 3
//	go run ./cmd/loadtest -n 50 -soak 10m      # memory over time
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"net/url"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"attention/model"
	"attention/model/trained"
	"attention/web"
)

var sentences = []string{
	"A man in a blue shirt is riding a bike.",
	"Two dogs are playing in the snow.",
	"A little girl climbs into a wooden playhouse.",
	"A group of people are standing in front of a building.",
	"A woman is reading a book in the park.",
	"The children are playing football on the beach.",
}

type result struct {
	firstWord time.Duration
	gaps      []time.Duration
	err       error
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		target  = flag.String("url", "", "server to test, e.g. http://127.0.0.1:8080 (default: start one in this process)")
		n       = flag.Int("n", 200, "concurrent sessions")
		rounds  = flag.Int("rounds", 3, "translations per session")
		modelID = flag.String("model", "en-de", "model to ask for")
		soak    = flag.Duration("soak", 0, "keep the sessions translating this long, printing memory every 30 s")
	)
	flag.Parse()
	var memFn func() float64
	if *target == "" {
		models, err := trained.Translators("")
		if err != nil {
			return err
		}
		var ts []model.Translator
		for _, m := range models {
			ts = append(ts, m)
		}
		srv := httptest.NewServer(web.New(web.Config{Translators: ts, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
			AddrRate: 1e9, AddrBurst: 1e9}))
		defer srv.Close()
		*target = srv.URL
		memFn = func() float64 {
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			return float64(ms.HeapAlloc) / (1 << 20)
		}
	}
	u, err := url.Parse(*target)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(u.Hostname()); u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("refusing to load %s: only loopback addresses may be targeted", u.Host)
	}
	wsURL := "ws" + strings.TrimPrefix(*target, "http") + "/ws"

	ctx := context.Background()
	if *soak > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *soak)
		defer cancel()
	}
	results := make(chan result, 1024)
	var wg sync.WaitGroup
	start := time.Now()
	memStart := 0.0
	if memFn != nil {
		memStart = memFn()
	}
	for i := 0; i < *n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			session(ctx, wsURL, *modelID, i, *rounds, *soak > 0, results)
		}()
	}
	var all []result
	done := make(chan struct{})
	go func() {
		for r := range results {
			all = append(all, r)
		}
		close(done)
	}()
	if *soak > 0 {
		tick := time.NewTicker(30 * time.Second)
		go func() {
			for range tick.C {
				if memFn != nil {
					fmt.Printf("%6.0fs  heap %.1f MB  goroutines %d\n", time.Since(start).Seconds(), memFn(), runtime.NumGoroutine())
				}
			}
		}()
		defer tick.Stop()
	}
	wg.Wait()
	close(results)
	<-done

	var firsts, gaps []time.Duration
	errs := map[string]int{}
	for _, r := range all {
		if r.err != nil {
			errs[r.err.Error()]++
			continue
		}
		firsts = append(firsts, r.firstWord)
		gaps = append(gaps, r.gaps...)
	}
	elapsed := time.Since(start)
	fmt.Printf("sessions %d, translations completed %d, errors %d, in %s (%.1f translations/s), %d CPUs\n",
		*n, len(firsts), len(all)-len(firsts), elapsed.Round(time.Millisecond), float64(len(firsts))/elapsed.Seconds(), runtime.NumCPU())
	for e, k := range errs {
		fmt.Printf("  error x%d: %s\n", k, e)
	}
	fmt.Printf("time to first word: %s\n", pct(firsts))
	fmt.Printf("gap between words:  %s\n", pct(gaps))
	if memFn != nil {
		fmt.Printf("server heap: %.1f MB before, %.1f MB after\n", memStart, memFn())
	}
	if len(all) > len(firsts) {
		return errors.New("some translations failed")
	}
	return nil
}

func session(ctx context.Context, wsURL, modelID string, i, rounds int, forever bool, out chan<- result) {
	c, _, err := websocket.DefaultDialer.DialContext(ctx, wsURL, nil)
	if err != nil {
		out <- result{err: fmt.Errorf("dial: %w", err)}
		return
	}
	defer c.Close()
	for r := 0; forever || r < rounds; r++ {
		if ctx.Err() != nil {
			return
		}
		text := sentences[(i+r)%len(sentences)]
		req, _ := json.Marshal(map[string]any{"type": "translate", "v": 1,
			"payload": map[string]any{"id": fmt.Sprint(r), "text": text, "model": modelID, "beam": 1}})
		sent := time.Now()
		if err := c.WriteMessage(websocket.TextMessage, req); err != nil {
			out <- result{err: fmt.Errorf("write: %w", err)}
			return
		}
		res := result{}
		last := time.Time{}
		for {
			c.SetReadDeadline(time.Now().Add(2 * time.Minute))
			var m struct {
				Type    string          `json:"type"`
				Payload json.RawMessage `json:"payload"`
			}
			if err := c.ReadJSON(&m); err != nil {
				out <- result{err: fmt.Errorf("read: %w", err)}
				return
			}
			now := time.Now()
			if m.Type == "step" {
				if last.IsZero() {
					res.firstWord = now.Sub(sent)
				} else {
					res.gaps = append(res.gaps, now.Sub(last))
				}
				last = now
			}
			if m.Type == "error" {
				res.err = fmt.Errorf("server error: %s", m.Payload)
				break
			}
			if m.Type == "done" {
				break
			}
		}
		out <- res
	}
}

func pct(d []time.Duration) string {
	if len(d) == 0 {
		return "no samples"
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	at := func(p float64) time.Duration {
		return d[min(len(d)-1, int(p*float64(len(d))))].Round(100 * time.Microsecond)
	}
	return fmt.Sprintf("p50 %s  p95 %s  p99 %s  (n=%d)", at(0.50), at(0.95), at(0.99), len(d))
}
