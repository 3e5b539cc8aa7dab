package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"attention/internal/testenv"
	"attention/model"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
)

// box is an element's place on screen, in CSS pixels.
type box struct {
	Found                    bool
	Left, Top, Right, Bottom float64
}

// layout is what a layout test reads from the page.
type layout struct {
	ViewW, ViewH, DocW float64
	Boxes              map[string]box
}

// readLayout measures the document and the named elements.
const readLayout = `(() => {
  const out = {ViewW: innerWidth, ViewH: innerHeight, DocW: document.documentElement.scrollWidth, Boxes: {}};
  for (const sel of %s) {
    const e = document.querySelector(sel);
    if (!e) { out.Boxes[sel] = {Found: false}; continue; }
    const r = e.getBoundingClientRect();
    out.Boxes[sel] = {Found: true, Left: r.left, Top: r.top, Right: r.right, Bottom: r.bottom};
  }
  return out;
})()`

// checkLayout saves a screenshot (under $ATTN_SCREENSHOTS, as
// layout-NAME.png) and fails if the page scrolls sideways, if one of sels
// is missing, or if one of onScreen is not wholly within the viewport.
func checkLayout(t *testing.T, ctx context.Context, name string, sels, onScreen []string) {
	t.Helper()
	l, err := chromedp.Run(ctx, chromedp.Evaluate[layout](fmt.Sprintf(readLayout, jsList(sels))))
	if err != nil {
		t.Fatal(err)
	}
	if dir := os.Getenv("ATTN_SCREENSHOTS"); dir != "" {
		if png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot()); err == nil {
			os.WriteFile(filepath.Join(dir, "layout-"+name+".png"), png, 0o644)
		}
	}
	t.Logf("%s: document %.0f px wide; boxes %+v", name, l.DocW, l.Boxes)
	if l.DocW > l.ViewW+0.5 {
		wide, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > innerWidth + 0.5 && getComputedStyle(e).position !== 'fixed' && !e.closest('.grid-scroll, .strip')).slice(0, 6).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className && typeof e.className === 'string' ? '.' + e.className.split(' ').join('.') : '') + ' ' + Math.round(e.getBoundingClientRect().right))`))
		t.Errorf("the page is %.0f px wide in a %.0f px viewport: it scrolls sideways (past the edge: %v)", l.DocW, l.ViewW, wide)
	}
	for _, sel := range sels {
		b := l.Boxes[sel]
		if !b.Found {
			t.Errorf("%s is missing", sel)
			continue
		}
		if !slices.Contains(onScreen, sel) {
			continue
		}
		if b.Top < 0 || b.Bottom > l.ViewH+0.5 || b.Left < 0 || b.Right > l.ViewW+0.5 {
			t.Errorf("%s spans (%.0f,%.0f)-(%.0f,%.0f), not within the %.0fx%.0f screen", sel, b.Left, b.Top, b.Right, b.Bottom, l.ViewW, l.ViewH)
		}
	}
}

func jsList(sels []string) string {
	s := "["
	for i, x := range sels {
		if i > 0 {
			s += ","
		}
		s += fmt.Sprintf("%q", x)
	}
	return s + "]"
}

// translateOnPage opens the translation page at url, types sentence into
// an empty box with instant pacing, and waits until the status says done.
func translateOnPage(t *testing.T, ctx context.Context, url, sentence string) {
	t.Helper()
	err := chromedp.Do(ctx,
		chromedp.Navigate(url+"/"),
		chromedp.WaitVisible(chromedp.ID("text")),
		chromedp.Evaluate[chromedp.Void](`(() => { const p = document.querySelector('#pace'); p.value = 'live'; p.dispatchEvent(new Event('change')); document.querySelector('#text').value = ''; })()`),
		chromedp.SendKeys(chromedp.ID("text"), sentence+"\r"),
		chromedp.Poll[chromedp.Void](`/done/i.test(document.querySelector('#status')?.textContent || '')`,
			chromedp.WithPollingTimeout(60*time.Second)),
	)
	if err != nil {
		t.Fatal(err)
	}
}

// The translation page at a projector's, a laptop's and a phone's size,
// with a 12-word sentence: no sideways page scroll anywhere; on the
// projector sizes the input, the output words and the whole grid are on
// screen without scrolling.
func TestBrowserLayouts(t *testing.T) {
	m := startMain(t, false)
	const sentence = "I saw two children playing with a small brown dog in the park."
	// 30 words with the full stop and the comma: the grid shrinks to fit.
	const long = "On a sunny afternoon in the city park, two young children and their small brown dog are playing with a big red ball near the old wooden bench."
	// The grid's box and its last row (a scaled grid must not be clipped).
	all := []string{"#text", "#target", "#grid", "#grid tbody tr:last-child"}
	for _, size := range []struct {
		name, sentence string
		w, h           int64
		onScreen       []string // wholly on screen without scrolling
	}{
		{"projector-1920x1080", sentence, 1920, 1080, all},
		{"projector-1280x720", sentence, 1280, 720, all},
		{"projector-1280x720-30-words", long, 1280, 720, []string{"#text", "#grid", "#grid tbody tr:last-child"}},
		{"laptop-1280x800", sentence, 1280, 800, all},
		{"phone-390x844", sentence, 390, 844, nil},
	} {
		t.Run(size.name, func(t *testing.T) {
			ctx := browser(t)
			if err := chromedp.Do(ctx, chromedp.EmulateViewport(size.w, size.h)); err != nil {
				t.Fatal(err)
			}
			translateOnPage(t, ctx, m.URL(), size.sentence)
			chromedp.Do(ctx, chromedp.Sleep(300*time.Millisecond))
			checkLayout(t, ctx, "translate-"+size.name, all, size.onScreen)
			// Column labels: across where they fit ("I" is never a dash on
			// its side), else at 45 degrees; never rotated by 90.
			labels, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#grid .col-label')].map(e => e.textContent + ' ' + getComputedStyle(e).writingMode + ' ' + getComputedStyle(e).transform + ' ' + e.classList.contains('is-angled'))`))
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range labels {
				f := strings.Fields(l)
				if f[1] != "horizontal-tb" || (f[0] == "I" && f[len(f)-1] == "true") {
					t.Errorf("column label %q: want horizontal text, and \"I\" straight across", l)
				}
				if strings.Contains(l, "matrix(0, 1") || strings.Contains(l, "matrix(0, -1") {
					t.Errorf("column label %q is turned on its side", l)
				}
			}
		})
	}
}

