package web_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"math"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/gorilla/websocket"
	"golang.org/x/image/bmp"

	"attention/internal/testenv"
	"attention/model"
	"attention/model/caption"
	"attention/model/mobilenet"
	"attention/model/photo"
	"attention/model/trained"
	"attention/viz"
	"attention/web"
)

var (
	capOnce sync.Once
	capErr  error
	caps    []model.Captioner
)

// newCaptionServer starts the real server with the embedded translation
// and caption models and the encoder from ../shared/data.
func newCaptionServer(t *testing.T) *httptest.Server {
	t.Helper()
	data := testenv.SharedData(t)
	capOnce.Do(func() {
		b, err := os.ReadFile(filepath.Join(data, "weights", mobilenet.WeightsFile))
		if err != nil {
			capErr = err
			return
		}
		ms, err := trained.Load("")
		if err != nil {
			capErr = err
			return
		}
		caps, capErr = caption.Pipelines(b, ms.Captioners)
	})
	if capErr != nil {
		t.Fatal(capErr)
	}
	if len(caps) == 0 {
		t.Fatal("no embedded caption model in model/trained/weights")
	}
	return newServerWith(t, web.Config{Captioners: caps})
}

func pngOf(t *testing.T, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// scene is a small picture with some structure: a dark figure on grass
// under a blue sky.
func scene(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := color.NRGBA{90, 150, 230, 255}
			if y > h/2 {
				c = color.NRGBA{60, 140, 50, 255}
			}
			if x > w/3 && x < w/2 && y > h/4 && y < h*3/4 {
				c = color.NRGBA{40, 30, 30, 255}
			}
			img.Set(x, y, c)
		}
	}
	return img
}

// pngHeaderOnly claims w x h pixels in a few dozen bytes.
func pngHeaderOnly(t *testing.T, w, h int) []byte {
	t.Helper()
	full := pngOf(t, image.NewGray(image.Rect(0, 0, 1, 1)))
	// Signature (8), IHDR length and type (8), then width and height.
	out := append([]byte(nil), full[:33]...)
	be := func(b []byte, v uint32) { b[0], b[1], b[2], b[3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v) }
	be(out[16:], uint32(w))
	be(out[20:], uint32(h))
	// Fix the IHDR CRC so the header itself is well formed.
	be(out[29:], crc32.ChecksumIEEE(out[12:29]))
	return out
}

// testImages are the uploads of the bad-input suite, valid and not.
func testImages(t *testing.T) map[string][]byte {
	t.Helper()
	var jpg bytes.Buffer
	if err := jpeg.Encode(&jpg, scene(320, 240), nil); err != nil {
		t.Fatal(err)
	}
	deep := image.NewNRGBA64(image.Rect(0, 0, 64, 48))
	for y := 0; y < 48; y++ {
		for x := 0; x < 64; x++ {
			deep.Set(x, y, color.NRGBA64{uint16(x * 1000), uint16(y * 1300), 40000, 0xFFFF})
		}
	}
	pal := color.Palette{color.NRGBA{200, 30, 30, 255}, color.NRGBA{30, 30, 200, 255}}
	f1, f2 := image.NewPaletted(image.Rect(0, 0, 40, 40), pal), image.NewPaletted(image.Rect(0, 0, 40, 40), pal)
	for i := range f2.Pix {
		f2.Pix[i] = 1
	}
	var anim bytes.Buffer
	if err := gif.EncodeAll(&anim, &gif.GIF{Image: []*image.Paletted{f1, f2}, Delay: []int{10, 10}}); err != nil {
		t.Fatal(err)
	}
	cmyk, err := os.ReadFile(filepath.Join("testdata", "cmyk.jpeg"))
	if err != nil {
		t.Fatal(err)
	}
	// 50 bytes whose VP8X canvas says 1x1 while the VP8L bitstream says
	// 8000x8000 (decoding it took 770 MB before both headers were checked).
	lying, err := os.ReadFile(filepath.Join("testdata", "lying.webp"))
	if err != nil {
		t.Fatal(err)
	}
	big := make([]byte, photo.DefaultLimits().MaxBytes+1024)
	copy(big, jpg.Bytes())
	return map[string][]byte{
		"photo":     jpg.Bytes(),
		"empty":     {},
		"text":      []byte("this is a shopping list, not a picture\n"),
		"truncated": jpg.Bytes()[:jpg.Len()/2],
		"bomb":      pngHeaderOnly(t, 100_000, 100_000),
		"1x1":       pngOf(t, scene(1, 1)),
		"png16":     pngOf(t, deep),
		"cmyk":      cmyk,
		"gif":       anim.Bytes(),
		"huge":      big,
		"bmp":       bmpOf(t, scene(8, 8)),
		"lyingwebp": lying,
	}
}

