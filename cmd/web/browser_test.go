package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"go.uber.org/goleak"

	"attention/internal/testenv"
)

// startMain runs the real server on a free port, with the image encoder
// from ../shared/data when encoder is true.
// skipShort leaves a browser test out of go test -short: the README's quick
// run keeps the core pages' tests, CI runs every one.
func skipShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: a further browser check; CI runs it")
	}
}

func startMain(t *testing.T, encoder bool) *Main {
	t.Helper()
	m := &Main{Addr: "127.0.0.1:0", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Offline: true}
	if encoder {
		m.EncoderWeights = filepath.Join(testenv.SharedData(t), "weights", "mobilenet_v2_1.0_224_quant.tflite")
		m.SegWeights = filepath.Join(testenv.SharedData(t), "weights", segFile)
	}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// One Chromium for the whole package, each test in a tab of its own:
// every start of a browser is a chance for it to fail on a loaded machine.
var shared struct {
	once    sync.Once
	ctx     context.Context // the browser's first tab, which keeps it running
	err     error
	cleanup func()
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.cleanup != nil {
		shared.cleanup()
	}
	// Every server, class and NATS the tests started is gone.
	if code == 0 {
		if err := goleak.Find(goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
			goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop")); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// browser opens a new tab, starting the browser on first use.
func browser(t *testing.T) context.Context {
	t.Helper()
	exe := testenv.Chromium(t)
	shared.once.Do(func() {
		dir, err := os.MkdirTemp("", "attention-chromium-")
		if err != nil {
			shared.err = err
			return
		}
		opts := []chromedp.ExecAllocatorOption{
			chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
			chromedp.UserDataDir(dir), chromedp.WindowSize(1280, 900),
			chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true), chromedp.Flag("disable-dev-shm-usage", true),
		}
		actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		bctx, cancelBrowser := chromedp.NewContext(actx)
		shared.cleanup = func() {
			cancelBrowser()
			cancelAlloc()
			os.RemoveAll(dir)
		}
		shared.ctx, shared.err = bctx, chromedp.Do(bctx) // starts the browser
	})
	if shared.err != nil {
		t.Fatalf("starting Chromium: %v", shared.err)
	}
	ctx, cancel := chromedp.NewContext(shared.ctx) // a new tab
	t.Cleanup(cancel)
	ctx, cancel2 := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancel2)
	return ctx
}

// A person types a sentence, presses enter, and watches the grid fill in:
// at the end it has one row per target word and one column per source word.
func TestBrowserTranslate(t *testing.T) {
	m := startMain(t, false)
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

// captionPhoto starts the server with the image encoder and the
// segmentation network, uploads a Flickr8k photo on the caption page
// (instant pacing) and waits until the caption is done.
func captionPhoto(t *testing.T, name string) context.Context {
	t.Helper()
	m := startMain(t, true)
	ctx := browser(t)
	uploadPhoto(t, ctx, m.URL(), name)
	return ctx
}

// uploadPhoto opens the caption page at url, uploads a Flickr8k photo
// (instant pacing) and waits until the caption is done.
func uploadPhoto(t *testing.T, ctx context.Context, url, name string) {
	t.Helper()
	uploadPhotoAt(t, ctx, url+"/caption", name)
}

// uploadPhotoAt is uploadPhoto on the caption page at page (in the
// language it names, say); setup runs on the page before the upload (a
// beam, a toggle).
func uploadPhotoAt(t *testing.T, ctx context.Context, page, name string, setup ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	photo := filepath.Join(testenv.SharedData(t), "flickr8k", "images", name)
	actions := append([]chromedp.Action[chromedp.Void]{
		chromedp.Navigate(page),
		chromedp.WaitReady(chromedp.ID("file")),
		chromedp.SetValue(chromedp.ID("pace"), "live"),
	}, setup...)
	err := chromedp.Do(ctx, append(actions,
		chromedp.SetUploadFiles(chromedp.ID("file"), []string{photo}, chromedp.NodeReady),
		chromedp.Poll[chromedp.Void](`document.querySelector('#status')?.classList.contains('is-ok')`,
			chromedp.WithPollingTimeout(60*time.Second)),
	)...)
	if err != nil {
		status, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("status")))
		t.Fatalf("%v (status %q)", err, status)
	}
}

// A person uploads a photo and watches the caption appear; stepping through
// the words moves the heatmap over the photo.
func TestBrowserCaption(t *testing.T) {
	// The first Flickr8k test image: dogs playing in the snow.
	ctx := captionPhoto(t, "3385593926_d3e9c21170.jpg")
	words, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#target .tgt-tok')].map(e => e.textContent)`))
	if err != nil {
		t.Fatal(err)
	}
	if len(words) < 3 {
		t.Fatalf("caption %q: want at least 3 words", words)
	}
	// Step through the words with the slider, as a person would, and
	// collect the heat layer shown for each.
	layers, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`(() => {
		const s = document.querySelector('#step');
		const out = [];
		for (let i = 0; i <= Number(s.max); i++) {
			s.value = String(i);
			s.dispatchEvent(new Event('input', { bubbles: true }));
			out.push(document.querySelector('#heat').getAttribute('src') || '');
		}
		return out;
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	thumbs, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#strip .thumb').length`))
	if err != nil {
		t.Fatal(err)
	}
	distinct := map[string]bool{}
	for _, l := range layers {
		if l == "" {
			t.Fatal("a word has no heat layer over the photo")
		}
		distinct[l] = true
	}
	if len(layers) != len(words) || thumbs != len(words) {
		t.Fatalf("%d words, %d slider positions, %d strip thumbnails", len(words), len(layers), thumbs)
	}
	if len(distinct) < 2 {
		t.Fatalf("the overlay never changes across %d words", len(words))
	}
	t.Logf("caption %q: %d distinct heat layers", words, len(distinct))
	readout, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("readout")))
	checkSpread(t, readout, "regions")
	if dir := os.Getenv("ATTN_SCREENSHOTS"); dir != "" {
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, "caption.png"), png, 0o644)
	}
}