// The caption page on a projector shows the photo with its heatmap, the
// caption and the strip of per-word heatmaps without scrolling; on a phone
// nothing widens the page.
func TestBrowserCaptionLayouts(t *testing.T) {
	skipShort(t)
	m := startMain(t, true)
	for _, size := range []struct {
		name     string
		w, h     int64
		onScreen []string
	}{
		{"projector-1920x1080", 1920, 1080, []string{"#stage", "#target", "#strip"}},
		{"laptop-1100x800", 1100, 800, nil},
		{"phone-390x844", 390, 844, nil},
	} {
		t.Run(size.name, func(t *testing.T) {
			ctx := browser(t)
			if err := chromedp.Do(ctx, chromedp.EmulateViewport(size.w, size.h)); err != nil {
				t.Fatal(err)
			}
			uploadPhoto(t, ctx, m.URL(), "3385593926_d3e9c21170.jpg")
			chromedp.Do(ctx, chromedp.Sleep(300*time.Millisecond))
			checkLayout(t, ctx, "caption-"+size.name, []string{"#stage", "#target", "#strip"}, size.onScreen)
			// A phone is offered its camera; a wide screen is not.
			camera, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { const i = document.querySelector('input#camera[capture]'); return !!i && i.closest('label').offsetParent !== null; })()`))
			if err != nil || camera != (size.w < 800) {
				t.Errorf("camera button shown: %v (%v), want %v at %d px", camera, err, size.w < 800, size.w)
			}
			// The top choices' bars are long enough to compare by eye.
			bar, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.querySelector('#topk .topk-bar').getBoundingClientRect().width`))
			if err != nil || bar < 80 {
				t.Errorf("top-k bar %.0f px wide (%v), want at least 80", bar, err)
			}
		})
	}
}

// Presenter view: P (or the header's button) hides the options and the
// explanations, keeps the input, enlarges the output words, and is kept in
// the URL; P again brings everything back.
func TestBrowserPresenter(t *testing.T) {
	skipShort(t)
	m := startMain(t, false)
	ctx := browser(t)
	state := func() (hidden bool, inputShown bool, size float64, url string) {
		t.Helper()
		r, err := chromedp.Run(ctx, chromedp.Evaluate[struct {
			Hidden, Input bool
			Size          float64
			URL           string
		}](`({Hidden: document.querySelector('.options').offsetParent === null && document.querySelector('.explain').offsetParent === null,
		      Input: document.querySelector('#text').offsetParent !== null,
		      Size: parseFloat(getComputedStyle(document.querySelector('#target .tgt-tok')).fontSize),
		      URL: location.href})`))
		if err != nil {
			t.Fatal(err)
		}
		return r.Hidden, r.Input, r.Size, r.URL
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1920, 1080)); err != nil {
		t.Fatal(err)
	}
	translateOnPage(t, ctx, m.URL(), "A dog runs on the grass.")
	hidden, _, before, _ := state()
	if hidden {
		t.Fatal("options hidden before presenter view was asked for")
	}
	// A skip link leads past the controls to the grid.
	skip, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { const a = document.querySelector('a.skip-link[href="#grid-title"]'); return !!a && !!document.querySelector(a.getAttribute('href')); })()`))
	if err != nil || !skip {
		t.Errorf("no skip link to the grid (%v)", err)
	}
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`document.activeElement.blur()`), chromedp.KeyEvent("p")); err != nil {
		t.Fatal(err)
	}
	hidden, input, after, url := state()
	if !hidden || !input || after <= before || !strings.Contains(url, "present=1") {
		t.Errorf("after P: controls hidden %v, input shown %v, output words %.0f px (before %.0f), URL %s", hidden, input, after, before, url)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("presenter"))); err != nil {
		t.Fatal(err)
	}
	hidden, _, back, url := state()
	if hidden || back != before || strings.Contains(url, "present=1") {
		t.Errorf("after the button: controls hidden %v, output words %.0f px (want %.0f), URL %s", hidden, back, before, url)
	}
}

// A refused file leaves nothing of the photo before it on the page: after a
// captioned photo, a text file named .jpg (refused by the server) and a
// .txt file (refused by the page) each leave an error, an empty stage, no
// caption and no top choices.
func TestBrowserRefusedPhotoClearsPage(t *testing.T) {
	skipShort(t)
	dir := t.TempDir()
	fake, txt := filepath.Join(dir, "notes.jpg"), filepath.Join(dir, "notes.txt")
	for _, p := range []string{fake, txt} {
		if err := os.WriteFile(p, []byte("this is a shopping list, not a picture\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx := captionPhoto(t, "3385593926_d3e9c21170.jpg")
	for _, file := range []string{fake, txt} {
		err := chromedp.Do(ctx,
			chromedp.SetUploadFiles(chromedp.ID("file"), []string{file}, chromedp.NodeReady),
			chromedp.Poll[chromedp.Void](`document.querySelector('#status').classList.contains('is-error')`,
				chromedp.WithPollingTimeout(30*time.Second)),
		)
		if err != nil {
			t.Fatalf("%s: %v", filepath.Base(file), err)
		}
		got, err := chromedp.Run(ctx, chromedp.Evaluate[struct {
			PhotoHidden, EmptyShown bool
			Words, TopK             int
			Status                  string
		}](`({PhotoHidden: document.querySelector('#photo').hidden, EmptyShown: !document.querySelector('#stage-empty').hidden,
		      Words: document.querySelectorAll('#target .tgt-tok').length, TopK: document.querySelectorAll('#topk li').length,
		      Status: document.querySelector('#status').textContent})`))
		if err != nil {
			t.Fatal(err)
		}
		if !got.PhotoHidden || !got.EmptyShown || got.Words != 0 || got.TopK != 0 {
			t.Errorf("%s: %+v; want the old photo, caption and top choices gone", filepath.Base(file), got)
		}
	}
}

// The server goes away and comes back: the page says so, and an error
// that only said the server was unreachable does not outlive its return.
func TestBrowserServerComesBack(t *testing.T) {
	skipShort(t)
	m := startMain(t, false)
	ctx := browser(t)
	addr := strings.TrimPrefix(m.URL(), "http://")
	poll := func(js string) error {
		return chromedp.Do(ctx, chromedp.Poll[chromedp.Void](js, chromedp.WithPollingTimeout(40*time.Second)))
	}
	err := chromedp.Do(ctx,
		chromedp.Navigate(m.URL()+"/"),
		chromedp.WaitVisible(chromedp.ID("text")),
		chromedp.SendKeys(chromedp.ID("text"), "A dog runs.\r"),
	)
	if err == nil {
		err = poll(`/done/i.test(document.querySelector('#status').textContent)`)
	}
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	if err := poll(`/Connection lost/.test(document.querySelector('#status').textContent)`); err != nil {
		t.Fatalf("no word of the lost connection: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("go"))); err != nil {
		t.Fatal(err)
	}
	if err := poll(`/Could not reach the server/.test(document.querySelector('#status').textContent)`); err != nil {
		t.Fatalf("no error for a request to a missing server: %v", err)
	}
	back := &Main{Addr: addr, Logger: m.Logger, Offline: true}
	if err := back.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { back.Close() })
	if err := poll(`/Connected again/.test(document.querySelector('#status').textContent) && !document.querySelector('#status').classList.contains('is-error')`); err != nil {
		status, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("status")))
		t.Fatalf("after the server came back the status still says %q", status)
	}
}

// pickWord2 shows the top choices of word 2 and presses "what if?" on the
// first other word, returning it.
func pickWord2(t *testing.T, ctx context.Context) string {
	t.Helper()
	picked, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => {
		document.querySelectorAll('#target .tgt-tok')[1].dispatchEvent(new MouseEvent('mouseover', {bubbles: true}));
		const b = document.querySelector('#topk .topk-pick');
		if (!b) return '';
		const word = b.parentElement.querySelector('.topk-word').textContent;
		b.click();
		return word;
	})()`))
	if err != nil || picked == "" {
		t.Fatalf("no word to pick in the top choices (%v)", err)
	}
	return picked
}

