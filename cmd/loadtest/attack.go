package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/jpeg"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// Attack scenarios: hostile clients against the real server (cmd/web) in
// its own process, so that its resident memory (RSS, from /proc) is the
// server's alone. Each prints what the clients saw, the time it took, the
// server's RSS before, at its peak and after, and how long RSS took to
// come back within 20% of its level before the attack (watched for 60 s).
var scenarios = map[string]struct {
	n    int // default -n
	what string
	run  func(a *attack) error
}{
	"big-rejected":  {40, "n sessions each send a 13.3 MB caption message (a 10 MB photo, then beam 99) that is refused", bigRejected},
	"conn-flood":    {25000, "n websocket connections attempted from 127.0.0.1 and 127.0.0.2, accepted ones held open, while /healthz is timed", connFlood},
	"fragment-hold": {60, "n sessions each send a 13 MiB first fragment of a caption message, never finished, then only pongs", fragmentHold},
	"burst":         {20, "n sessions each send 1,000 messages without reading, then read", burst},
	"image-bombs":   {12, "n uploads at once, in turn a WebP whose headers disagree (1x1 canvas, 8000x8000 bitstream), a PNG header claiming 100,000x100,000 and a real 6,000x6,500 JPEG (39 MP, under the 40 MP limit)", imageBombs},
}

type attack struct {
	wsURL, url string
	pid        int
	n          int
}

// server is cmd/web, built and started on a free loopback port.
type server struct {
	cmd *exec.Cmd
	url string
	dir string
}

func startServer(extra []string) (*server, error) {
	dir, err := os.MkdirTemp("", "loadtest")
	if err != nil {
		return nil, err
	}
	bin := filepath.Join(dir, "web")
	build := exec.Command("go", "build", "-o", bin, "./cmd/web")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("building cmd/web: %w", err)
	}
	cmd := exec.Command(bin, append([]string{"-addr", "127.0.0.1:0", "-offline"}, extra...)...)
	logs, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	s := &server{cmd: cmd, dir: dir}
	found := make(chan string, 1)
	go func() { // read the log to the end, so the server never blocks on it
		addr := regexp.MustCompile(`listening addr=(http://\S+)`)
		sc := bufio.NewScanner(logs)
		for sc.Scan() {
			if m := addr.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			} else if strings.Contains(sc.Text(), "level=ERROR") || strings.Contains(sc.Text(), "panic") {
				fmt.Fprintln(os.Stderr, "server:", sc.Text())
			}
		}
	}()
	select {
	case s.url = <-found:
		return s, nil
	case <-time.After(2 * time.Minute):
		s.stop()
		return nil, errors.New("the server did not start within 2 minutes")
	}
}

func (s *server) stop() {
	s.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-done
	}
	os.RemoveAll(s.dir)
}

// rssMB is a process's resident memory.
func rssMB(pid int) float64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

