package web

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"iter"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"attention/model"
)

// endless models decode one word every step until their context ends:
// a decode that only cancellation stops.
type endless struct {
	step  time.Duration
	steps *atomic.Int64 // words made, by every decode
}

type endlessPrepared struct {
	endless
	src model.Source
}

func (p endlessPrepared) Source() model.Source { return p.src }

func (p endlessPrepared) Decode(ctx context.Context, _ model.Options) iter.Seq2[model.Step, error] {
	return func(yield func(model.Step, error) bool) {
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				yield(model.Step{}, ctx.Err())
				return
			case <-time.After(p.step):
			}
			p.steps.Add(1)
			if !yield(model.Step{Index: i, Token: "so", Prob: 1, Attention: []float32{1}}, nil) {
				return
			}
		}
	}
}

type endlessTranslator struct{ endless }

func (endlessTranslator) Info() model.Info {
	return model.Info{ID: "endless", Kind: "translation", SrcLang: "en", TgtLang: "de", Attention: true}
}

func (m endlessTranslator) Prepare(string) (model.Prepared, error) {
	return endlessPrepared{m.endless, model.Source{Kind: "text", Tokens: []string{"so"}, Unknown: []bool{false}}}, nil
}

type endlessCaptioner struct{ endless }

func (endlessCaptioner) Info() model.Info {
	return model.Info{ID: "endless-caption", Kind: "caption", TgtLang: "en", Attention: true}
}
func (endlessCaptioner) CropSize() int { return 16 }
func (m endlessCaptioner) Prepare(image.Image) (model.Prepared, error) {
	return endlessPrepared{m.endless, model.Source{Kind: "image", Rows: 1, Cols: 1}}, nil
}

func newEndlessServer(t *testing.T, cfg Config) (*Server, *httptest.Server) {
	s, srv, _ := newEndless(t, cfg)
	return s, srv
}

func newEndless(t *testing.T, cfg Config) (*Server, *httptest.Server, *atomic.Int64) {
	t.Helper()
	m := endless{step: 5 * time.Millisecond, steps: new(atomic.Int64)}
	cfg.Translators = []model.Translator{endlessTranslator{m}}
	cfg.Captioners = []model.Captioner{endlessCaptioner{m}}
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	s := New(cfg)
	srv := httptest.NewServer(s)
	t.Cleanup(func() {
		srv.Close()
		http.DefaultClient.CloseIdleConnections()
	})
	return s, srv, m.steps
}

func base64Std(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func smallPNG(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 8, 8))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// waitRunning polls the decode queue until running == want; it returns how
// long that took, or fails after a generous timeout.
func waitRunning(t *testing.T, s *Server, want int, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		if r, _ := s.decodes.stats(); r == want {
			return time.Since(start)
		}
		if time.Since(start) > within {
			r, w := s.decodes.stats()
			t.Fatalf("after %s: %d running, %d waiting; want %d running", within, r, w, want)
		}
		time.Sleep(time.Millisecond)
	}
}