// spreadRe reads a readout's "about k of the n words (entropy h nats".
var spreadRe = regexp.MustCompile(`amounts to about ([0-9.]+) of the ([0-9]+) (words|regions) \(entropy ([0-9.]+) nats`)

// checkSpread checks that a readout gives the attention's entropy and, as
// e to that power, how many of the inputs it amounts to.
func checkSpread(t *testing.T, readout, of string) {
	t.Helper()
	m := spreadRe.FindStringSubmatch(readout)
	if m == nil || m[3] != of {
		t.Errorf("readout %q does not give the attention's entropy and how many %s it amounts to", readout, of)
		return
	}
	k, _ := strconv.ParseFloat(m[1], 64)
	n, _ := strconv.ParseFloat(m[2], 64)
	h, _ := strconv.ParseFloat(m[4], 64)
	if math.Abs(math.Exp(h)-k) > 0.06*k+0.05 || k < 1 || k > n || h > math.Log(n)+0.01 {
		t.Errorf("readout %q: e^%.2f = %.2f, not about %.1f of %.0f", readout, h, math.Exp(h), k, n)
	}
}

// typeWord2 opens word 2's top choices and types word as a word of one's
// own there.
func typeWord2(t *testing.T, ctx context.Context, word string) {
	t.Helper()
	// By script, as pickWord2 clicks: a pointer moving to the form would
	// leave word 2 and show the current word's choices.
	err := chromedp.Do(ctx,
		chromedp.Evaluate[chromedp.Void](`document.querySelectorAll('#target .tgt-tok')[1].dispatchEvent(new MouseEvent('mouseover', {bubbles: true}))`),
		chromedp.WaitVisible(chromedp.ID("topk-force-word")),
		chromedp.SetValue(chromedp.ID("topk-force-word"), word),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('#topk-force').requestSubmit()`),
	)
	if err != nil {
		t.Fatalf("typing %q as word 2: %v", word, err)
	}
}

// checkTypedWords types a word the model does not know (the page says so
// and decodes nothing) and then, in lower case, one it does (forced as
// word 2 in the model's own spelling; Undo brings the output back).
func checkTypedWords(t *testing.T, ctx context.Context, unknown, typed, want string, own string, words func() string) {
	t.Helper()
	typeWord2(t, ctx, unknown)
	err := chromedp.Do(ctx, chromedp.Poll[chromedp.Void](`/not among the [0-9]+ words/.test(document.querySelector('#topk-force-msg').textContent)`, chromedp.WithPollingTimeout(20*time.Second)))
	if err != nil {
		msg, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("topk-force-msg")))
		t.Fatalf("typing %q, a word the model does not know: message %q (%v)", unknown, msg, err)
	}
	if w := words(); w != own {
		t.Errorf("an unknown typed word changed the output: %q, want %q", w, own)
	}
	typeWord2(t, ctx, typed)
	err = chromedp.Do(ctx, chromedp.Poll[chromedp.Void](`!document.querySelector('#whatif').hidden && /done/i.test(document.querySelector('#status').textContent) && document.querySelectorAll('#target .tgt-tok.forced').length === 2`,
		chromedp.WithPollingTimeout(60*time.Second)))
	if err != nil {
		t.Fatalf("no output with the typed word %q forced: %v (words %q)", typed, err, words())
	}
	if got := strings.Fields(words()); len(got) < 2 || got[1] != want+"*" {
		t.Errorf("after typing %q as word 2: %v, want %q there", typed, got, want)
	}
	err = chromedp.Do(ctx, chromedp.Click(chromedp.ID("undo")),
		chromedp.Poll[chromedp.Void](`document.querySelector('#whatif').hidden && /done/i.test(document.querySelector('#status').textContent) && document.querySelectorAll('#target .tgt-tok.forced').length === 0`,
			chromedp.WithPollingTimeout(60*time.Second)))
	if err != nil {
		t.Fatal(err)
	}
}

// version is one side of a finished what-if: the model's own output or
// the changed one, its log-probability as shown, and how many grid rows
// or heatmaps it draws.
type version struct {
	Which, Words string
	LogP         float64
	Rows, Heats  int
}

func versions(t *testing.T, ctx context.Context) []version {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[[]version](`[...document.querySelectorAll('#whatif-versions .version')].map(v => ({
		Which: v.dataset.which, Words: v.querySelector('.version-words').textContent,
		LogP: Number(v.querySelector('.version-logp').dataset.logp),
		Rows: v.querySelectorAll('.mini-grid tbody tr').length, Heats: v.querySelectorAll('.version-thumb canvas').length}))`))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// pageLogProb decodes the page's input again through the JSON API, as the
// page asked for it (model, beam), and adds up the log-probabilities of the
// words the server returns. photo is the caption page's upload ("" on the
// translation page).
func pageLogProb(t *testing.T, ctx context.Context, photo string) float64 {
	t.Helper()
	type form struct{ Origin, Text, Model, Beam string }
	f, err := chromedp.Run(ctx, chromedp.Evaluate[form](`({Origin: location.origin, Text: document.querySelector('#text')?.value.trim() || '',
		Model: document.querySelector('#model').value, Beam: document.querySelector('#beam').value})`))
	if err != nil {
		t.Fatal(err)
	}
	var res *http.Response
	if photo == "" {
		beam, _ := strconv.Atoi(f.Beam)
		body, _ := json.Marshal(map[string]any{"text": f.Text, "model": f.Model, "beam": beam})
		res, err = http.Post(f.Origin+"/api/v1/translate", "application/json", bytes.NewReader(body))
	} else {
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		part, _ := w.CreateFormFile("image", filepath.Base(photo))
		data, rerr := os.ReadFile(photo)
		if rerr != nil {
			t.Fatal(rerr)
		}
		part.Write(data)
		w.WriteField("model", f.Model)
		w.WriteField("beam", f.Beam)
		w.Close()
		res, err = http.Post(f.Origin+"/api/v1/caption", w.FormDataContentType(), &buf)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out struct{ Steps []model.Step }
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("decoding again: %s (%v)", res.Status, err)
	}
	var sum float64
	for _, s := range out.Steps {
		sum += math.Log(float64(s.Prob))
	}
	return sum
}

// checkVersions checks a finished what-if shows the model's own output
// (own, with log-probability ownLogP) beside the changed one (changed),
// each with a picture per word: grid rows, or heatmaps on the caption page.
func checkVersions(t *testing.T, got []version, own, changed string, ownLogP float64, heats bool) {
	t.Helper()
	if len(got) != 2 || got[0].Which != "own" || got[1].Which != "changed" {
		t.Fatalf("versions %+v: want the model's own, then the changed one", got)
	}
	for i, want := range []string{own, changed} {
		v := got[i]
		n := len(strings.Fields(want))
		pics := v.Rows
		if heats {
			pics = v.Heats
		}
		if v.Words != want || pics != n || !(v.LogP < 0) {
			t.Errorf("%s version %+v: want words %q, %d pictures, a negative log-probability", v.Which, v, want, n)
		}
	}
	if math.Abs(got[0].LogP-ownLogP) > 1e-3 {
		t.Errorf("the model's own log-probability shows %.4f, the server's steps add up to %.4f", got[0].LogP, ownLogP)
	}
}

// What if: after a translation, a person picks another word in the top
// choices; the sentence is translated again with that word forced (marked)
// and the model's own translation in a banner; Undo brings it back.
func TestBrowserWhatIf(t *testing.T) {
	m := startMain(t, false)
	ctx := browser(t)
	words := func() []string {
		t.Helper()
		w, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#target .tgt-tok')].map(e => e.textContent + (e.classList.contains('forced') ? '*' : ''))`))
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	const sentence = "A man is riding a bike."
	translateOnPage(t, ctx, m.URL(), sentence)
	own := words()
	ownLogP := pageLogProb(t, ctx, "")
	picked := pickWord2(t, ctx)
	err := chromedp.Do(ctx, chromedp.Poll[chromedp.Void](`!document.querySelector('#whatif').hidden && /done/i.test(document.querySelector('#status').textContent) && document.querySelectorAll('#target .tgt-tok.forced').length === 2`,
		chromedp.WithPollingTimeout(30*time.Second)))
	if err != nil {
		t.Fatalf("no forced translation after picking %q: %v (words %v)", picked, err, words())
	}
	forced := words()
	if forced[0] != own[0]+"*" || forced[1] != picked+"*" || strings.Contains(strings.Join(forced[2:], " "), "*") {
		t.Errorf("after picking %q as word 2: %v (own %v)", picked, forced, own)
	}
	checkVersions(t, versions(t, ctx), strings.Join(own, " "), strings.ReplaceAll(strings.Join(forced, " "), "*", ""), ownLogP, false)
	if dir := os.Getenv("ATTN_SCREENSHOTS"); dir != "" {
		if png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot()); err == nil {
			os.WriteFile(filepath.Join(dir, "whatif.png"), png, 0o644)
		}
	}
	banner, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("whatif-text")))
	if !strings.Contains(banner, strings.Join(own, " ")) {
		t.Errorf("banner %q does not show the model's own translation %q", banner, strings.Join(own, " "))
	}
	err = chromedp.Do(ctx, chromedp.Click(chromedp.ID("undo")),
		chromedp.Poll[chromedp.Void](`document.querySelector('#whatif').hidden && /done/i.test(document.querySelector('#status').textContent) && document.querySelectorAll('#target .tgt-tok.forced').length === 0`,
			chromedp.WithPollingTimeout(30*time.Second)))
	if err != nil {
		t.Fatal(err)
	}
	if back := words(); strings.Join(back, " ") != strings.Join(own, " ") {
		t.Errorf("after Undo: %v, want %v", back, own)
	}
	// A word of one's own, typed: looked up among the model's words.
	joined := func() string { return strings.Join(words(), " ") }
	checkTypedWords(t, ctx, "Qwzxv", "fahrradfahrer", "Fahrradfahrer", strings.Join(own, " "), joined)
}