// peakWatch samples RSS every 50 ms until stopped.
func peakWatch(pid int) (stop func() float64) {
	var peak atomic.Uint64
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			if r := uint64(rssMB(pid) * 1024); r > peak.Load() {
				peak.Store(r)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() float64 {
		close(done)
		<-finished
		return float64(peak.Load()) / 1024
	}
}

func runAttack(name string, n int, target string, pid int, encoder string, serverArgs []string) error {
	sc, ok := scenarios[name]
	if !ok {
		var names []string
		for k := range scenarios {
			names = append(names, k)
		}
		sort.Strings(names)
		return fmt.Errorf("unknown scenario %q; choose stream, %s", name, strings.Join(names, ", "))
	}
	if n <= 0 {
		n = sc.n
	}
	if target == "" {
		args := append([]string{"-encoder-weights", encoder}, serverArgs...)
		s, err := startServer(args)
		if err != nil {
			return err
		}
		defer s.stop()
		target, pid = s.url, s.cmd.Process.Pid
	}
	if pid <= 0 {
		return errors.New("-pid: the server's process id, to read its memory")
	}
	a := &attack{url: target, wsURL: "ws" + strings.TrimPrefix(target, "http") + "/ws", pid: pid, n: n}
	if err := warmUp(a); err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}
	time.Sleep(2 * time.Second)
	base := rssMB(pid)
	fmt.Printf("scenario %s: %s (n=%d)\n", name, sc.what, n)
	stop := peakWatch(pid)
	start := time.Now()
	err := sc.run(a)
	elapsed := time.Since(start)
	peak := stop()
	after := rssMB(pid)
	fmt.Printf("attack took %s; server RSS %.0f MB before, %.0f MB peak (+%.0f MB), %.0f MB when it ended\n",
		elapsed.Round(time.Millisecond), base, peak, peak-base, after)
	// Memory back within 20% of its level before the attack?
	back := time.Duration(-1)
	var last float64
	for t0 := time.Now(); time.Since(t0) <= 60*time.Second; time.Sleep(time.Second) {
		last = rssMB(pid)
		if last <= base*1.2 {
			back = time.Since(t0)
			break
		}
	}
	if back >= 0 {
		fmt.Printf("RSS back within 20%% of before (%.0f MB) %s after the attack ended\n", last, back.Round(time.Second))
	} else {
		fmt.Printf("RSS NOT back within 20%% of before 60 s after the attack ended: %.0f MB\n", last)
	}
	if err == nil && back < 0 {
		err = errors.New("memory did not come back")
	}
	return err
}

// warmUp translates and captions once, so that what the server builds on
// first use does not count as the attack's.
func warmUp(a *attack) error {
	c, _, err := websocket.DefaultDialer.Dial(a.wsURL, nil)
	if err != nil {
		return err
	}
	defer c.Close()
	photo, err := os.ReadFile(filepath.Join("static", "examples", "chelsea.jpg"))
	if err != nil {
		return err
	}
	for _, msg := range []string{
		`{"type":"translate","v":1,"payload":{"id":"w","text":"A dog runs.","model":"en-de"}}`,
		`{"type":"caption","v":1,"payload":{"id":"w","image":"` + base64.StdEncoding.EncodeToString(photo) + `"}}`,
	} {
		if err := c.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
			return err
		}
		for {
			c.SetReadDeadline(time.Now().Add(2 * time.Minute))
			var m struct {
				Type    string          `json:"type"`
				Payload json.RawMessage `json:"payload"`
			}
			if err := c.ReadJSON(&m); err != nil {
				return err
			}
			if m.Type == "error" {
				return fmt.Errorf("%s", m.Payload)
			}
			if m.Type == "done" {
				break
			}
		}
	}
	return nil
}

// tally counts outcomes by name.
type tally struct {
	mu sync.Mutex
	m  map[string]int
	d  map[string][]time.Duration
}

func (t *tally) add(what string, d time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m, t.d = map[string]int{}, map[string][]time.Duration{}
	}
	t.m[what]++
	t.d[what] = append(t.d[what], d)
}

func (t *tally) print() {
	var keys []string
	for k := range t.m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Printf("  %5d x %s   (time %s)\n", t.m[k], k, pct(t.d[k]))
	}
}

// outcome names what a client read last: an answer's code, or the close.
func outcome(err error) string {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		return fmt.Sprintf("close %d %q", ce.Code, ce.Text)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "no answer (timeout)"
	}
	return "connection error: " + err.Error()
}

func readAnswer(c *websocket.Conn, wait time.Duration) string {
	c.SetReadDeadline(time.Now().Add(wait))
	for {
		var m struct {
			Type    string `json:"type"`
			Payload struct {
				Code string `json:"code"`
			} `json:"payload"`
		}
		if err := c.ReadJSON(&m); err != nil {
			return outcome(err)
		}
		if m.Type == "error" {
			return "error " + m.Payload.Code
		}
		if m.Type == "done" {
			return "done"
		}
	}
}

