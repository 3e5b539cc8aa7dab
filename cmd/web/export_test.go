package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"image/gif"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
)

// allowDownloads saves the tab's downloads in a new directory, under the
// names the page gives them.
func allowDownloads(t *testing.T, ctx context.Context) string {
	t.Helper()
	dir := t.TempDir()
	err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
			Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir})
		return err
	}))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// download clicks a download button and returns the file it saved.
func download(t *testing.T, ctx context.Context, dir, button, name string) []byte {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID(button))); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if b, err := os.ReadFile(path); err == nil && len(b) > 0 {
			if _, err := os.Stat(path + ".crdownload"); err != nil { // finished
				return b
			}
		}
	}
	status, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("status")))
	t.Fatalf("%s: no %s after 30 s (status %q)", button, name, status)
	return nil
}

// A person translates a sentence and downloads the grid as PNG and SVG and
// the run as JSON: each file is what its name says.
func TestBrowserTranslateDownloads(t *testing.T) {
	skipShort(t)
	m := startMain(t, false)
	ctx := browser(t)
	dir := allowDownloads(t, ctx)
	translateOnPage(t, ctx, m.URL(), "A little girl is climbing the stairs.")
	if _, err := png.Decode(bytes.NewReader(download(t, ctx, dir, "export-png", "alignment.png"))); err != nil {
		t.Errorf("alignment.png: %v", err)
	}
	var svg struct {
		Rects []struct{} `xml:"rect"`
	}
	if err := xml.Unmarshal(download(t, ctx, dir, "export-svg", "alignment.svg"), &svg); err != nil || len(svg.Rects) < 2 {
		t.Errorf("alignment.svg: %v, %d rects", err, len(svg.Rects))
	}
	var run struct {
		Source struct{ Tokens []string }
		Steps  []struct{ Attention []float32 }
	}
	if err := json.Unmarshal(download(t, ctx, dir, "export-json", "translation-run.json"), &run); err != nil ||
		len(run.Steps) == 0 || len(run.Steps[0].Attention) != len(run.Source.Tokens) {
		t.Errorf("translation-run.json: %v, %+v", err, run)
	}
}

// A person captions a photo and downloads the strip, the animation and the
// run.
func TestBrowserCaptionDownloads(t *testing.T) {
	skipShort(t)
	m := startMain(t, true)
	ctx := browser(t)
	dir := allowDownloads(t, ctx)
	uploadPhoto(t, ctx, m.URL(), "1056338697_4f7d7ce270.jpg")
	if _, err := png.Decode(bytes.NewReader(download(t, ctx, dir, "download", "caption-attention.png"))); err != nil {
		t.Errorf("caption-attention.png: %v", err)
	}
	g, err := gif.DecodeAll(bytes.NewReader(download(t, ctx, dir, "download-gif", "caption-attention.gif")))
	if err != nil || len(g.Image) < 2 {
		t.Errorf("caption-attention.gif: %v", err)
	}
	var run struct {
		Steps []struct {
			Token     string
			Attention []float32
		}
	}
	if err := json.Unmarshal(download(t, ctx, dir, "download-json", "caption-run.json"), &run); err != nil ||
		len(run.Steps) != len(g.Image) || len(run.Steps[0].Attention) != 49 {
		t.Errorf("caption-run.json: %v, %d steps for %d frames", err, len(run.Steps), len(g.Image))
	}
}