// What if, on the caption page: pick another word for word 2 and the photo
// is captioned again with it forced there; Undo brings the caption back.
func TestBrowserCaptionWhatIf(t *testing.T) {
	skipShort(t)
	ctx := captionPhoto(t, "3385593926_d3e9c21170.jpg")
	words := func() string {
		t.Helper()
		w, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#target .tgt-tok')].map(e => e.textContent + (e.classList.contains('forced') ? '*' : ''))`))
		if err != nil {
			t.Fatal(err)
		}
		return strings.Join(w, " ")
	}
	own := words()
	ownLogP := pageLogProb(t, ctx, filepath.Join(testenv.SharedData(t), "flickr8k", "images", "3385593926_d3e9c21170.jpg"))
	picked := pickWord2(t, ctx)
	err := chromedp.Do(ctx, chromedp.Poll[chromedp.Void](`!document.querySelector('#whatif').hidden && /done/i.test(document.querySelector('#status').textContent) && document.querySelectorAll('#target .tgt-tok.forced').length === 2`,
		chromedp.WithPollingTimeout(60*time.Second)))
	if err != nil {
		t.Fatalf("no forced caption after picking %q: %v (words %q)", picked, err, words())
	}
	forced := words()
	if got := strings.Fields(forced); got[1] != picked+"*" {
		t.Errorf("after picking %q as word 2: %v (own %q)", picked, got, own)
	}
	checkVersions(t, versions(t, ctx), own, strings.ReplaceAll(forced, "*", ""), ownLogP, true)
	if dir := os.Getenv("ATTN_SCREENSHOTS"); dir != "" {
		if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
			os.WriteFile(filepath.Join(dir, "caption-whatif.png"), png, 0o644)
		}
	}
	err = chromedp.Do(ctx, chromedp.Click(chromedp.ID("undo")),
		chromedp.Poll[chromedp.Void](`document.querySelector('#whatif').hidden && /done/i.test(document.querySelector('#status').textContent) && document.querySelectorAll('#target .tgt-tok.forced').length === 0`,
			chromedp.WithPollingTimeout(60*time.Second)))
	if err != nil {
		t.Fatal(err)
	}
	if back := words(); back != own {
		t.Errorf("after Undo: %q, want %q", back, own)
	}
	checkTypedWords(t, ctx, "qwzxv", "Cat", "cat", own, words)
}