// eachSession runs session on a.n websocket sessions at once, each dialled
// on its own, and prints what their clients saw: the outcome session
// returns (what the client read last), and any it noted on the way, each
// with the time since its dial began.
func eachSession(a *attack, session func(c *websocket.Conn, note func(string)) string) {
	var t tally
	var wg sync.WaitGroup
	for i := 0; i < a.n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			c, _, err := websocket.DefaultDialer.Dial(a.wsURL, nil)
			if err != nil {
				t.add("dial: "+err.Error(), time.Since(start))
				return
			}
			defer c.Close()
			note := func(what string) { t.add(what, time.Since(start)) }
			note(session(c, note))
		}()
	}
	wg.Wait()
	t.print()
}

func bigRejected(a *attack) error {
	photo := make([]byte, 10_000_000)
	rand.Read(photo)
	msg := []byte(`{"type":"caption","v":1,"payload":{"id":"big","image":"` + base64.StdEncoding.EncodeToString(photo) + `","beam":99}}`)
	fmt.Printf("message %.1f MB, the photo before the beam\n", float64(len(msg))/1e6)
	eachSession(a, func(c *websocket.Conn, _ func(string)) string {
		if err := c.WriteMessage(websocket.TextMessage, msg); err != nil {
			return "write: " + err.Error()
		}
		return readAnswer(c, time.Minute)
	})
	return nil
}

func connFlood(a *attack) error {
	host := strings.TrimPrefix(a.url, "http://")
	var t tally
	var held sync.Map
	var next atomic.Int64
	var wg sync.WaitGroup
	stopProbe := make(chan struct{})
	var probes []time.Duration
	probeFail := 0
	probeDone := make(chan struct{})
	go func() { // /healthz every 100 ms on a new connection, from the attacked address
		defer close(probeDone)
		client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
		for {
			select {
			case <-stopProbe:
				return
			case <-time.After(100 * time.Millisecond):
			}
			start := time.Now()
			resp, err := client.Get(a.url + "/healthz")
			if err != nil || resp.StatusCode != 200 {
				probeFail++
			} else {
				probes = append(probes, time.Since(start))
			}
			if resp != nil {
				resp.Body.Close()
			}
		}
	}()
	for w := 0; w < 200; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(a.n) {
					return
				}
				local := &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(1+i%2))}
				d := websocket.Dialer{HandshakeTimeout: 10 * time.Second,
					NetDial: func(network, addr string) (net.Conn, error) {
						return (&net.Dialer{LocalAddr: local, Timeout: 10 * time.Second}).Dial(network, addr)
					}}
				start := time.Now()
				c, resp, err := d.Dial("ws://"+host+"/ws", nil)
				if err != nil {
					if resp != nil {
						t.add(fmt.Sprintf("refused %d (Retry-After %q)", resp.StatusCode, resp.Header.Get("Retry-After")), time.Since(start))
					} else {
						t.add("dial error: "+err.Error(), time.Since(start))
					}
					continue
				}
				c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
				if _, _, err := c.ReadMessage(); err != nil {
					var ce *websocket.CloseError
					if errors.As(err, &ce) {
						t.add(outcome(err), time.Since(start))
						c.Close()
						continue
					}
				}
				t.add("session open, held", time.Since(start))
				held.Store(i, c)
			}
		}()
	}
	wg.Wait()
	close(stopProbe)
	<-probeDone
	t.print()
	fmt.Printf("  /healthz during the flood: %s, %d failed\n", pct(probes), probeFail)
	held.Range(func(k, v any) bool {
		v.(*websocket.Conn).Close()
		return true
	})
	return nil
}