func upload(t *testing.T, url string, fields map[string]string, name string, data []byte) (int, []byte) {
	t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for k, v := range fields {
		w.WriteField(k, v)
	}
	if data != nil {
		fw, err := w.CreateFormFile("image", name)
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(data)
	}
	w.Close()
	resp, err := http.Post(url+"/api/v1/caption", w.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func captionMsg(id string, data []byte) string {
	return `{"type":"caption","v":1,"payload":{"id":"` + id + `","beam":1,"image":"data:image/jpeg;base64,` +
		base64.StdEncoding.EncodeToString(data) + `"}}`
}

// TestBadInputSuite sends every kind of bad (and odd but valid) input a
// classroom produces, over HTTP and the websocket. Bad input gets its
// status or socket error; odd but valid input gets a real result; the
// server stays healthy throughout.
func TestBadInputSuite(t *testing.T) {
	srv := newCaptionServer(t)
	img := testImages(t)
	ok := func(text string) string {
		b, _ := json.Marshal(map[string]any{"text": text, "model": "en-de"})
		return string(b)
	}
	wsTranslate := func(text string) string {
		return `{"type":"translate","v":1,"payload":{"id":"t","model":"en-de","text":` + func() string { b, _ := json.Marshal(text); return string(b) }() + `}}`
	}
	type kase struct {
		name   string
		via    string // "json" (POST /api/v1/translate), "upload" (POST /api/v1/caption), "ws" (a text frame), "ws-image", "ws-binary"
		body   string // JSON body or websocket message
		file   string // key into img, for uploads
		fields map[string]string
		status int    // HTTP status; 200 = a real result
		code   string // error code; "" = a real result
	}
	cases := []kase{
		{name: "empty text", via: "json", body: ok(""), status: 400, code: web.EInvalid},
		{name: "whitespace-only text", via: "json", body: ok(" \t\n  "), status: 400, code: web.EInvalid},
		{name: "10,000-character text", via: "json", body: ok(strings.Repeat("a", 10_000)), status: 413, code: web.ETooLarge},
		{name: "control characters only", via: "json", body: ok("\x01\x02\x1b\x7f\u200b"), status: 400, code: web.EInvalid},
		{name: "invalid UTF-8", via: "json", body: "{\"text\": \"caf\xe9 \xff\", \"model\": \"en-de\"}", status: 400, code: web.EInvalid},
		{name: "emoji", via: "json", body: ok("A dog 🐶 plays with a ball ⚽."), status: 200},
		{name: "right-to-left text (not English: refused, naming the script)", via: "json", body: ok("كلب يلعب في الحديقة"), status: 400, code: web.EInvalid},
		{name: "unknown model", via: "json", body: `{"text": "A dog.", "model": "xx-yy"}`, status: 404, code: web.ENotFound},
		{name: "force: an id that is no word", via: "json", body: `{"text": "A dog.", "model": "en-de", "force": [99999999]}`, status: 400, code: web.EInvalid},
		{name: "force: the end of the sentence", via: "json", body: `{"text": "A dog.", "model": "en-de", "force": [3]}`, status: 400, code: web.EInvalid},
		{name: "force: more words than a translation may have", via: "json", body: `{"text": "A dog.", "model": "en-de", "force": [` + strings.TrimSuffix(strings.Repeat("5,", 101), ",") + `]}`, status: 400, code: web.EInvalid},
		{name: "force: not a list of ids", via: "json", body: `{"text": "A dog.", "model": "en-de", "force": "Hund"}`, status: 400, code: web.EInvalid},
		{name: "ws: force an id that is no word", via: "ws", body: `{"type":"translate","v":1,"payload":{"id":"t","model":"en-de","text":"A dog.","force":[-4]}}`, code: web.EInvalid},
		{name: "malformed JSON", via: "json", body: `{"text": "A dog." "model": "en-de"}`, status: 400, code: web.EInvalid},
		{name: "truncated JSON", via: "json", body: `{"text": "A do`, status: 400, code: web.EInvalid},
		{name: "zero-byte upload", via: "upload", file: "empty", status: 400, code: web.EInvalid},
		{name: "text file renamed .jpg", via: "upload", file: "text", status: 415, code: web.EUnsupported},
		{name: "truncated JPEG", via: "upload", file: "truncated", status: 400, code: web.EInvalid},
		{name: "decompression bomb", via: "upload", file: "bomb", status: 413, code: web.ETooLarge},
		{name: "WebP whose headers disagree (1x1 canvas, 8000x8000 bitstream)", via: "upload", file: "lyingwebp", status: 400, code: web.EInvalid},
		{name: "too-large file", via: "upload", file: "huge", status: 413, code: web.ETooLarge},
		{name: "1x1 image", via: "upload", file: "1x1", status: 200},
		{name: "16-bit PNG", via: "upload", file: "png16", status: 200},
		{name: "CMYK JPEG", via: "upload", file: "cmyk", status: 200},
		{name: "animated GIF", via: "upload", file: "gif", status: 200},
		{name: "BMP (not offered)", via: "upload", file: "bmp", status: 415, code: web.EUnsupported},
		{name: "no image field", via: "upload", fields: map[string]string{"beam": "1"}, status: 400, code: web.EInvalid},
		{name: "unknown caption model", via: "upload", file: "photo", fields: map[string]string{"model": "nope"}, status: 404, code: web.ENotFound},
		{name: "force field not word ids", via: "upload", file: "photo", fields: map[string]string{"force": "dog,cat"}, status: 400, code: web.EInvalid},
		{name: "force field with an id that is no word", via: "upload", file: "photo", fields: map[string]string{"force": "2, 99999999"}, status: 400, code: web.EInvalid},
		{name: "beam not a number", via: "upload", file: "photo", fields: map[string]string{"beam": "wide"}, status: 400, code: web.EInvalid},
		{name: "ws: unknown message type", via: "ws", body: `{"type":"dance","v":1,"payload":{}}`, code: web.EBadMessage},
		{name: "ws: unknown version", via: "ws", body: `{"type":"translate","v":7,"payload":{"text":"hi","model":"en-de"}}`, code: web.EBadMessage},
		{name: "ws: malformed JSON", via: "ws", body: `{"type":"translate",`, code: web.EBadMessage},
		{name: "ws: invalid UTF-8", via: "ws", body: "{\"type\":\"translate\",\"v\":1,\"payload\":{\"text\":\"\xff\xfe\",\"model\":\"en-de\"}}", code: web.EBadMessage},
		{name: "ws: binary frame", via: "ws-binary", body: "\x00\x01\x02", code: web.EBadMessage},
		{name: "ws: empty text", via: "ws", body: wsTranslate("   "), code: web.EInvalid},
		{name: "ws: emoji", via: "ws", body: wsTranslate("🐶🐶🐶"), code: ""},
		{name: "ws: image not base64", via: "ws", body: `{"type":"caption","v":1,"payload":{"id":"i","image":"data:image/png;base64,%%%"}}`, code: web.EBadMessage},
		{name: "ws: zero-byte image", via: "ws-image", file: "empty", code: web.EInvalid},
		{name: "ws: text file as image", via: "ws-image", file: "text", code: web.EUnsupported},
		{name: "ws: decompression bomb", via: "ws-image", file: "bomb", code: web.ETooLarge},
		{name: "ws: WebP whose headers disagree", via: "ws-image", file: "lyingwebp", code: web.EInvalid},
		{name: "ws: truncated JPEG", via: "ws-image", file: "truncated", code: web.EInvalid},
		{name: "ws: 1x1 image", via: "ws-image", file: "1x1", code: ""},
	}
	if len(cases) < 20 {
		t.Fatalf("only %d cases", len(cases))
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			switch c.via {
			case "json", "upload":
				var code int
				var body []byte
				if c.via == "json" {
					code, body = post(t, srv.URL, "application/json", c.body)
				} else {
					var data []byte
					if c.file != "" {
						data = img[c.file]
					}
					code, body = upload(t, srv.URL, c.fields, "upload.jpg", data)
				}
				if code != c.status {
					t.Fatalf("status %d, want %d: %.300s", code, c.status, body)
				}
				if c.code != "" {
					var e apiError
					if json.Unmarshal(body, &e) != nil || e.Error.Code != c.code || e.Error.Message == "" {
						t.Fatalf("error %.300s, want code %s with a message", body, c.code)
					}
					return
				}
				var r web.DecodeResponse
				if err := json.Unmarshal(body, &r); err != nil || len(r.Steps) == 0 {
					t.Fatalf("no result: %v %.300s", err, body)
				}
				checkAttention(t, r.Attention, len(r.Steps), r.Source.Len())
			default:
				// A socket per case: every request counts against the
				// session's rate limit, bad ones included.
				conn := dial(t, srv)
				msg := c.body
				typ := websocket.TextMessage
				switch c.via {
				case "ws-image":
					msg = captionMsg("i", img[c.file])
				case "ws-binary":
					typ = websocket.BinaryMessage
				}
				if err := conn.WriteMessage(typ, []byte(msg)); err != nil {
					t.Fatal(err)
				}
				for {
					m := read(t, conn)
					if m.Type == web.MsgError {
						var e web.ErrorPayload
						json.Unmarshal(m.Payload, &e)
						if e.Code != c.code || e.Message == "" {
							t.Fatalf("error %s, want %q", m.Payload, c.code)
						}
						return
					}
					if m.Type == web.MsgDone {
						if c.code != "" {
							t.Fatalf("got a result, want error %s", c.code)
						}
						return
					}
				}
			}
		})
	}
	// Healthy afterwards: the health check, a translation and a caption.
	resp, err := http.Get(srv.URL + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("health after the suite: %v %v", resp, err)
	}
	resp.Body.Close()
	if code, body := post(t, srv.URL, "application/json", ok("Two dogs run.")); code != 200 {
		t.Fatalf("translate after the suite: %d %s", code, body)
	}
	if code, body := upload(t, srv.URL, nil, "photo.jpg", img["photo"]); code != 200 {
		t.Fatalf("caption after the suite: %d %.300s", code, body)
	}
}

