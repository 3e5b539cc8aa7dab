package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"attention/model"
	"attention/model/checkpoint"
	"attention/model/trained"
	"attention/model/translate"
)

// modelsWithBaseline is a model directory holding the shipped en-de and, as
// its baseline, a model of the same shape and vocabularies without
// attention and with random weights (the page's mechanics do not depend on
// the baseline's quality), with scores by length for the figure.
func modelsWithBaseline(t *testing.T) string {
	t.Helper()
	ms, err := trained.Load("")
	if err != nil {
		t.Fatal(err)
	}
	var de *translate.Model
	for _, m := range ms.Translators {
		if m.ID == "en-de" {
			de = m
		}
	}
	if de == nil {
		t.Fatal("no en-de model embedded")
	}
	dir := t.TempDir()
	data, err := os.ReadFile(filepath.Join("..", "..", "model", "trained", "weights", "en-de.ckpt"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "en-de.ckpt"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	c := de.Cfg
	c.Attention = false
	base := translate.Random(c, 1, 0)
	f, err := translate.ToCheckpoint(c, base.P, de.Src.Words(), de.Tgt.Words(), map[string]any{"title": "English → German, no attention"}, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkpoint.Save(filepath.Join(dir, "en-de-noatt.ckpt"), f); err != nil {
		t.Fatal(err)
	}
	scores, _ := json.Marshal(map[string]model.ByLength{"en-de": {
		Buckets: []model.LengthRange{{Lo: 1, Hi: 10, N: 10}, {Lo: 11, N: 5}},
		Series:  []model.LengthScores{{Name: "with attention", BLEU: []float64{30, 28}}, {Name: "without attention", BLEU: []float64{20, 10}}},
	}})
	if err := os.WriteFile(filepath.Join(dir, trained.ByLengthFile), scores, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// With vs without attention: with "beside it" on, the same sentence is
// decoded by the model without attention too, its words shown beside in
// step, with the note on why it has no grid and the by-length figure.
func TestBrowserSideBySide(t *testing.T) {
	skipShort(t)
	m := &Main{Addr: "127.0.0.1:0", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Offline: true, ModelDir: modelsWithBaseline(t)}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	ctx := browser(t)
	err := chromedp.Do(ctx,
		chromedp.Navigate(m.URL()+"/"),
		chromedp.WaitVisible(chromedp.ID("text")),
		chromedp.Click(chromedp.ID("compare")),
		chromedp.Evaluate[chromedp.Void](`(() => { const p = document.querySelector('#pace'); p.value = 'live'; p.dispatchEvent(new Event('change')); })()`),
		chromedp.SendKeys(chromedp.ID("text"), "Two dogs are playing in the snow.\r"),
		chromedp.Poll[chromedp.Void](`document.querySelector('#status').classList.contains('is-ok') && document.querySelectorAll('#baseline-words .tgt-tok:not([hidden])').length > 0`,
			chromedp.WithPollingTimeout(60*time.Second)),
		chromedp.Poll[chromedp.Void](`document.querySelector('#baseline-img').complete && document.querySelector('#baseline-img').naturalWidth > 0`,
			chromedp.WithPollingTimeout(20*time.Second)),
	)
	if err != nil {
		t.Fatal(err)
	}
	v, err := chromedp.Run(ctx, chromedp.Evaluate[struct {
		Shown, FigureShown bool
		Note, Figure       string
	}](`({Shown: !document.querySelector('#baseline').hidden, FigureShown: !document.querySelector('#baseline-figure').hidden,
	     Note: document.querySelector('.baseline-note').textContent, Figure: document.querySelector('#baseline-img').src})`))
	if err != nil {
		t.Fatal(err)
	}
	if !v.Shown || !v.FigureShown || len(v.Note) < 40 {
		t.Fatalf("%+v", v)
	}
	if dir := os.Getenv("ATTN_SCREENSHOTS"); dir != "" {
		if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
			os.WriteFile(filepath.Join(dir, "side-by-side.png"), png, 0o644)
		}
	}
}

// With vs without attention on the caption page: the shipped Show and Tell
// baseline captions the same photo beside, with the note saying why it has
// no heatmap (and no figure: that is the translation page's).
func TestBrowserCaptionSideBySide(t *testing.T) {
	skipShort(t)
	m := startMain(t, true)
	ctx := browser(t)
	uploadPhotoAt(t, ctx, m.URL()+"/caption", "3385593926_d3e9c21170.jpg", chromedp.Click(chromedp.ID("compare")))
	err := chromedp.Do(ctx,
		chromedp.Poll[chromedp.Void](`document.querySelectorAll('#baseline-words .tgt-tok:not([hidden])').length > 2`,
			chromedp.WithPollingTimeout(60*time.Second)),
	)
	if err != nil {
		t.Fatal(err)
	}
	v, err := chromedp.Run(ctx, chromedp.Evaluate[struct {
		Baseline    string
		FigureShown bool
		Words       int
	}](`({Baseline: document.querySelector('#model').selectedOptions[0].dataset.baseline, FigureShown: !document.querySelector('#baseline-figure').hidden,
	     Words: document.querySelectorAll('#baseline-words .tgt-tok').length})`))
	if err != nil {
		t.Fatal(err)
	}
	if v.Baseline != "caption-noatt" || v.FigureShown || v.Words < 3 {
		t.Fatalf("%+v", v)
	}
}