func fragmentHold(a *attack) error {
	part := append([]byte(`{"type":"caption","v":1,"payload":{"id":"f","image":"`), []byte(strings.Repeat("A", 13<<20))...)
	eachSession(a, func(c *websocket.Conn, note func(string)) string {
		w, err := c.NextWriter(websocket.TextMessage)
		if err != nil {
			return "write: " + err.Error()
		}
		w.Write(part) // never closed: the message is never finished
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() { // only pongs from now on
			for ctx.Err() == nil {
				c.WriteControl(websocket.PongMessage, nil, time.Now().Add(time.Second))
				select {
				case <-ctx.Done():
				case <-time.After(5 * time.Second):
				}
			}
		}()
		for { // answers (busy, when photo memory is full) until the close
			c.SetReadDeadline(time.Now().Add(3 * time.Minute))
			_, b, err := c.ReadMessage()
			if err != nil {
				return outcome(err)
			}
			var m struct {
				Payload struct{ Code string } `json:"payload"`
			}
			json.Unmarshal(b, &m)
			note("answer " + m.Payload.Code + " (then)")
		}
	})
	return nil
}

func burst(a *attack) error {
	msg := []byte(`{"type":"translate","v":1,"payload":{"id":"b","text":"A dog runs.","model":"en-de"}}`)
	var limited atomic.Int64
	eachSession(a, func(c *websocket.Conn, _ func(string)) string {
		for k := 0; k < 1000; k++ {
			if err := c.WriteMessage(websocket.TextMessage, msg); err != nil {
				return "write: " + err.Error()
			}
		}
		for {
			c.SetReadDeadline(time.Now().Add(time.Minute))
			_, b, err := c.ReadMessage()
			if err != nil {
				return outcome(err)
			}
			if strings.Contains(string(b), `"rate_limited"`) {
				limited.Add(1)
			}
		}
	})
	fmt.Printf("  rate_limited answers: %d (%.0f a session)\n", limited.Load(), float64(limited.Load())/float64(a.n))
	return nil
}

// imageBombs uploads images that would cost far more memory than their
// size if the server trusted their headers, and one real photo just under
// the pixel limit, whose cost is the most an accepted photo may take.
func imageBombs(a *attack) error {
	lying, err := os.ReadFile(filepath.Join("web", "testdata", "lying.webp"))
	if err != nil {
		return err
	}
	var bomb bytes.Buffer // a PNG header claiming 100,000 x 100,000 and no pixels
	bomb.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := []byte("IHDR\x00\x01\x86\xa0\x00\x01\x86\xa0\x08\x02\x00\x00\x00")
	binary.Write(&bomb, binary.BigEndian, uint32(13))
	bomb.Write(ihdr)
	binary.Write(&bomb, binary.BigEndian, crc32.ChecksumIEEE(ihdr))
	var big bytes.Buffer
	img := image.NewGray(image.Rect(0, 0, 6000, 6500))
	for i := range img.Pix {
		img.Pix[i] = uint8(i / 6000 % 256)
	}
	if err := jpeg.Encode(&big, img, &jpeg.Options{Quality: 50}); err != nil {
		return err
	}
	files := []struct{ name, file string }{{"lying WebP", "a.webp"}, {"PNG header bomb", "b.png"}, {"39 MP JPEG", "c.jpg"}}
	datas := [][]byte{lying, bomb.Bytes(), big.Bytes()}
	fmt.Printf("files: %d, %d and %d bytes\n", len(lying), bomb.Len(), big.Len())
	var t tally
	var wg sync.WaitGroup
	for i := 0; i < a.n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := i % len(files)
			var body bytes.Buffer
			mw := multipart.NewWriter(&body)
			w, _ := mw.CreateFormFile("image", files[k].file)
			w.Write(datas[k])
			mw.WriteField("beam", "1")
			mw.Close()
			start := time.Now()
			resp, err := http.Post(a.url+"/api/v1/caption", mw.FormDataContentType(), &body)
			if err != nil {
				t.add(files[k].name+": "+err.Error(), time.Since(start))
				return
			}
			var e struct {
				Error struct {
					Code string `json:"code"`
				} `json:"error"`
			}
			json.NewDecoder(resp.Body).Decode(&e)
			resp.Body.Close()
			t.add(fmt.Sprintf("%s: %d %s", files[k].name, resp.StatusCode, e.Error.Code), time.Since(start))
		}()
	}
	wg.Wait()
	t.print()
	return nil
}
