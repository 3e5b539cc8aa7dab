package web_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"slices"
	"strings"
	"testing"

	"attention/model"
	"attention/web"
)

func idsOf(steps []model.Step) string {
	var out []string
	for _, s := range steps {
		out = append(out, fmt.Sprint(s.TokenID))
	}
	return "[" + strings.Join(out, ",") + "]"
}

func weightsJSON(w []float32) string {
	b, _ := json.Marshal(w)
	return string(b)
}

// Over HTTP: a step opened by /api/v1/translate/inspect is the step the
// decode made; overriding a step with its own weights gives the same
// translation, with other weights a different step; bad weights are 400s.
func TestInspectAndOverrideHTTP(t *testing.T) {
	srv := newServer(t)
	const text = "A man in a blue shirt is riding a bike."
	code, body := post(t, srv.URL, "application/json", `{"text": "`+text+`", "model": "en-de"}`)
	if code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	var r web.DecodeResponse
	json.Unmarshal(body, &r)
	const step = 2
	resp, b := postTo(t, srv.URL+"/api/v1/translate/inspect", "application/json",
		strings.NewReader(`{"text": "`+text+`", "model": "en-de", "prefix": `+idsOf(r.Steps[:step])+`}`))
	if resp.StatusCode != 200 {
		t.Fatalf("inspect: %d %s", resp.StatusCode, b)
	}
	var got struct{ Glass model.Glass }
	json.Unmarshal(b, &got)
	g := got.Glass
	if g.Step != step || g.TopK[0].ID != r.Steps[step].TokenID || len(g.Scores) != len(r.Source.Tokens) || g.HNorm <= 0 || g.CtxSize == 0 {
		t.Fatalf("glass %+v, the decode wrote %q at step %d", g, r.Steps[step].Token, step)
	}
	// The model's own weights change nothing.
	own := `{"text": "` + text + `", "model": "en-de", "force": ` + idsOf(r.Steps[:step]) + `, "override": {"step": ` + fmt.Sprint(step) + `, "weights": ` + weightsJSON(r.Steps[step].Attention) + `}}`
	code, body = post(t, srv.URL, "application/json", own)
	var same web.DecodeResponse
	json.Unmarshal(body, &same)
	if code != 200 || same.Text != r.Text {
		t.Fatalf("override with the model's own weights: %d %q, want %q", code, same.Text, r.Text)
	}
	// All attention on the full stop: the step's distribution moves.
	w := make([]float32, len(r.Source.Tokens))
	w[len(w)-1] = 1
	resp, b = postTo(t, srv.URL+"/api/v1/translate/inspect", "application/json",
		strings.NewReader(`{"text": "`+text+`", "model": "en-de", "prefix": `+idsOf(r.Steps[:step])+`, "weights": `+weightsJSON(w)+`}`))
	var moved struct{ Glass model.Glass }
	json.Unmarshal(b, &moved)
	if resp.StatusCode != 200 || moved.Glass.Used[len(w)-1] != 1 || moved.Glass.TopK[0].Prob == g.TopK[0].Prob {
		t.Fatalf("all attention on the last word: %d, top %v (was %v)", resp.StatusCode, moved.Glass.TopK, g.TopK[0])
	}
	for name, req := range map[string]string{
		"weights of the wrong length": `{"text": "` + text + `", "model": "en-de", "prefix": [], "weights": [1]}`,
		"weights that do not add up":  `{"text": "` + text + `", "model": "en-de", "prefix": [], "weights": ` + weightsJSON(make([]float32, len(w))) + `}`,
		"a prefix id that is no word": `{"text": "` + text + `", "model": "en-de", "prefix": [-3]}`,
		"no model":                    `{"text": "` + text + `", "prefix": []}`,
	} {
		resp, b := postTo(t, srv.URL+"/api/v1/translate/inspect", "application/json", strings.NewReader(req))
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), `"invalid"`) {
			t.Errorf("%s: %d %s", name, resp.StatusCode, b)
		}
	}
	code, body = post(t, srv.URL, "application/json", `{"text": "`+text+`", "model": "en-de", "override": {"step": 0, "weights": [0.5, 0.5]}}`)
	if code != 400 || !strings.Contains(string(body), "source positions") {
		t.Errorf("override of the wrong length: %d %s", code, body)
	}
}

