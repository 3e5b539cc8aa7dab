package main

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"attention/internal/testenv"
)

// axeResult is what the test keeps of axe.run's answer.
type axeResult struct {
	Violations []struct {
		ID, Impact, Help string
		Nodes            []struct{ Target []any }
	}
	Passes int
}

// runAxe checks the page in ctx with axe-core and fails on serious or
// critical violations.
func runAxe(t *testing.T, ctx context.Context, axe, name string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](axe)); err != nil {
		t.Fatalf("%s: loading axe-core: %v", name, err)
	}
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`axe.run(document, {resultTypes: ["violations"]}).then(r => JSON.stringify({Violations: r.violations, Passes: r.passes.length}))`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: axe.run: %v", name, err)
	}
	var res axeResult
	if err := json.Unmarshal([]byte(raw), &res); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: axe-core passed %d rules, %d violations", name, res.Passes, len(res.Violations))
	if res.Passes == 0 {
		t.Fatalf("%s: axe-core checked nothing", name)
	}
	for _, v := range res.Violations {
		where, _ := json.Marshal(v.Nodes[0].Target)
		if v.Impact == "serious" || v.Impact == "critical" {
			t.Errorf("%s: %s (%s): %s, e.g. at %s (%d places)", name, v.ID, v.Impact, v.Help, where, len(v.Nodes))
		} else {
			t.Logf("%s: %s (%s): %s, e.g. at %s", name, v.ID, v.Impact, v.Help, where)
		}
	}
}

// axe-core finds no serious or critical accessibility violation on either
// page in either language, with a result on screen.
func TestBrowserAccessibility(t *testing.T) {
	axe := testenv.Axe(t)
	m := startMain(t, true)
	for _, lang := range []string{"en", "ko"} {
		t.Run("translate-"+lang, func(t *testing.T) {
			ctx := browser(t)
			err := chromedp.Do(ctx,
				chromedp.Navigate(m.URL()+"/?lang="+lang),
				chromedp.WaitVisible(chromedp.ID("text")),
				chromedp.SetValue(chromedp.ID("beam"), "3"),
				chromedp.Evaluate[chromedp.Void](`(() => { const p = document.querySelector('#pace'); p.value = 'live'; p.dispatchEvent(new Event('change')); })()`),
				chromedp.SendKeys(chromedp.ID("text"), "A man is riding a red bicycle.\r"),
				chromedp.Poll[chromedp.Void](`document.querySelector('#status')?.classList.contains('is-ok')`, chromedp.WithPollingTimeout(60*time.Second)),
				// The search tree (a node open) and the glass box open,
				// with their contents.
				chromedp.Click(chromedp.CSS("#tree > summary")),
				chromedp.Click(chromedp.CSS("#tree-view .tree-node-g.is-winner")),
				chromedp.Click(chromedp.CSS("#glass > summary")),
				chromedp.Poll[chromedp.Void](`document.querySelectorAll('#glass-body .glass-table tbody tr').length > 0`, chromedp.WithPollingTimeout(20*time.Second)),
			)
			if err != nil {
				t.Fatal(err)
			}
			runAxe(t, ctx, axe, "translate page ("+lang+")")
		})
		t.Run("caption-"+lang, func(t *testing.T) {
			ctx := browser(t)
			uploadPhotoAt(t, ctx, m.URL()+"/caption?lang="+lang, "1056338697_4f7d7ce270.jpg")
			err := chromedp.Do(ctx,
				chromedp.Click(chromedp.CSS("#tree > summary")),
				chromedp.Click(chromedp.CSS("#glass > summary")),
				chromedp.Poll[chromedp.Void](`document.querySelectorAll('#glass-body .glass-table tbody tr').length > 0`, chromedp.WithPollingTimeout(20*time.Second)),
			)
			if err != nil {
				t.Fatal(err)
			}
			runAxe(t, ctx, axe, "caption page ("+lang+")")
		})
		t.Run("join-"+lang, func(t *testing.T) {
			classes := startClassroom(t)
			ctx := browser(t)
			err := chromedp.Do(ctx, chromedp.Navigate(classes.URL()+"/join?lang="+lang+"&code=AAAAAA"), chromedp.WaitVisible(chromedp.ID("code")))
			if err != nil {
				t.Fatal(err)
			}
			runAxe(t, ctx, axe, "join page with an error ("+lang+")")
		})
	}
}
