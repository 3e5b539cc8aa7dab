package web_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"image/gif"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"attention/model"
	"attention/web"
)

func postTo(t *testing.T, url, ctype string, body io.Reader) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Post(url, ctype, body)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// The alignment export draws the same decode the API returns: a PNG with
// a colour bar under the grid, and an SVG with one cell a source and target
// word pair; bad formats and colour maps are 400s.
func TestAlignmentExport(t *testing.T) {
	srv := newServer(t)
	req := `{"text": "A man is riding a red bicycle.", "model": "en-de", "beam": 3}`
	code, body := post(t, srv.URL, "application/json", req)
	if code != 200 {
		t.Fatalf("translate: %d %s", code, body)
	}
	var r web.DecodeResponse
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatal(err)
	}
	resp, b := postTo(t, srv.URL+"/api/v1/translate/alignment?format=png", "application/json", strings.NewReader(req))
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" || !strings.Contains(resp.Header.Get("Content-Disposition"), "alignment.png") {
		t.Fatalf("png: %d %s %s", resp.StatusCode, resp.Header, b)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	// At least one 28-pixel cell a word each way, plus labels and the bar.
	if sz := img.Bounds().Size(); sz.X < 29*len(r.Source.Tokens) || sz.Y < 29*len(r.TargetTokens)+14 {
		t.Fatalf("png %v for %d x %d words", sz, len(r.TargetTokens), len(r.Source.Tokens))
	}
	resp, b = postTo(t, srv.URL+"/api/v1/translate/alignment?format=svg&colormap=cividis", "application/json", strings.NewReader(req))
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/svg+xml" {
		t.Fatalf("svg: %d %s %.200s", resp.StatusCode, resp.Header, b)
	}
	var doc struct {
		Rects []struct{} `xml:"rect"`
		Texts []string   `xml:"text"`
	}
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("svg is not XML: %v", err)
	}
	if want := 1 + len(r.Source.Tokens)*len(r.TargetTokens); len(doc.Rects) != want {
		t.Fatalf("svg has %d rects, want %d", len(doc.Rects), want)
	}
	if got, want := strings.Join(doc.Texts, " "), strings.Join(append(r.Source.Tokens, r.TargetTokens...), " "); got != want {
		t.Fatalf("svg labels %q, want %q", got, want)
	}
	for _, bad := range []string{"?format=gif", "?colormap=jet"} {
		resp, b := postTo(t, srv.URL+"/api/v1/translate/alignment"+bad, "application/json", strings.NewReader(req))
		if resp.StatusCode != 400 || !strings.Contains(string(b), "choose") {
			t.Errorf("%s: %d %s", bad, resp.StatusCode, b)
		}
	}
}

// The caption animation is a GIF with one frame a word of the caption the
// API writes.
func TestCaptionAnimationExport(t *testing.T) {
	srv := newCaptionServer(t)
	photo := testImages(t)["photo"]
	code, body := upload(t, srv.URL, nil, "p.jpg", photo)
	if code != 200 {
		t.Fatalf("%d %.300s", code, body)
	}
	var r web.DecodeResponse
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	fw, _ := w.CreateFormFile("image", "p.jpg")
	fw.Write(photo)
	w.Close()
	resp, b := postTo(t, srv.URL+"/api/v1/caption/animation", w.FormDataContentType(), &buf)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/gif" {
		t.Fatalf("%d %s %.200s", resp.StatusCode, resp.Header, b)
	}
	g, err := gif.DecodeAll(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Image) != len(r.Steps) {
		t.Fatalf("%d frames for %d words", len(g.Image), len(r.Steps))
	}
	if sz := g.Image[0].Bounds().Size(); sz.X != 448 || sz.Y <= 448 {
		t.Fatalf("frame %v: want the 448-pixel crop with the caption under it", sz)
	}
}

// The by-length figure: drawn from the recorded scores with the sentence's
// length marked; an unknown model is a 404, a bad mark a 400.
func TestLengthFigure(t *testing.T) {
	srv := newServerWith(t, web.Config{ByLength: map[string]model.ByLength{"en-de": {
		Buckets: []model.LengthRange{{Lo: 1, Hi: 10, N: 900}, {Lo: 11, Hi: 20, N: 400}, {Lo: 21, N: 30}},
		Series: []model.LengthScores{{Name: "with attention (en-de)", Model: "en-de", BLEU: []float64{36, 33, 31}},
			{Name: "without attention (en-de-noatt)", Model: "en-de-noatt", BLEU: []float64{30, 22, 14}}},
	}}})
	resp, err := http.Get(srv.URL + "/api/v1/figures/length/en-de?mark=14")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/svg+xml" || !strings.Contains(string(b), "without attention (en-de-noatt)") || !strings.Contains(string(b), "this sentence (14 words)") {
		t.Fatalf("%d %s %.300s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	for path, code := range map[string]int{"/api/v1/figures/length/en-fr": 404, "/api/v1/figures/length/en-de?mark=x": 400, "/api/v1/figures/length/en-de?format=gif": 400} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != code {
			t.Errorf("%s: %d, want %d", path, resp.StatusCode, code)
		}
	}
}