// A client that leaves frees its decode slot at the next step: HTTP and
// websocket, translation and caption.
func TestLeavingClientFreesItsSlot(t *testing.T) {
	s, srv, steps := newEndless(t, Config{})
	wsURL := "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws"
	img := smallPNG(t)
	httpLeave := func(t *testing.T, path, ctype string, body []byte) {
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+path, bytes.NewReader(body))
		req.Header.Set("Content-Type", ctype)
		done := make(chan error, 1)
		go func() {
			resp, err := http.DefaultClient.Do(req)
			if err == nil {
				resp.Body.Close()
				err = errors.New("the endless decode answered " + resp.Status)
			}
			done <- err
		}()
		// Leave once the decode is a few words in (the photo's encoding,
		// before the first step, is not interrupted).
		from := steps.Load()
		for deadline := time.Now().Add(10 * time.Second); steps.Load() < from+3; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("the decode did not start")
			}
		}
		cancel()
		took := waitRunning(t, s, 0, 5*time.Second)
		t.Logf("slot freed %s after the client left", took.Round(100*time.Microsecond))
		if took > 100*time.Millisecond {
			t.Errorf("slot freed %s after the client left; want within 100 ms", took)
		}
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("client: %v", err)
		}
	}
	wsLeave := func(t *testing.T, msg string) {
		c, _, err := websocket.DefaultDialer.Dial(wsURL, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		for { // until the first word
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			_, b, err := c.ReadMessage()
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(b, []byte(`"type":"step"`)) {
				break
			}
		}
		waitRunning(t, s, 1, time.Second)
		c.NetConn().Close() // the tab is gone: no close handshake
		took := waitRunning(t, s, 0, 5*time.Second)
		t.Logf("slot freed %s after the client left", took.Round(100*time.Microsecond))
		if took > 100*time.Millisecond {
			t.Errorf("slot freed %s after the client left; want within 100 ms", took)
		}
	}
	t.Run("http translate", func(t *testing.T) {
		httpLeave(t, "/api/v1/translate", "application/json", []byte(`{"text": "So.", "model": "endless"}`))
	})
	t.Run("http caption", func(t *testing.T) {
		var body bytes.Buffer
		w := multipart.NewWriter(&body)
		fw, _ := w.CreateFormFile("image", "p.png")
		fw.Write(img)
		w.Close()
		httpLeave(t, "/api/v1/caption", w.FormDataContentType(), body.Bytes())
	})
	t.Run("ws translate", func(t *testing.T) {
		wsLeave(t, `{"type":"translate","v":1,"payload":{"id":"t","text":"So.","model":"endless"}}`)
	})
	t.Run("ws caption", func(t *testing.T) {
		wsLeave(t, `{"type":"caption","v":1,"payload":{"id":"c","image":"`+base64Std(img)+`"}}`)
	})
}

// A message that never finishes is dropped after WSMessageWait even while
// the client keeps sending pongs, and the photo memory it held is freed.
func TestUnfinishedMessageDropped(t *testing.T) {
	const wait = time.Second
	s, srv := newEndlessServer(t, Config{WSMessageWait: wait})
	c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	w, err := c.NextWriter(websocket.TextMessage)
	if err != nil {
		t.Fatal(err)
	}
	// A 13 MiB first part of a caption message, never finished.
	io.WriteString(w, `{"type":"caption","v":1,"payload":{"id":"f","image":"`)
	w.Write(bytes.Repeat([]byte("A"), 13<<20))
	start := time.Now()
	stop := make(chan struct{})
	defer close(stop)
	go func() { // only pongs from now on
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
				if c.WriteControl(websocket.PongMessage, nil, time.Now().Add(time.Second)) != nil {
					return
				}
			}
		}
	}()
	c.SetReadDeadline(time.Now().Add(wait + 10*time.Second))
	_, _, err = c.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.ClosePolicyViolation || !strings.Contains(ce.Text, "whole within") {
		t.Fatalf("after %s: %v; want close 1008 saying the message must arrive whole", time.Since(start), err)
	}
	t.Logf("closed after %s: %d %q", time.Since(start).Round(time.Millisecond), ce.Code, ce.Text)
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		s.photoMem.mu.Lock()
		used := s.photoMem.used
		s.photoMem.mu.Unlock()
		if used == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d bytes of photo memory still held after the session was dropped", used)
		}
	}
}

// withEXIF puts an eXIf chunk with the given orientation after a PNG's
// IHDR.
func withEXIF(t *testing.T, pngData []byte, orientation uint16) []byte {
	t.Helper()
	tiff := []byte{'M', 'M', 0, '*', 0, 0, 0, 8, 0, 1, // header, IFD0 at 8, one entry
		0x01, 0x12, 0, 3, 0, 0, 0, 1, byte(orientation >> 8), byte(orientation), 0, 0, // orientation, SHORT, 1
		0, 0, 0, 0} // no next IFD
	chunk := binary.BigEndian.AppendUint32(nil, uint32(len(tiff)))
	chunk = append(chunk, "eXIf"...)
	chunk = append(chunk, tiff...)
	chunk = binary.BigEndian.AppendUint32(chunk, crc32.ChecksumIEEE(chunk[4:]))
	const ihdrEnd = 8 + 25
	out := append([]byte(nil), pngData[:ihdrEnd]...)
	out = append(out, chunk...)
	return append(out, pngData[ihdrEnd:]...)
}