// Over the websocket: inspect opens a step of the connection's last
// request, for translations and captions; another request's id is a
// not_found error.
func TestInspectWS(t *testing.T) {
	srv := newServer(t)
	c := dial(t, srv)
	src, steps, _ := translateWS(t, c, "r1", "Two dogs are playing in the snow.")
	send(t, c, `{"type":"inspect","v":1,"payload":{"id":"i1","of":"r1","prefix":[`+fmt.Sprint(steps[0].Step.TokenID)+`]}}`)
	m := read(t, c)
	var gp web.GlassPayload
	json.Unmarshal(m.Payload, &gp)
	if m.Type != web.MsgGlass || gp.ID != "i1" || gp.Glass.Step != 1 || gp.Glass.TopK[0].ID != steps[1].Step.TokenID || len(gp.Glass.Weights) != len(src.Source.Tokens) {
		t.Fatalf("%s %+v", m.Type, gp)
	}
	send(t, c, `{"type":"inspect","v":1,"payload":{"id":"i2","of":"r0","prefix":[]}}`)
	if m := read(t, c); m.Type != web.MsgError || !strings.Contains(string(m.Payload), "not_found") {
		t.Fatalf("inspect of another request: %s %s", m.Type, m.Payload)
	}
	send(t, c, `{"type":"inspect","v":1,"payload":{"id":"i3","of":"r1","prefix":[],"weights":[1]}}`)
	if m := read(t, c); m.Type != web.MsgError || !strings.Contains(string(m.Payload), "invalid") {
		t.Fatalf("inspect with bad weights: %s %s", m.Type, m.Payload)
	}

	csrv := newCaptionServer(t)
	cc := dial(t, csrv)
	send(t, cc, captionMsg("c1", testImages(t)["photo"]))
	var first web.StepPayload
	for {
		m := read(t, cc)
		if m.Type == web.MsgStep && first.ID == "" {
			json.Unmarshal(m.Payload, &first)
		}
		if m.Type == web.MsgDone || m.Type == web.MsgError {
			break
		}
	}
	send(t, cc, `{"type":"inspect","v":1,"payload":{"id":"i4","of":"c1","prefix":[]}}`)
	m = read(t, cc)
	json.Unmarshal(m.Payload, &gp)
	if m.Type != web.MsgGlass || len(gp.Glass.Weights) != 49 || gp.Glass.TopK[0].ID != first.Step.TokenID || gp.Glass.Beta <= 0 {
		t.Fatalf("caption inspect: %s %+v", m.Type, gp.Glass)
	}
}

// Over HTTP, a caption's step opens with the photo and an inspect field;
// an override step out of range is a 400.
func TestCaptionInspectHTTP(t *testing.T) {
	srv := newCaptionServer(t)
	photo := testImages(t)["photo"]
	code, body := upload(t, srv.URL, nil, "p.jpg", photo)
	var r web.DecodeResponse
	if code != 200 || json.Unmarshal(body, &r) != nil || len(r.Steps) < 2 {
		t.Fatalf("%d %.200s", code, body)
	}
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	w.WriteField("inspect", `{"prefix": `+idsOf(r.Steps[:1])+`}`)
	fw, _ := w.CreateFormFile("image", "p.jpg")
	fw.Write(photo)
	w.Close()
	resp, b := postTo(t, srv.URL+"/api/v1/caption/inspect", w.FormDataContentType(), &buf)
	var got struct{ Glass model.Glass }
	json.Unmarshal(b, &got)
	if resp.StatusCode != 200 || got.Glass.Step != 1 || got.Glass.TopK[0].ID != r.Steps[1].TokenID || len(got.Glass.Weights) != 49 {
		t.Fatalf("%d %+v, the caption's word 2 is %q", resp.StatusCode, got.Glass, r.Steps[1].Token)
	}
	code, body = upload(t, srv.URL, map[string]string{"override": `{"step": -1, "weights": [1]}`}, "p.jpg", photo)
	if code != 400 || !strings.Contains(string(body), "step must be") {
		t.Fatalf("override at step -1: %d %s", code, body)
	}
}

