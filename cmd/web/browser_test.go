package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"attention/internal/testenv"
)

// startMain runs the real server on a free port.
func startMain(t *testing.T) *Main {
	t.Helper()
	m := &Main{Addr: "127.0.0.1:0", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func browser(t *testing.T) context.Context {
	t.Helper()
	exe := testenv.Chromium(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true), chromedp.Flag("disable-dev-shm-usage", true),
	}
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	ctx, cancel3 := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancel3)
	return ctx
}

// A person types a sentence, presses enter, and watches the grid fill in:
// at the end it has one row per target word and one column per source word.
func TestBrowserTranslate(t *testing.T) {
	m := startMain(t)
	ctx := browser(t)
	const sentence = "A man in a blue shirt is riding a bike."
	err := chromedp.Do(ctx,
		chromedp.Navigate(m.URL()+"/"),
		chromedp.WaitVisible(chromedp.ID("text")),
		chromedp.SendKeys(chromedp.ID("text"), sentence+"\r"),
		chromedp.Poll[chromedp.Void](`/done/i.test(document.querySelector('#status')?.textContent || '')`,
			chromedp.WithPollingTimeout(60*time.Second)),
	)
	if err != nil {
		t.Fatal(err)
	}
	count := func(sel string) int {
		t.Helper()
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll(`+strconv.Quote(sel)+`).length`))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	srcCount, tgtCount := count("#source .src-tok"), count("#target .tgt-tok")
	rows, cellsFirstRow, cells := count("#grid .grid-row"), count(`#grid .grid-cell[data-row="0"]`), count("#grid .grid-cell")
	status, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("status")))
	if err != nil {
		t.Fatal(err)
	}
	if srcCount != 11 { // A man in a blue shirt is riding a bike .
		t.Errorf("%d source words shown, want 11", srcCount)
	}
	if tgtCount == 0 || rows != tgtCount {
		t.Errorf("grid has %d rows for %d target words", rows, tgtCount)
	}
	if cellsFirstRow != srcCount || cells != rows*srcCount {
		t.Errorf("grid has %d cells (%d in row 0), want %d x %d", cells, cellsFirstRow, rows, srcCount)
	}
	t.Logf("status %q: %d target words", status, tgtCount)
	if dir := os.Getenv("ATTN_SCREENSHOTS"); dir != "" {
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, "translate-"+strconv.Itoa(tgtCount)+".png"), png, 0o644)
	}
}
