package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"attention/internal/testenv"

	"github.com/chromedp/chromedp"
)

// studentBrowser opens a tab in a browser context of its own: a second
// person, with their own storage.
func studentBrowser(t *testing.T) context.Context {
	t.Helper()
	browser(t) // the shared browser is running
	ctx, cancel := chromedp.NewContext(shared.ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	ctx, cancel2 := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancel2)
	return ctx
}

func startClassroom(t *testing.T) *Main {
	t.Helper()
	m := &Main{Addr: "127.0.0.1:0", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Offline: true, Classes: true}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// A class in two browsers: the teacher starts a class and translates; a
// student joins with the code on the join page and sees the teacher's
// words and step; the student looks around on their own, which does not
// move the teacher, and snaps back with one click; the teacher sees the
// student counted.
func TestBrowserClass(t *testing.T) {
	m := startClassroom(t)
	teacher := browser(t)
	student := studentBrowser(t)
	// poll waits for js to hold, through page loads (the join page
	// sends the student on to the teacher's page).
	poll := func(ctx context.Context, what, js string) {
		t.Helper()
		var err error
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			var ok bool
			if ok, err = chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { try { return !!(`+js+`); } catch { return false; } })()`)); err == nil && ok {
				return
			}
		}
		status, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('#class-status')?.textContent || document.querySelector('.join-error')?.textContent || ''`))
		t.Fatalf("%s: not so after 20 s (%v; class status %q)", what, err, status)
	}
	err := chromedp.Do(teacher,
		chromedp.Navigate(m.URL()+"/"),
		chromedp.WaitVisible(chromedp.ID("text")),
		chromedp.Evaluate[chromedp.Void](`(() => { const p = document.querySelector('#pace'); p.value = 'live'; p.dispatchEvent(new Event('change')); })()`),
		chromedp.Click(chromedp.ID("class-open")),
	)
	if err != nil {
		t.Fatal(err)
	}
	poll(teacher, "the class's code on the teacher's page", `document.querySelector('#class-code').textContent.replace(/\s/g, '').length === 6 && document.querySelector('#class-qr').naturalWidth > 0`)
	// The page was opened at 127.0.0.1: the teacher is told that phones
	// cannot open that address.
	poll(teacher, "the loopback notice", `!document.querySelector('#class-loopback').hidden && /cannot open/.test(document.querySelector('#class-loopback').textContent)`)
	code, err := chromedp.Run(teacher, chromedp.Text(chromedp.ID("class-code")))
	if err != nil {
		t.Fatal(err)
	}
	code = strings.ReplaceAll(code, " ", "")

	// The student, on a phone, types the code (in lower case, as people do).
	err = chromedp.Do(student,
		chromedp.EmulateViewport(390, 844),
		chromedp.Navigate(m.URL()+"/join"),
		chromedp.WaitVisible(chromedp.ID("code")),
		chromedp.SendKeys(chromedp.ID("code"), strings.ToLower(code)+"\r"),
	)
	if err != nil {
		t.Fatal(err)
	}
	poll(student, "the student following", `location.search.includes('class=`+code+`') && !document.querySelector('#class-student').hidden && /Following/.test(document.querySelector('#class-following').textContent)`)
	poll(teacher, "the teacher seeing the student", `/^1 student following/.test(document.querySelector('#class-count').textContent)`)

	err = chromedp.Do(teacher,
		chromedp.SendKeys(chromedp.ID("text"), "Two dogs are playing in the snow.\r"),
		chromedp.Poll[chromedp.Void](`/done/i.test(document.querySelector('#status').textContent)`, chromedp.WithPollingTimeout(30*time.Second)),
	)
	if err != nil {
		t.Fatal(err)
	}
	shown := `[...document.querySelectorAll('#target .tgt-tok')].filter(e => !e.hidden).map(e => e.textContent).join(' ')`
	words, err := chromedp.Run(teacher, chromedp.Evaluate[string](shown))
	if err != nil || words == "" {
		t.Fatalf("teacher's words %q (%v)", words, err)
	}
	poll(student, "the teacher's words on the student's page", shown+` === `+jsString(words))

	// The teacher steps back to word 2: so does the student.
	scrub := func(ctx context.Context, i int) {
		t.Helper()
		js := `(() => { const s = document.querySelector('#step'); s.value = '` + string(rune('0'+i)) + `'; s.dispatchEvent(new Event('input')); })()`
		if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](js)); err != nil {
			t.Fatal(err)
		}
	}
	scrub(teacher, 1)
	poll(student, "the student on the teacher's step", `document.querySelector('#step').value === '1' && document.querySelectorAll('#target .tgt-tok:not([hidden])').length === 2`)

	// The teacher points at input word 3: the student's page lights the
	// same word and column.
	err = chromedp.Do(teacher, chromedp.Evaluate[chromedp.Void](`document.querySelectorAll('#source .src-tok')[2].dispatchEvent(new MouseEvent('mouseover', {bubbles: true}))`))
	if err != nil {
		t.Fatal(err)
	}
	lit := `[...document.querySelectorAll('#source .src-tok')].map((c, j) => c.classList.contains('is-hl') ? j : -1).filter(j => j >= 0).join(',') === '2' && document.querySelectorAll('#grid th.col-head.is-hl').length === 1`
	poll(teacher, "the teacher's hover", lit)
	poll(student, "the teacher's hover on the student's page", lit)

	// The student looks around: the teacher does not move; then the
	// teacher moves on, and "follow the teacher" catches up.
	scrub(student, 0)
	poll(student, "the follow button", `!document.querySelector('#class-follow').hidden`)
	scrub(teacher, 3)
	time.Sleep(300 * time.Millisecond)
	if v, _ := chromedp.Run(student, chromedp.Evaluate[string](`document.querySelector('#step').value`)); v != "0" {
		t.Errorf("a student looking around was moved to step %s", v)
	}
	if v, _ := chromedp.Run(teacher, chromedp.Evaluate[string](`document.querySelector('#step').value`)); v != "3" {
		t.Errorf("the teacher's page is on step %s after the student moved, want 3", v)
	}
	if err := chromedp.Do(student, chromedp.Click(chromedp.ID("class-follow"))); err != nil {
		t.Fatal(err)
	}
	poll(student, "back with the teacher", `document.querySelector('#step').value === '3' && document.querySelector('#class-follow').hidden`)
	if hidden, _ := chromedp.Run(student, chromedp.Evaluate[bool](`getComputedStyle(document.querySelector('#translate-form')).display === 'none'`)); !hidden {
		t.Error("the student's page offers its own input while following")
	}
	if os.Getenv("ATTN_AXE") != "" {
		axe := testenv.Axe(t)
		runAxe(t, teacher, axe, "translate page teaching a class")
		runAxe(t, student, axe, "translate page following a class")
	}
	if dir := os.Getenv("ATTN_SCREENSHOTS"); dir != "" {
		for name, ctx := range map[string]context.Context{"class-teacher.png": teacher, "class-student-phone.png": student} {
			if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
				os.WriteFile(filepath.Join(dir, name), png, 0o644)
			}
		}
	}

	// The teacher ends the class: the student is told.
	if err := chromedp.Do(teacher, chromedp.Click(chromedp.ID("class-close"))); err != nil {
		t.Fatal(err)
	}
	poll(student, "the class's end", `/ended/.test(document.querySelector('#class-status').textContent)`)
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`)
	return `'` + r.Replace(s) + `'`
}

// A class on the caption page: the student, sent there by the join link,
// sees the photo as the model saw it (the crop) and the teacher's caption.
func TestBrowserCaptionClass(t *testing.T) {
	skipShort(t)
	m := &Main{Addr: "127.0.0.1:0", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Offline: true, Classes: true,
		EncoderWeights: filepath.Join(testenv.SharedData(t), "weights", "mobilenet_v2_1.0_224_quant.tflite")}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	teacher := browser(t)
	student := studentBrowser(t)
	err := chromedp.Do(teacher,
		chromedp.Navigate(m.URL()+"/caption"),
		chromedp.WaitReady(chromedp.ID("file")),
		chromedp.Click(chromedp.ID("class-open")),
		chromedp.Poll[chromedp.Void](`document.querySelector('#class-code').textContent.replace(/\s/g, '').length === 6`, chromedp.WithPollingTimeout(20*time.Second)),
	)
	if err != nil {
		t.Fatal(err)
	}
	code, _ := chromedp.Run(teacher, chromedp.Text(chromedp.ID("class-code")))
	// The QR code's link: the join page, which sends the student to the
	// caption page.
	err = chromedp.Do(student,
		chromedp.Navigate(m.URL()+"/join?code="+strings.ReplaceAll(code, " ", "")),
		chromedp.WaitReady(chromedp.ID("class-student")),
	)
	if err != nil {
		t.Fatal(err)
	}
	// A reload on the way: the teacher's page takes its class back.
	uploadPhotoAt(t, teacher, m.URL()+"/caption", "3385593926_d3e9c21170.jpg")
	words, err := chromedp.Run(teacher, chromedp.Evaluate[string](`[...document.querySelectorAll('#target .tgt-tok')].map(e => e.textContent).join(' ')`))
	if err != nil || words == "" {
		t.Fatalf("teacher's caption %q (%v)", words, err)
	}
	const seen = `[...document.querySelectorAll('#target .tgt-tok')].filter(e => !e.hidden).map(e => e.textContent).join(' ')`
	err = chromedp.Do(student, chromedp.Poll[chromedp.Void](seen+` === `+jsString(words)+` && document.querySelector('#photo').src.startsWith('data:image/') && location.pathname === '/caption'`,
		chromedp.WithPollingTimeout(30*time.Second)))
	if err != nil {
		got, _ := chromedp.Run(student, chromedp.Evaluate[string](seen))
		t.Fatalf("the student's page shows %q, want %q with the photo (%v)", got, words, err)
	}
}
