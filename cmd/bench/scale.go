package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"attention/model"
	"attention/model/translate"
	"attention/model/vocab"
	"attention/web"
)

// The scale row: scaleSessions websocket sessions, each translating one
// sentence after another, for scaleWindow (after scaleWarm of warm-up).
const (
	scaleSessions = 200
	scaleWindow   = 10 * time.Second
	scaleWarm     = 2 * time.Second
)

// scaleSentences are what the sessions translate, in turn.
var scaleSentences = []string{
	"A man in a blue shirt is riding a bike.",
	"Two dogs are playing in the snow.",
	"A little girl climbs into a wooden playhouse.",
	"A group of people are standing in front of a building.",
	"A woman is reading a book in the park.",
	"The children are playing football on the beach.",
}

// scaleStep is the part of a step message both servers send.
type scaleStep struct {
	TokenID   int       `json:"token_id"`
	Attention []float32 `json:"attention"`
}

// scaleLoad is what the clients of one server saw.
type scaleLoad struct {
	words  int             // step messages received inside the window
	gaps   []time.Duration // between two words of one translation, inside the window
	firsts []time.Duration // from a request to its first word, for requests sent inside the window
	err    error
}

// scaleRow runs scaleSessions sessions against our server (web.New, in
// this process) and against the PyTorch peer's asyncio server, after
// checking that both write the same words with the same attention for
// every sentence. Its unit is milliseconds per word over all sessions
// (lower is better, as in the other rows); the note has words a second
// and the gaps between two words that a client sees.
func scaleRow(ctx context.Context, o options, work string) (row, error) {
	r := row{Name: fmt.Sprintf("%d sessions translating, time per word", scaleSessions), Unit: "ms"}
	m, _, err := loadTranslator(o)
	if err != nil {
		return r, err
	}
	srv := httptest.NewServer(web.New(web.Config{Translators: []model.Translator{m},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), AddrRate: 1e9, AddrBurst: 1e9}))
	defer srv.Close()
	ours := "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws"
	oursMsg := func(id string, s int) []byte {
		b, _ := json.Marshal(map[string]any{"type": "translate", "v": 1,
			"payload": map[string]any{"id": id, "text": scaleSentences[s], "model": m.ID, "beam": 1}})
		return b
	}
	// The peer is sent the source ids our server reads from the same text.
	srcIDs := make([][]int, len(scaleSentences))
	for i, s := range scaleSentences {
		words := translate.AsSentence(vocab.Tokenize(s, m.Cfg.SrcLang))
		srcIDs[i] = m.Src.IDs(m.Cfg.SourceTokens(words, m.Src))
	}
	peerMsg := func(id string, s int) []byte {
		b, _ := json.Marshal(map[string]any{"type": "translate", "v": 1, "payload": map[string]any{"id": id, "src_ids": srcIDs[s]}})
		return b
	}

	if why := havePython(o.python); why != "" {
		r.Note = "skipped: " + why
		return r, nil
	}
	if err := exec.Command(o.python, "-c", "import websockets").Run(); err != nil {
		r.Note = "skipped: the PyTorch server needs websockets (apt-get install -y python3-websockets)"
		return r, nil
	}
	dir := filepath.Join(work, "scale")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return r, err
	}
	refs, err := writeParams(dir, m.P.List())
	if err != nil {
		return r, err
	}
	if err := writeJSON(filepath.Join(dir, "req.json"), map[string]any{"config": m.Cfg, "tensors": refs}); err != nil {
		return r, err
	}
	peer, stop, err := startPeerServer(ctx, o.python, filepath.Join(work, "peer_torch.py"), dir)
	if err != nil {
		r.failed, r.Note = true, "FAILED: the PyTorch server: "+err.Error()
		return r, nil
	}
	defer stop()

	// Parity: every sentence once from each, one session at a time.
	var worst float64
	for s := range scaleSentences {
		a, err := scaleTranslate(ours, oursMsg("check", s))
		if err != nil {
			return r, fmt.Errorf("our server: %w", err)
		}
		b, err := scaleTranslate(peer, peerMsg("check", s))
		if err != nil {
			r.failed, r.Note = true, "FAILED: the PyTorch server: "+err.Error()
			return r, nil
		}
		if len(a) != len(b) {
			r.failed, r.Note = true, fmt.Sprintf("PARITY FAILED: %q: %d words from ours, %d from the peer", scaleSentences[s], len(a), len(b))
			return r, nil
		}
		for i := range a {
			if a[i].TokenID != b[i].TokenID || len(a[i].Attention) != len(b[i].Attention) {
				r.failed, r.Note = true, fmt.Sprintf("PARITY FAILED: %q, word %d: ours %d, the peer %d", scaleSentences[s], i, a[i].TokenID, b[i].TokenID)
				return r, nil
			}
			for j, v := range a[i].Attention {
				worst = math.Max(worst, math.Abs(float64(v-b[i].Attention[j])))
			}
		}
	}
	if worst > parityTol {
		r.failed, r.Note = true, fmt.Sprintf("PARITY FAILED: attention max|da| %.1e (tolerance %.0e)", worst, parityTol)
		return r, nil
	}
	fmt.Fprintf(o.log, "  scale: the same words for the %d sentences from both servers, attention max|da| %.1e\n", len(scaleSentences), worst)

	lo := scaleLoadRun(ours, oursMsg)
	if lo.err != nil {
		return r, fmt.Errorf("our server under load: %w", lo.err)
	}
	lp := scaleLoadRun(peer, peerMsg)
	if lp.err != nil {
		r.failed, r.Note = true, "FAILED: the PyTorch server under load: "+lp.err.Error()
		return r, nil
	}
	perWord := func(l scaleLoad) float64 { return scaleWindow.Seconds() * 1e3 / float64(max(l.words, 1)) }
	r.Ours, r.Peer = perWord(lo), perWord(lp)
	rate := func(l scaleLoad) float64 { return float64(l.words) / scaleWindow.Seconds() }
	r.Note = fmt.Sprintf("parity: the same greedy words for the %d sentences, attention max|da| %.1e; ours %.0f words/s, gap between two words %s, request to first word %s; PyTorch asyncio server %.0f words/s, gap %s, first word %s (%d sessions, %s after %s of warm-up)",
		len(scaleSentences), worst, rate(lo), gapPct(lo.gaps), gapPct(lo.firsts), rate(lp), gapPct(lp.gaps), gapPct(lp.firsts), scaleSessions, scaleWindow, scaleWarm)
	return r, nil
}