// Under the grid, the coverage row shows for the current word how much
// attention each input word has received so far: at the last word, the
// column sums of the whole grid; the readout says how many words the
// current word's attention amounts to.
func TestBrowserCoverage(t *testing.T) {
	skipShort(t)
	m := startMain(t, false)
	ctx := browser(t)
	translateOnPage(t, ctx, m.URL(), "Two dogs are playing in the snow.")
	r, err := chromedp.Run(ctx, chromedp.Evaluate[struct {
		Shown   []float64
		Sums    []float64
		Readout string
	}](`(() => {
		const shown = [...document.querySelectorAll('#grid .coverage-cell')].map(td => parseFloat(td.title.match(/received ([0-9.]+)/)[1]));
		const sums = shown.map((_, j) => [...document.querySelectorAll('#grid tbody .grid-cell[data-col="' + j + '"]')]
			.reduce((s, td) => s + parseFloat(td.title.split(': ').pop()), 0));
		return {Shown: shown, Sums: sums, Readout: document.querySelector('#readout').textContent};
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Shown) != 8 || len(r.Sums) != 8 {
		t.Fatalf("coverage row %v, column sums %v: want 8 input words", r.Shown, r.Sums)
	}
	total := 0.0
	for j := range r.Shown {
		total += r.Shown[j]
		if math.Abs(r.Shown[j]-r.Sums[j]) > 0.06 { // both read from two-decimal titles
			t.Errorf("coverage of word %d: %.2f, the grid's column sums to %.2f", j, r.Shown[j], r.Sums[j])
		}
	}
	rows, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#grid tbody tr').length`))
	if math.Abs(total-float64(rows)) > 0.05 {
		t.Errorf("coverage sums to %.2f over %d rows: each row's attention adds up to 1", total, rows)
	}
	checkSpread(t, r.Readout, "words")
	// The word chips are buttons whose names carry the attention.
	names, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#source .src-tok')].map(e => e.getAttribute('role') + ' ' + (e.getAttribute('aria-label') || ''))`))
	if err != nil || len(names) != 8 || !strings.HasPrefix(names[0], "button ") || !strings.Contains(strings.Join(names, "|"), "% of the attention") {
		t.Errorf("input word chips %q (%v): want buttons named with their share of the attention", names, err)
	}
}

