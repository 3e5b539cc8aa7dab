package web_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
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