// startPeerServer starts the peer's websocket server and returns its URL.
func startPeerServer(ctx context.Context, python, script, dir string) (string, func(), error) {
	cmd := exec.CommandContext(ctx, python, script, "serve", dir)
	cmd.Env = append(os.Environ(), torchEnv...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop := func() {
		cmd.Process.Kill()
		cmd.Wait()
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	var hello struct {
		Port int `json:"port"`
	}
	if err != nil || json.Unmarshal([]byte(line), &hello) != nil || hello.Port == 0 {
		stop()
		return "", nil, fmt.Errorf("no port from the server (%v): %s", err, tail(stderr.String(), 600))
	}
	return fmt.Sprintf("ws://127.0.0.1:%d/", hello.Port), stop, nil
}

// scaleTranslate sends one request on a new session and returns its steps.
func scaleTranslate(url string, msg []byte) ([]scaleStep, error) {
	c, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if err := c.WriteMessage(websocket.TextMessage, msg); err != nil {
		return nil, err
	}
	var steps []scaleStep
	for {
		var m struct {
			Type    string `json:"type"`
			Payload struct {
				Step    scaleStep `json:"step"`
				Message string    `json:"message"`
			} `json:"payload"`
		}
		c.SetReadDeadline(time.Now().Add(time.Minute))
		if err := c.ReadJSON(&m); err != nil {
			return nil, err
		}
		switch m.Type {
		case "step":
			steps = append(steps, m.Payload.Step)
		case "done":
			return steps, nil
		case "error":
			return nil, fmt.Errorf("error message: %s", m.Payload.Message)
		}
	}
}

// scaleLoadRun runs scaleSessions sessions against url, each sending
// msg(id, sentence) for one sentence after another until the window ends,
// and counts what arrives inside the window.
func scaleLoadRun(url string, msg func(id string, s int) []byte) scaleLoad {
	from := time.Now().Add(scaleWarm)
	until := from.Add(scaleWindow)
	var mu sync.Mutex
	var all scaleLoad
	var wg sync.WaitGroup
	for i := range scaleSessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine scaleLoad
			defer func() {
				mu.Lock()
				all.words += mine.words
				all.gaps = append(all.gaps, mine.gaps...)
				all.firsts = append(all.firsts, mine.firsts...)
				if all.err == nil {
					all.err = mine.err
				}
				mu.Unlock()
			}()
			c, _, err := websocket.DefaultDialer.Dial(url, nil)
			if err != nil {
				mine.err = err
				return
			}
			defer c.Close()
			for r := 0; time.Now().Before(until); r++ {
				sent := time.Now()
				if err := c.WriteMessage(websocket.TextMessage, msg(fmt.Sprint(r), (i+r)%len(scaleSentences))); err != nil {
					mine.err = err
					return
				}
				var last time.Time
				for {
					var m struct {
						Type string `json:"type"`
					}
					c.SetReadDeadline(time.Now().Add(time.Minute))
					if err := c.ReadJSON(&m); err != nil {
						mine.err = err
						return
					}
					now := time.Now()
					if m.Type == "error" {
						mine.err = fmt.Errorf("an error message under load")
						return
					}
					if m.Type == "done" {
						break
					}
					if m.Type != "step" {
						continue
					}
					if last.IsZero() && sent.After(from) && now.Before(until) {
						mine.firsts = append(mine.firsts, now.Sub(sent))
					}
					if now.After(from) && now.Before(until) {
						mine.words++
						if !last.IsZero() && last.After(from) {
							mine.gaps = append(mine.gaps, now.Sub(last))
						}
					}
					last = now
				}
			}
		}()
	}
	wg.Wait()
	return all
}

// gapPct is the p50 and p99 of d.
func gapPct(d []time.Duration) string {
	if len(d) == 0 {
		return "no samples"
	}
	slices.Sort(d)
	at := func(p float64) time.Duration {
		return d[min(len(d)-1, int(p*float64(len(d))))].Round(100 * time.Microsecond)
	}
	return fmt.Sprintf("p50 %s, p99 %s (n=%d)", at(0.5), at(0.99), len(d))
}