// TestCaptionAPI checks the caption endpoint's answer: words, top-k, the
// grid, one attention row per word summing to 1, the crop and heat layers;
// and that the stream sends the same words.
func TestCaptionAPI(t *testing.T) {
	srv := newCaptionServer(t)
	photo := testImages(t)["photo"]
	code, body := upload(t, srv.URL, map[string]string{"beam": "3"}, "p.jpg", photo)
	if code != 200 {
		t.Fatalf("%d %.300s", code, body)
	}
	var r web.DecodeResponse
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatal(err)
	}
	if r.Source.Kind != "image" || r.Source.Rows != 7 || r.Source.Cols != 7 || len(r.Steps) == 0 || r.Text == "" {
		t.Fatalf("source %+v, %d steps, text %q", r.Source, len(r.Steps), r.Text)
	}
	checkAttention(t, r.Attention, len(r.Steps), 49)
	if !strings.HasPrefix(r.Image, "data:image/jpeg;base64,") || len(r.Heat) != len(r.Steps) || !strings.HasPrefix(r.Heat[0], "data:image/png;base64,") {
		t.Fatalf("image %.40q, %d heat layers", r.Image, len(r.Heat))
	}
	// Each word's layer is the step's attention drawn by viz.HeatLayer.
	for i, layer := range r.Heat {
		raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(layer, "data:image/png;base64,"))
		if err != nil {
			t.Fatal(err)
		}
		got, err := png.Decode(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("word %d's heat layer: %v", i, err)
		}
		want, err := viz.HeatLayer(r.Steps[i].Attention, 7, 7, got.Bounds().Dx(), got.Bounds().Dy(), viz.Viridis)
		if err != nil {
			t.Fatal(err)
		}
		for y := range want.Bounds().Dy() {
			for x := range want.Bounds().Dx() {
				if g := color.NRGBAModel.Convert(got.At(x, y)); g != want.NRGBAAt(x, y) {
					t.Fatalf("word %d's heat layer at (%d, %d): %v, viz.HeatLayer draws %v", i, x, y, g, want.NRGBAAt(x, y))
				}
			}
		}
	}
	for _, s := range r.Steps {
		if len(s.TopK) == 0 || s.Prob <= 0 || s.Prob > 1 || math.IsNaN(float64(s.Prob)) {
			t.Fatalf("step %+v", s)
		}
	}
	c := dial(t, srv)
	send(t, c, strings.Replace(captionMsg("s", photo), `"beam":1`, `"beam":3`, 1))
	var words []string
	for {
		m := read(t, c)
		if m.Type == web.MsgSource {
			var sp web.SourcePayload
			json.Unmarshal(m.Payload, &sp)
			if sp.Image == "" || sp.Source.Rows != 7 {
				t.Fatalf("source %+v", sp.Source)
			}
		}
		if m.Type == web.MsgStep {
			var sp web.StepPayload
			json.Unmarshal(m.Payload, &sp)
			if sp.Heat == "" {
				t.Fatal("step without a heat layer")
			}
			words = append(words, sp.Step.Token)
		}
		if m.Type == web.MsgDone || m.Type == web.MsgError {
			break
		}
	}
	if strings.Join(words, " ") != strings.Join(r.TargetTokens, " ") {
		t.Fatalf("stream wrote %q, the API %q", words, r.TargetTokens)
	}
	// The strip export is one PNG.
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	fw, _ := w.CreateFormFile("image", "p.jpg")
	fw.Write(photo)
	w.Close()
	resp, err := http.Post(srv.URL+"/api/v1/caption/strip", w.FormDataContentType(), &buf)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	strip, err := png.Decode(resp.Body)
	if err != nil || resp.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("strip: %v %s", err, resp.Header.Get("Content-Type"))
	}
	if b := strip.Bounds(); b.Dx() < 160 || b.Dy() < 160 {
		t.Fatalf("strip is %v", b.Size())
	}
}

// TestCaptionOffWithoutEncoder: no encoder, the server still translates
// and the caption page and API say what to do.
func TestCaptionOffWithoutEncoder(t *testing.T) {
	srv := newServerWith(t, web.Config{CaptionOff: "The image encoder is not available: pass -encoder-weights PATH."})
	code, body := upload(t, srv.URL, nil, "p.jpg", []byte("x"))
	var e apiError
	json.Unmarshal(body, &e)
	if code != http.StatusServiceUnavailable || !strings.Contains(e.Error.Message, "-encoder-weights") {
		t.Fatalf("caption without encoder: %d %s", code, body)
	}
	resp, err := http.Get(srv.URL + "/caption")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), "-encoder-weights") {
		t.Fatalf("caption page: %d", resp.StatusCode)
	}
	if code, _ := post(t, srv.URL, "application/json", `{"text": "A dog.", "model": "en-de"}`); code != 200 {
		t.Fatalf("translate with captioning off: %d", code)
	}
}

// bmpOf encodes img as a BMP, a format the server does not take.
func bmpOf(t *testing.T, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := bmp.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