// The beam search's tree, over the websocket (a level at a time, before
// the words) and over HTTP (the reply's "tree"): the winner's path from
// the root is the translation the decode wrote, on the real en-de.
func TestTreeWinnerIsTheTranslation(t *testing.T) {
	srv := newServer(t)
	const text = "Two young children are playing with a ball in the park."
	// path follows the winner's parents back to the root: its words.
	path := func(levels []model.TreeLevel) []string {
		t.Helper()
		nodes := map[int]model.TreeNode{}
		winner := -1
		for _, l := range levels {
			for _, n := range l.Nodes {
				nodes[n.ID] = n
			}
			if l.Winner >= 0 && len(l.Nodes) == 0 {
				winner = l.Winner
			}
		}
		var words []string
		for id := winner; id >= 0; id = nodes[id].Parent {
			n, ok := nodes[id]
			if !ok {
				t.Fatalf("the tree names node %d, which no level holds", id)
			}
			words = append([]string{n.Token}, words...)
		}
		if len(words) > 0 && words[len(words)-1] == "</s>" {
			words = words[:len(words)-1]
		}
		return words
	}
	tokens := func(steps []model.Step) []string {
		var out []string
		for _, s := range steps {
			out = append(out, s.Token)
		}
		return out
	}

	c := dial(t, srv)
	send(t, c, `{"type":"translate","v":1,"payload":{"id":"b1","text":"`+text+`","model":"en-de","beam":4}}`)
	var levels []model.TreeLevel
	var steps []model.Step
	treeBeforeWords := false
	for done := false; !done; {
		m := read(t, c)
		switch m.Type {
		case web.MsgTree:
			var tp web.TreePayload
			json.Unmarshal(m.Payload, &tp)
			if tp.ID != "b1" {
				t.Fatalf("tree for %q", tp.ID)
			}
			if len(steps) == 0 && len(tp.Level.Nodes) > 0 {
				treeBeforeWords = true
			}
			levels = append(levels, tp.Level)
		case web.MsgStep:
			var sp web.StepPayload
			json.Unmarshal(m.Payload, &sp)
			steps = append(steps, sp.Step)
		case web.MsgDone:
			done = true
		case web.MsgError:
			t.Fatalf("error: %s", m.Payload)
		}
	}
	if !treeBeforeWords || len(levels) < 3 {
		t.Errorf("%d tree levels, the first before the words: %v; want the tree streamed as it grows", len(levels), treeBeforeWords)
	}
	if got, want := path(levels), tokens(steps); !slices.Equal(got, want) {
		t.Errorf("over the websocket the tree's winner is %q, the translation %q", got, want)
	}

	code, body := post(t, srv.URL, "application/json", `{"text": "`+text+`", "model": "en-de", "beam": 4}`)
	var r web.DecodeResponse
	if err := json.Unmarshal(body, &r); err != nil || code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	if got, want := path(r.Tree), tokens(r.Steps); !slices.Equal(got, want) || !slices.Equal(want, tokens(steps)) {
		t.Errorf("over HTTP the tree's winner is %q, the translation %q (websocket: %q)", got, want, tokens(steps))
	}
}

// A hand-set attention that cannot be used is a clear error: over the
// websocket (bad weights, a step out of range) and over HTTP (a step past
// the end of the output, after the decode has run).
func TestOverrideErrors(t *testing.T) {
	srv := newServer(t)
	const text = "A dog runs."
	c := dial(t, srv)
	for i, tc := range []struct{ override, says string }{
		{`{"step":0,"weights":[1]}`, "source positions"},
		{`{"step":-1,"weights":[1,0,0,0]}`, "step must be between"},
		{`{"step":0,"weights":[]}`, "one weight per source position"},
		{`{"step":0,"weights":[0.5,0.2,0.2,0.2]}`, "add up to"},
		{`{"step":40,"weights":[1,0,0,0]}`, "output ended after"},
	} {
		send(t, c, fmt.Sprintf(`{"type":"translate","v":1,"payload":{"id":"o%d","text":"%s","model":"en-de","override":%s}}`, i, text, tc.override))
		var e web.ErrorPayload
		for {
			m := read(t, c)
			if m.Type == web.MsgDone {
				t.Fatalf("override %s: done, want an error saying %q", tc.override, tc.says)
			}
			if m.Type == web.MsgError {
				json.Unmarshal(m.Payload, &e)
				break
			}
		}
		if e.Code != web.EInvalid || !strings.Contains(e.Message, tc.says) {
			t.Errorf("override %s: %+v, want invalid saying %q", tc.override, e, tc.says)
		}
	}
	code, body := post(t, srv.URL, "application/json", `{"text": "`+text+`", "model": "en-de", "override": {"step": 40, "weights": [1, 0, 0, 0]}}`)
	if code != 400 || !strings.Contains(string(body), "output ended after") {
		t.Errorf("override past the end over HTTP: %d %s", code, body)
	}
}