// A PNG's eXIf orientation is honoured as a JPEG's is: a wide photo, red
// on its left and blue on its right, stored with orientation 6 (turn
// 90° clockwise to view) is shown, and read by the model, red at the top.
func TestPNGOrientationHonoured(t *testing.T) {
	_, srv := newEndlessServer(t, Config{})
	img := image.NewNRGBA(image.Rect(0, 0, 80, 40))
	for y := 0; y < 40; y++ {
		for x := 0; x < 80; x++ {
			c := color.NRGBA{220, 20, 20, 255}
			if x >= 40 {
				c = color.NRGBA{20, 20, 220, 255}
			}
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	png.Encode(&b, img)
	for _, tc := range []struct {
		name        string
		data        []byte
		first, last string // the crop's colour at its top (or left) and bottom (or right)
		vertical    bool
	}{
		{"no eXIf", b.Bytes(), "red", "blue", false},
		{"eXIf orientation 6", withEXIF(t, b.Bytes(), 6), "red", "blue", true},
		{"eXIf orientation 8", withEXIF(t, b.Bytes(), 8), "blue", "red", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/ws", nil)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.WriteMessage(websocket.TextMessage, []byte(`{"type":"caption","v":1,"payload":{"id":"o","image":"`+base64Std(tc.data)+`"}}`))
			var src SourcePayload
			for {
				c.SetReadDeadline(time.Now().Add(10 * time.Second))
				var m struct {
					Type    string          `json:"type"`
					Payload json.RawMessage `json:"payload"`
				}
				if err := c.ReadJSON(&m); err != nil {
					t.Fatal(err)
				}
				if m.Type == MsgError {
					t.Fatalf("error: %s", m.Payload)
				}
				if m.Type == MsgSource {
					json.Unmarshal(m.Payload, &src)
					break
				}
			}
			raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(src.Image, "data:image/jpeg;base64,"))
			if err != nil {
				t.Fatal(err)
			}
			crop, err := jpeg.Decode(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			s := crop.Bounds().Dx()
			at := func(x, y int) string {
				r, _, bl, _ := crop.At(x, y).RGBA()
				if r > bl {
					return "red"
				}
				return "blue"
			}
			first, last := at(s/8, s/2), at(s*7/8, s/2)
			if tc.vertical {
				first, last = at(s/2, s/8), at(s/2, s*7/8)
			}
			if first != tc.first || last != tc.last {
				t.Fatalf("crop is %s then %s (vertical %v), want %s then %s", first, last, tc.vertical, tc.first, tc.last)
			}
		})
	}
}

// A cancel stops the decode it names, and only that one: a cancel for an
// older request leaves the one in flight running; a cancel without an id
// stops whatever runs.
func TestCancelNamesItsRequest(t *testing.T) {
	s, srv := newEndlessServer(t, Config{})
	c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	send := func(msg string) {
		t.Helper()
		if err := c.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
			t.Fatal(err)
		}
	}
	go func() { // drain the steps
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				return
			}
		}
	}()
	for _, tc := range []struct{ cancel string }{
		{`{"type":"cancel","v":1,"payload":{"id":"r2"}}`},
		{`{"type":"cancel","v":1}`},
	} {
		send(`{"type":"translate","v":1,"payload":{"id":"r1","text":"So.","model":"endless"}}`)
		waitRunning(t, s, 1, 5*time.Second)
		send(`{"type":"cancel","v":1,"payload":{"id":"r0"}}`) // an older request: nothing to stop
		time.Sleep(50 * time.Millisecond)
		if r, _ := s.decodes.stats(); r != 1 {
			t.Fatalf("a cancel for another request stopped r1 (%d running)", r)
		}
		send(`{"type":"translate","v":1,"payload":{"id":"r2","text":"So.","model":"endless"}}`) // replaces r1
		waitRunning(t, s, 1, 5*time.Second)
		send(tc.cancel)
		waitRunning(t, s, 0, 5*time.Second)
	}
}
