// Command loadtest opens many websocket sessions that translate (and some
// caption a photo) at once and reports errors, time to first word and the
// gap between words. It starts its own server on loopback unless -url
// names one (loopback only).
//
//	go run ./cmd/loadtest -n 200 -rounds 3
//	go run ./cmd/loadtest -n 200 -soak 10m     # memory over time
//
// -scenario runs one of the hostile clients of attack.go instead, against
// cmd/web started in its own process (or -url with -pid):
//
//	go run ./cmd/loadtest -scenario big-rejected
//	go run ./cmd/loadtest -scenario conn-flood -n 25000
//	go run ./cmd/loadtest -scenario fragment-hold
//	go run ./cmd/loadtest -scenario burst
//
// -scenario class opens a class: one teacher translating and stepping
// through the words, -n followers (-slow of them never reading), and
// reports how long the teacher's words and steps take to reach them:
//
//	go run ./cmd/loadtest -scenario class -n 300 -rounds 5 -slow 10 -max-p99 200ms
package main

import (
	"context"
	"encoding/base64"
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
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"attention/model/caption"
	"attention/model/mobilenet"
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
	caption   bool
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
		every   = flag.Int("caption-every", 10, "every k-th session captions a photo instead of translating (0: none)")
		photo   = flag.String("image", filepath.Join("static", "examples", "chelsea.jpg"), "photo the captioning sessions send")
		encPath = flag.String("encoder-weights", filepath.Join("..", "shared", "data", "weights", mobilenet.WeightsFile), "the image encoder, for the in-process server")
		scen    = flag.String("scenario", "stream", "stream (the sessions above), class (a teacher and -n followers), or an attack: big-rejected, conn-flood, fragment-hold, burst, image-bombs")
		pid     = flag.Int("pid", 0, "with -url and an attack scenario: the server's process id, to read its memory")
		srvArgs = flag.String("server-args", "", "with an attack scenario and no -url: more flags for cmd/web, space-separated")
		slow    = flag.Int("slow", 0, "class scenario: followers that never read")
		pace    = flag.Duration("pace", 300*time.Millisecond, "class scenario: time between the teacher's steps through each translation")
		maxP99  = flag.Duration("max-p99", 0, "class scenario: fail when a follower gets the teacher's words or steps later than this (p99; 0: report only)")
	)
	flag.Parse()
	if *scen == "class" {
		return runClass(*target, *n, *slow, *rounds, *modelID, *maxP99, *pace)
	}
	if *scen != "stream" {
		nSet := false
		flag.Visit(func(f *flag.Flag) { nSet = nSet || f.Name == "n" })
		attackN := 0
		if nSet {
			attackN = *n
		}
		if *target != "" {
			if err := loopbackOnly(*target); err != nil {
				return err
			}
		}
		return runAttack(*scen, attackN, *target, *pid, *encPath, strings.Fields(*srvArgs))
	}
	var image []byte
	if *every > 0 {
		var err error
		if image, err = os.ReadFile(*photo); err != nil {
			return err
		}
	}
	var memFn func() float64
	if *target == "" {
		models, err := trained.Load("")
		if err != nil {
			return err
		}
		cfg := web.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), AddrRate: 1e9, AddrBurst: 1e9}
		for _, m := range models.Translators {
			cfg.Translators = append(cfg.Translators, m)
		}
		if *every > 0 {
			b, err := os.ReadFile(*encPath)
			if err != nil {
				return fmt.Errorf("%w (pass -encoder-weights, or -caption-every 0 to translate only)", err)
			}
			if cfg.Captioners, err = caption.Pipelines(b, models.Captioners); err != nil {
				return err
			}
		}
		srv := httptest.NewServer(web.New(cfg))
		defer srv.Close()
		*target = srv.URL
		memFn = func() float64 {
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			return float64(ms.HeapAlloc) / (1 << 20)
		}
	}
	if err := loopbackOnly(*target); err != nil {
		return err
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
			var img []byte
			if *every > 0 && i%*every == *every-1 {
				img = image
			}
			session(ctx, wsURL, *modelID, img, i, *rounds, *soak > 0, results)
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

	elapsed := time.Since(start)
	failed := 0
	for _, kind := range []bool{false, true} {
		var firsts, gaps []time.Duration
		errs := map[string]int{}
		n := 0
		for _, r := range all {
			if r.caption != kind {
				continue
			}
			n++
			if r.err != nil {
				errs[r.err.Error()]++
				continue
			}
			firsts = append(firsts, r.firstWord)
			gaps = append(gaps, r.gaps...)
		}
		if n == 0 {
			continue
		}
		what := "translations"
		if kind {
			what = "captions"
		}
		failed += n - len(firsts)
		fmt.Printf("%s: completed %d, errors %d (%.1f/s)\n", what, len(firsts), n-len(firsts), float64(len(firsts))/elapsed.Seconds())
		for e, k := range errs {
			fmt.Printf("  error x%d: %s\n", k, e)
		}
		fmt.Printf("  time to first word: %s\n", pct(firsts))
		fmt.Printf("  gap between words:  %s\n", pct(gaps))
	}
	fmt.Printf("sessions %d, in %s, %d CPUs\n", *n, elapsed.Round(time.Millisecond), runtime.NumCPU())
	if memFn != nil {
		fmt.Printf("server heap: %.1f MB before, %.1f MB after\n", memStart, memFn())
	}
	if failed > 0 {
		return errors.New("some requests failed")
	}
	return nil
}

func loopbackOnly(target string) error {
	u, err := url.Parse(target)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(u.Hostname()); u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("refusing to load %s: only loopback addresses may be targeted", u.Host)
	}
	return nil
}

// session runs rounds requests on one socket: translations, or captions
// of img when it is not nil.
func session(ctx context.Context, wsURL, modelID string, img []byte, i, rounds int, forever bool, out chan<- result) {
	captioning := img != nil
	c, _, err := websocket.DefaultDialer.DialContext(ctx, wsURL, nil)
	if err != nil {
		out <- result{caption: captioning, err: fmt.Errorf("dial: %w", err)}
		return
	}
	defer c.Close()
	var photo string
	if captioning {
		photo = base64.StdEncoding.EncodeToString(img) // once: every round sends the same photo
	}
	for r := 0; forever || r < rounds; r++ {
		if ctx.Err() != nil {
			return
		}
		msg := map[string]any{"type": "translate", "v": 1,
			"payload": map[string]any{"id": fmt.Sprint(r), "text": sentences[(i+r)%len(sentences)], "model": modelID, "beam": 1}}
		if captioning {
			msg = map[string]any{"type": "caption", "v": 1, "payload": map[string]any{"id": fmt.Sprint(r), "image": photo, "beam": 1}}
		}
		req, _ := json.Marshal(msg)
		sent := time.Now()
		if err := c.WriteMessage(websocket.TextMessage, req); err != nil {
			out <- result{caption: captioning, err: fmt.Errorf("write: %w", err)}
			return
		}
		res := result{caption: captioning}
		last := time.Time{}
		for {
			c.SetReadDeadline(time.Now().Add(2 * time.Minute))
			var m struct {
				Type    string          `json:"type"`
				Payload json.RawMessage `json:"payload"`
			}
			if err := c.ReadJSON(&m); err != nil {
				out <- result{caption: captioning, err: fmt.Errorf("read: %w", err)}
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