// The pages in Korean: the header switch changes the language and keeps it
// in the URL; the status, readout and teaching text follow; the switch back
// gives English.
func TestBrowserKorean(t *testing.T) {
	m := startMain(t, true)
	ctx := browser(t)
	type page struct{ Lang, Heading, Status, Readout, URL string }
	const read = `({Lang: document.documentElement.lang, Heading: document.querySelector('#explain-title').textContent,
		Status: document.querySelector('#status')?.textContent || '', Readout: document.querySelector('#readout')?.textContent || '',
		URL: location.href})`
	err := chromedp.Do(ctx,
		chromedp.Navigate(m.URL()+"/"),
		chromedp.WaitVisible(chromedp.ID("text")),
		chromedp.Click(chromedp.CSS(`.lang-link[hreflang="ko"]`)),
		chromedp.WaitVisible(chromedp.CSS(`html[lang="ko"] #text`)),
		chromedp.Evaluate[chromedp.Void](`(() => { const p = document.querySelector('#pace'); p.value = 'live'; p.dispatchEvent(new Event('change')); })()`),
		chromedp.SendKeys(chromedp.ID("text"), "Two dogs are playing in the snow.\r"),
		chromedp.Poll[chromedp.Void](`/완료/.test(document.querySelector('#status')?.textContent || '')`, chromedp.WithPollingTimeout(60*time.Second)),
	)
	if err != nil {
		t.Fatal(err)
	}
	p, err := chromedp.Run(ctx, chromedp.Evaluate[page](read))
	if err != nil {
		t.Fatal(err)
	}
	if p.Lang != "ko" || p.Heading != "격자 읽는 법" || !strings.Contains(p.Status, "단어") || !strings.Contains(p.URL, "lang=ko") {
		t.Fatalf("%+v", p)
	}
	if !strings.Contains(p.Readout, "모델") {
		t.Errorf("readout not in Korean: %q", p.Readout)
	}
	if dir := os.Getenv("ATTN_SCREENSHOTS"); dir != "" {
		if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
			os.WriteFile(filepath.Join(dir, "translate-korean.png"), png, 0o644)
		}
	}
	// The caption page keeps the language; the switch goes back.
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`.site-nav a[href^="/caption"]`)),
		chromedp.WaitVisible(chromedp.CSS(`html[lang="ko"] #drop`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	if p, err = chromedp.Run(ctx, chromedp.Evaluate[page](read)); err != nil || p.Heading != "히트맵 읽는 법" {
		t.Fatalf("caption page in Korean: %+v %v", p, err)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`.lang-link[hreflang="en"]`)),
		chromedp.WaitVisible(chromedp.CSS(`html[lang="en"] #drop`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	if p, err = chromedp.Run(ctx, chromedp.Evaluate[page](read)); err != nil || p.Heading != "How to read the heatmap" || !strings.Contains(p.URL, "/caption?lang=en") {
		t.Fatalf("after the switch back: %+v %v", p, err)
	}
}

// A file refused while the caption is still being shown word by word
// (slow pacing) stops the playback and clears the page: the old caption
// does not freeze half-shown, and no word appears after the error.
func TestBrowserBadDropDuringPlayback(t *testing.T) {
	skipShort(t)
	bad := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(bad, []byte("not a picture\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	m := startMain(t, true)
	ctx := browser(t)
	photo := filepath.Join(testenv.SharedData(t), "flickr8k", "images", "3385593926_d3e9c21170.jpg")
	err := chromedp.Do(ctx,
		chromedp.Navigate(m.URL()+"/caption"),
		chromedp.WaitReady(chromedp.ID("file")),
		chromedp.SetValue(chromedp.ID("pace"), "slow"),
		chromedp.SetUploadFiles(chromedp.ID("file"), []string{photo}, chromedp.NodeReady),
		// Mid-playback: the second word is on screen, more to come.
		chromedp.Poll[chromedp.Void](`document.querySelectorAll('#target .tgt-tok:not([hidden])').length === 2`,
			chromedp.WithPollingTimeout(30*time.Second), chromedp.WithPollingInterval(20*time.Millisecond)),
		chromedp.SetUploadFiles(chromedp.ID("file"), []string{bad}, chromedp.NodeReady),
		chromedp.Poll[chromedp.Void](`document.querySelector('#status').classList.contains('is-error')`,
			chromedp.WithPollingTimeout(10*time.Second)),
		chromedp.Sleep(2*time.Second), // three words' time at this pace
	)
	if err != nil {
		t.Fatal(err)
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[struct {
		Words, Strip int
		PhotoHidden  bool
		Status       string
	}](`({Words: document.querySelectorAll('#target .tgt-tok').length, Strip: document.querySelectorAll('#strip figure').length,
	      PhotoHidden: document.querySelector('#photo').hidden, Status: document.querySelector('#status').textContent})`))
	if err != nil {
		t.Fatal(err)
	}
	if got.Words != 0 || got.Strip != 0 || !got.PhotoHidden || !strings.Contains(got.Status, "JPEG") {
		t.Fatalf("%+v: want the half-shown caption gone and the refusal on the status line", got)
	}
}

// The glass box on the translation page: the step's numbers appear (one
// row per input word, weights adding up to 1); "all here" on a word
// recomputes the step with all attention there, beside the model's own;
// Continue writes the rest from there, with the banner and Undo.
func TestBrowserGlassBox(t *testing.T) {
	m := startMain(t, true)
	ctx := browser(t)
	translateOnPage(t, ctx, m.URL(), "A man in a blue shirt is riding a bike.")
	type glassView struct {
		Rows         int
		Sum          float64
		Compare      bool
		Mine, Banner bool
		Status       string
	}
	const read = `(() => {
		const rows = [...document.querySelectorAll('#glass-body .glass-table tbody tr')];
		return {Rows: rows.length, Sum: rows.reduce((s, r) => s + Number(r.children[2].textContent), 0),
			Compare: !!document.querySelector('.glass-compare'), Mine: !!document.querySelector('.glass-dist[data-which="mine"]'),
			Banner: !document.querySelector('#whatif').hidden, Status: document.querySelector('#status').textContent};
	})()`
	err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("#glass > summary")),
		chromedp.Poll[chromedp.Void](`document.querySelectorAll('#glass-body .glass-table tbody tr').length > 0`, chromedp.WithPollingTimeout(20*time.Second)),
	)
	if err != nil {
		t.Fatal(err)
	}
	g, err := chromedp.Run(ctx, chromedp.Evaluate[glassView](read))
	if err != nil {
		t.Fatal(err)
	}
	src, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#source .tok').length`))
	if g.Rows != src || math.Abs(g.Sum-1) > 0.01 {
		t.Fatalf("glass %+v for %d input words: want a row each, weights adding up to 1", g, src)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("#glass-body .glass-table tbody tr:first-child .glass-all")),
		chromedp.Poll[chromedp.Void](`!!document.querySelector('.glass-dist[data-which="mine"]')`, chromedp.WithPollingTimeout(20*time.Second)),
	)
	if err != nil {
		t.Fatal(err)
	}
	if dir := os.Getenv("ATTN_SCREENSHOTS"); dir != "" {
		if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
			os.WriteFile(filepath.Join(dir, "glass-box.png"), png, 0o644)
		}
	}
	// A stroke across input words 2 to 4 puts the attention on them in
	// equal shares (the weights in the table say so) and recomputes.
	err = chromedp.Do(ctx, chromedp.Click(chromedp.ID("glass-reset")),
		chromedp.Poll[chromedp.Void](`!document.querySelector('.glass-dist[data-which="mine"]') && document.querySelectorAll('#glass-body .glass-input').length > 0`, chromedp.WithPollingTimeout(20*time.Second)))
	if err != nil {
		t.Fatal(err)
	}
	drag(t, ctx, `#source .tok[data-col="1"]`, `#source .tok[data-col="3"]`)
	err = chromedp.Do(ctx, chromedp.Poll[chromedp.Void](`!!document.querySelector('.glass-dist[data-which="mine"]')`, chromedp.WithPollingTimeout(20*time.Second)))
	if err != nil {
		t.Fatal("no recompute after the stroke:", err)
	}
	type painted struct {
		Weights []float64
		Marked  []int
	}
	p, err := chromedp.Run(ctx, chromedp.Evaluate[painted](`({
		Weights: [...document.querySelectorAll('#glass-body .glass-input')].map(i => Number(i.value)),
		Marked: [...document.querySelectorAll('#source .tok.is-mine')].map(c => Number(c.dataset.col)),
	})`))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p.Marked, []int{1, 2, 3}) || len(p.Weights) != src {
		t.Fatalf("after a stroke over words 2-4: marked %v, weights %v", p.Marked, p.Weights)
	}
	for j, w := range p.Weights {
		want := 0.0
		if j >= 1 && j <= 3 {
			want = 0.333
		}
		if math.Abs(w-want) > 0.001 {
			t.Errorf("weight of word %d after the stroke: %v, want %v", j+1, w, want)
		}
	}
	// Continue decodes the rest from the overridden step; the downloads
	// describe that run, the override included.
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("glass-continue")),
		chromedp.Poll[chromedp.Void](`!document.querySelector('#whatif').hidden && document.querySelector('#status').classList.contains('is-ok')`,
			chromedp.WithPollingTimeout(30*time.Second)),
	)
	if err != nil {
		t.Fatal(err)
	}
	dir := allowDownloads(t, ctx)
	var run struct {
		Steps []struct{ Attention []float64 }
	}
	if err := json.Unmarshal(download(t, ctx, dir, "export-json", "translation-run.json"), &run); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, st := range run.Steps {
		if len(st.Attention) == src && math.Abs(st.Attention[1]-1.0/3) < 1e-4 && math.Abs(st.Attention[2]-1.0/3) < 1e-4 && math.Abs(st.Attention[3]-1.0/3) < 1e-4 {
			found = true
		}
	}
	if !found {
		t.Errorf("the downloaded run has no step with the attention set by hand (1/3 on words 2-4): %v", run.Steps)
	}
}