// A teacher turns on "where is the object?" and steps to a word that names
// an object: the object is outlined over the photo and the readout says how
// much of the word's attention is on it.
func TestBrowserWhereIsTheObject(t *testing.T) {
	// A Flickr8k test photo of a woman and a dog, each covering a large part
	// of it (the network reads the dogs in the snow of the other test as
	// horses).
	ctx := captionPhoto(t, "757332692_6866ae545c.jpg")
	type seen struct {
		Word, Readout, Outline string
		Shown                  bool
	}
	// Off by default: no outline, no readout.
	off, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('#outline').hidden && document.querySelector('#object-readout').hidden`))
	if err != nil || !off {
		t.Fatalf("the check shows something before it is turned on (%v)", err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("where"), chromedp.NodeVisible)); err != nil {
		t.Fatal(err)
	}
	steps, err := chromedp.Run(ctx, chromedp.Evaluate[[]seen](`(() => {
		const s = document.querySelector('#step');
		const out = [];
		for (let i = 0; i <= Number(s.max); i++) {
			s.value = String(i);
			s.dispatchEvent(new Event('input', { bubbles: true }));
			const o = document.querySelector('#outline');
			out.push({ Word: document.querySelectorAll('#target .tgt-tok')[i].textContent,
				Readout: document.querySelector('#object-readout').textContent,
				Outline: o.getAttribute('src') || '', Shown: !o.hidden });
		}
		return out;
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	found, first := 0, -1
	for i, st := range steps {
		if !strings.HasPrefix(st.Readout, "Where is the") {
			if st.Shown {
				t.Errorf("%q names no object but an outline is shown", st.Word)
			}
			continue
		}
		found++
		if first < 0 {
			first = i
		}
		if !st.Shown || !strings.HasPrefix(st.Outline, "data:image/png;base64,") {
			t.Errorf("%q: readout %q but no outline over the photo", st.Word, st.Readout)
		}
		if !strings.Contains(st.Readout, "% of the attention") {
			t.Errorf("%q: readout %q has no attention share", st.Word, st.Readout)
		}
		t.Logf("%q: %s", st.Word, st.Readout)
	}
	if found == 0 {
		t.Fatalf("no word of the caption %v got an object readout: the photo shows a woman and a dog", steps)
	}
	if dir := os.Getenv("ATTN_SCREENSHOTS"); dir != "" {
		// Shown at the first word that names an object.
		err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`(() => {
			const s = document.querySelector('#step');
			s.value = '`+strconv.Itoa(first)+`';
			s.dispatchEvent(new Event('input', { bubbles: true }));
		})()`))
		if err != nil {
			t.Fatal(err)
		}
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, "caption-where.png"), png, 0o644)
	}
}

// Text the model cannot read gets a clear refusal in the status line, not
// a translation of unknown words and "Done"; the page also says what the
// chosen model was trained on.
func TestBrowserRefusesOtherLanguages(t *testing.T) {
	skipShort(t)
	m := startMain(t, false)
	ctx := browser(t)
	err := chromedp.Do(ctx,
		chromedp.Navigate(m.URL()+"/"),
		chromedp.WaitVisible(chromedp.ID("text")),
		chromedp.SendKeys(chromedp.ID("text"), "나는 배가 고파요\r"),
		chromedp.Poll[chromedp.Void](`/Korean/.test(document.querySelector('#status')?.textContent || '')`,
			chromedp.WithPollingTimeout(20*time.Second)),
	)
	if err != nil {
		status, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("status")))
		t.Fatalf("%v (status %q)", err, status)
	}
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#grid .grid-row').length`))
	if err != nil || rows != 0 {
		t.Errorf("a grid of %d rows was drawn for refused text (%v)", rows, err)
	}
	note, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("model-note")))
	if err != nil || !strings.HasPrefix(note, "Trained on ") {
		t.Errorf("model note %q (%v), want what the model was trained on", note, err)
	}
}