// The glass box on the caption page: clicking a region of the photo sets
// the attention there, and the step is recomputed beside the model's own.
func TestBrowserCaptionGlassBox(t *testing.T) {
	skipShort(t)
	ctx := captionPhoto(t, "3385593926_d3e9c21170.jpg")
	err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("#glass > summary")),
		chromedp.Poll[chromedp.Void](`document.querySelectorAll('#glass-body .glass-table tbody tr').length === 8`, chromedp.WithPollingTimeout(20*time.Second)),
		chromedp.Click(chromedp.CSS(`#cells [data-region="0"]`)),
		chromedp.Click(chromedp.ID("glass-recompute")),
		chromedp.Poll[chromedp.Void](`!!document.querySelector('.glass-dist[data-which="mine"]') && document.querySelector('#cells [data-region="0"]').classList.contains('is-mine')`,
			chromedp.WithPollingTimeout(20*time.Second)),
	)
	if err != nil {
		status, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("glass-status")))
		t.Fatalf("%v (glass status %q)", err, status)
	}
	// A stroke across the top row, regions 2 to 4: each region it touches
	// is chosen (its box in the table ticked where it is listed), and the
	// step is recomputed with the weight there when the stroke ends.
	err = chromedp.Do(ctx, chromedp.Click(chromedp.ID("glass-reset")),
		chromedp.Poll[chromedp.Void](`!document.querySelector('.glass-dist[data-which="mine"]') && document.querySelectorAll('#glass-body .glass-here').length === 8`, chromedp.WithPollingTimeout(20*time.Second)))
	if err != nil {
		t.Fatal(err)
	}
	drag(t, ctx, `#cells [data-region="2"]`, `#cells [data-region="4"]`)
	type painted struct {
		Mine         []int
		Ticked       []int
		Model, Yours []string
	}
	err = chromedp.Do(ctx, chromedp.Poll[chromedp.Void](`!!document.querySelector('.glass-dist[data-which="mine"]')`, chromedp.WithPollingTimeout(20*time.Second)))
	if err != nil {
		t.Fatal("no recompute after the stroke:", err)
	}
	p, err := chromedp.Run(ctx, chromedp.Evaluate[painted](`({
		Mine: [...document.querySelectorAll('#cells .is-mine')].map(c => Number(c.dataset.region)),
		Ticked: [...document.querySelectorAll('#glass-body .glass-here')].filter(b => b.checked).map(b => Number(b.dataset.region)),
		Model: [...document.querySelectorAll('.glass-dist[data-which="model"] li:not(.glass-dist-title)')].map(l => l.textContent),
		Yours: [...document.querySelectorAll('.glass-dist[data-which="mine"] li:not(.glass-dist-title)')].map(l => l.textContent),
	})`))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p.Mine, []int{2, 3, 4}) {
		t.Errorf("regions chosen by the stroke: %v, want [2 3 4]", p.Mine)
	}
	for _, r := range p.Ticked {
		if !slices.Contains(p.Mine, r) {
			t.Errorf("region %d ticked in the table but not chosen on the photo (%v)", r, p.Mine)
		}
	}
	if len(p.Yours) == 0 || slices.Equal(p.Model, p.Yours) {
		t.Errorf("the step with the weight on regions 2-4 gives %v, the model's own %v: want a different distribution", p.Yours, p.Model)
	}
	// From the keyboard: tick the first listed region's box.
	first, err := chromedp.Run(ctx, chromedp.Evaluate[int](`(() => { const b = document.querySelector('#glass-body .glass-here'); b.focus(); return Number(b.dataset.region); })()`))
	if err != nil {
		t.Fatal(err)
	}
	was, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('#cells [data-region="`+strconv.Itoa(first)+`"]').classList.contains('is-mine')`))
	if err := chromedp.Do(ctx, chromedp.KeyEvent(" ")); err != nil {
		t.Fatal(err)
	}
	now, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('#cells [data-region="`+strconv.Itoa(first)+`"]').classList.contains('is-mine')`))
	if now == was {
		t.Errorf("space on region %d's box left it chosen=%v", first, now)
	}
	if dir := os.Getenv("ATTN_SCREENSHOTS"); dir != "" {
		if png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot()); err == nil {
			os.WriteFile(filepath.Join(dir, "caption-glass-box.png"), png, 0o644)
		}
	}
}

// drag presses the mouse on the element from and releases it on to,
// passing over what lies between.
func drag(t *testing.T, ctx context.Context, from, to string) {
	t.Helper()
	type pt struct{ X, Y float64 }
	centre := func(sel string) pt {
		c, err := chromedp.Run(ctx, chromedp.Evaluate[pt](`(() => { const e = document.querySelector('`+sel+`'); e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect(); return {X: r.left + r.width / 2, Y: r.top + r.height / 2}; })()`))
		if err != nil {
			t.Fatalf("%s: %v", sel, err)
		}
		return c
	}
	a := centre(from)
	b := centre(to)
	held := func(p *input.DispatchMouseEventParams) { p.Button, p.Buttons = input.MouseButtonLeft, 1 }
	acts := []chromedp.Action[chromedp.Void]{
		chromedp.MouseEvent(chromedp.MouseMoved, a.X, a.Y),
		chromedp.MouseEvent(chromedp.MousePressed, a.X, a.Y, held, chromedp.ClickCount(1)),
	}
	for k := 1; k <= 8; k++ {
		f := float64(k) / 8
		acts = append(acts, chromedp.MouseEvent(chromedp.MouseMoved, a.X+f*(b.X-a.X), a.Y+f*(b.Y-a.Y), held))
	}
	acts = append(acts, chromedp.MouseEvent(chromedp.MouseReleased, b.X, b.Y, chromedp.ButtonLeft, chromedp.ClickCount(1)))
	if err := chromedp.Do(ctx, acts...); err != nil {
		t.Fatalf("dragging from %s to %s: %v", from, to, err)
	}
}

// The search tree: with beam 3 the tree panel offers itself, grows a
// column a step with the winner's path marked, and a clicked word shows
// that hypothesis's scores, where it looked and its choices.
func TestBrowserSearchTree(t *testing.T) {
	m := startMain(t, false)
	ctx := browser(t)
	err := chromedp.Do(ctx,
		chromedp.Navigate(m.URL()+"/"),
		chromedp.WaitVisible(chromedp.ID("text")),
		chromedp.SetValue(chromedp.ID("beam"), "3"),
		chromedp.Evaluate[chromedp.Void](`(() => { const p = document.querySelector('#pace'); p.value = 'live'; p.dispatchEvent(new Event('change')); })()`),
		chromedp.SendKeys(chromedp.ID("text"), "Two dogs are playing in the snow.\r"),
		chromedp.Poll[chromedp.Void](`document.querySelector('#status').classList.contains('is-ok')`, chromedp.WithPollingTimeout(60*time.Second)),
		chromedp.Click(chromedp.CSS("#tree > summary")),
	)
	if err != nil {
		t.Fatal(err)
	}
	type treeView struct {
		Hidden         bool
		Nodes, Winners int
		Words          int
		Detail         string
	}
	const read = `({Hidden: document.querySelector('#tree').hidden, Nodes: document.querySelectorAll('#tree-view .tree-node-g').length,
		Winners: document.querySelectorAll('#tree-view .tree-node-g.is-winner').length, Words: document.querySelectorAll('#target .tgt-tok').length,
		Detail: document.querySelector('#tree-node').textContent})`
	v, err := chromedp.Run(ctx, chromedp.Evaluate[treeView](read))
	if err != nil {
		t.Fatal(err)
	}
	// The winner's path: one node a word, and the end of sentence.
	if v.Hidden || v.Nodes <= v.Winners || v.Winners != v.Words+1 {
		t.Fatalf("%+v: want the tree shown, more hypotheses than the winner's path, and a path of %d nodes", v, v.Words+1)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#tree-view .tree-node-g.is-winner"))); err != nil {
		t.Fatal(err)
	}
	if v, err = chromedp.Run(ctx, chromedp.Evaluate[treeView](read)); err != nil || !strings.Contains(v.Detail, "score") || !strings.Contains(v.Detail, "looked at") {
		t.Fatalf("node detail %q (%v)", v.Detail, err)
	}
	// Its attention as a row of the grid: a cell per input word.
	cells, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](`[document.querySelectorAll('#tree-node .mini-grid tbody tr').length,
		document.querySelectorAll('#tree-node .mini-grid tbody .mini-cell').length, document.querySelectorAll('#source .tok').length]`))
	if err != nil || cells[0] != 1 || cells[1] != cells[2] {
		t.Fatalf("node's grid: %v rows, cells, input words (%v): want one row, a cell per input word", cells, err)
	}
	if dir := os.Getenv("ATTN_SCREENSHOTS"); dir != "" {
		if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
			os.WriteFile(filepath.Join(dir, "search-tree.png"), png, 0o644)
		}
	}
}

// The search tree on the caption page: a clicked node shows where that
// hypothesis looked as a heatmap over the photo.
func TestBrowserCaptionSearchTree(t *testing.T) {
	skipShort(t)
	m := startMain(t, true)
	ctx := browser(t)
	uploadPhotoAt(t, ctx, m.URL()+"/caption", "3385593926_d3e9c21170.jpg", chromedp.SetValue(chromedp.ID("beam"), "3"))
	err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("#tree > summary")),
		chromedp.Click(chromedp.CSS("#tree-view .tree-node-g.is-winner")),
	)
	if err != nil {
		t.Fatal(err)
	}
	// The heatmap is drawn: its pixels are not all one colour.
	heat, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](`(() => {
		const c = document.querySelector('#tree-node canvas.mini-heat');
		if (!c) return [0, 0];
		const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
		const seen = new Set();
		for (let i = 0; i < d.length; i += 4 * 97) seen.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
		return [c.width, seen.size];
	})()`))
	if err != nil || heat[0] != 160 || heat[1] < 20 {
		t.Fatalf("node's heatmap: width %d, %d colours sampled (%v): want the photo drawn with the attention over it", heat[0], heat[1], err)
	}
}

// The caption page's coverage view: each region's cell shows the attention
// it has received up to the word on screen, which grows word by word.
func TestBrowserCaptionCoverage(t *testing.T) {
	skipShort(t)
	ctx := captionPhoto(t, "3385593926_d3e9c21170.jpg")
	sum := func() float64 {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`[...document.querySelectorAll('#cells .cell')].reduce((s, c) => s + (Number(c.textContent) || 0), 0)`))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	err := chromedp.Do(ctx,
		chromedp.SetValue(chromedp.ID("view"), "coverage"),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('#view').dispatchEvent(new Event('change'))`),
		chromedp.Evaluate[chromedp.Void](`(() => { const s = document.querySelector('#step'); s.value = '1'; s.dispatchEvent(new Event('input')); })()`),
	)
	if err != nil {
		t.Fatal(err)
	}
	early := sum()
	err = chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`(() => { const s = document.querySelector('#step'); s.value = s.max; s.dispatchEvent(new Event('input')); })()`))
	if err != nil {
		t.Fatal(err)
	}
	late := sum()
	visible, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`getComputedStyle(document.querySelector('#cells')).display === 'grid'`))
	if !visible || !(late > early) || late < 2 {
		t.Fatalf("coverage cells shown %v, summing %.1f at word 2 and %.1f at the last word: want a visible grid that grows", visible, early, late)
	}
}
