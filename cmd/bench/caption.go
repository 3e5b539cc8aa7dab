package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"attention/model"
	"attention/model/caption"
	"attention/model/mobilenet"
	"attention/model/vocab"
	"attention/web"
)

type capReq struct {
	Config   caption.Config `json:"config"`
	Tensors  []tensorRef    `json:"tensors"`
	Feat     tensorRef      `json:"feat"`
	Greedy   []checkStep    `json:"greedy"`
	Seconds  float64        `json:"seconds"`
	ONNX     string         `json:"onnx,omitempty"`
	Pipeline *capPipeline   `json:"pipeline,omitempty"`
}

// capPipeline asks the peer to check its pipeline on our crop's pixels,
// then to time photo file to caption.
type capPipeline struct {
	Image    string      `json:"image"`
	Dir      string      `json:"dir"` // the exported MobileNetV2 (see encoderRow)
	Size     int         `json:"size"`
	MaxWords int         `json:"max_words"`
	Seconds  float64     `json:"seconds"`
	Pixels   string      `json:"pixels"` // our crop as raw RGB, in the caption directory
	Check    []checkStep `json:"check"`  // our whole greedy caption of it
	Last     int         `json:"last"`   // our last word, after which the peer must end
}

// pipeTol bounds the probability and attention differences of the
// pipeline check: both sides start from the same pixels, but each runs its
// own MobileNetV2, whose features agree within 1e-3 of their scale (the
// encoder row), not 1e-4.
const pipeTol = 1e-3

type capResp struct {
	Greedy      []peerStep `json:"greedy"`
	StepUS      timing     `json:"step_us"`
	ONNXError   string     `json:"onnx_error"`
	FirstWordUS timing     `json:"first_word_us"`
	CaptionUS   timing     `json:"caption_us"`
	Words       []int      `json:"pipeline_words"`
	PixelCheck  []peerStep `json:"pixel_check"`
	PixelNext   int        `json:"pixel_next"`
	Version     string     `json:"version"`
	Threads     string     `json:"threads"`
}

// captionRows benchmarks the caption decoder's step against PyTorch and
// onnxruntime, and photo-to-caption through the real server against a
// PyTorch script running the same pipeline.
func captionRows(ctx context.Context, o options, work string) ([]row, error) {
	data, err := os.ReadFile(o.captionCkpt)
	if err != nil {
		return []row{{Name: "caption rows", Note: fmt.Sprintf("skipped: %v (see -caption-ckpt)", err)}}, nil
	}
	dec, err := caption.Load("caption", data)
	if err != nil {
		return nil, err
	}
	tfl, err := os.ReadFile(o.tflite)
	if err != nil {
		return nil, err
	}
	enc, err := mobilenet.Load(tfl)
	if err != nil {
		return nil, err
	}
	imgPath := o.image
	if imgPath == "" {
		if imgPath, err = firstTestImage(o.data); err != nil {
			return nil, err
		}
	}
	photo, err := os.ReadFile(imgPath)
	if err != nil {
		return nil, err
	}
	img, err := benchImage(enc, imgPath)
	if err != nil {
		return nil, err
	}
	feat, _, _, _, err := enc.Regions(img)
	if err != nil {
		return nil, err
	}
	e, err := dec.Encode(feat)
	if err != nil {
		return nil, err
	}
	c := dec.Cfg
	fmt.Fprintf(o.log, "caption: %s, R%dx%d F%d D%d E%d K%d A%d V%d, %d weights\n", o.captionCkpt, c.Rows, c.Cols, c.Feat, c.Proj, c.Emb, c.Hidden, c.Att, c.Vocab, dec.P.Count())

	greedy, err := decodeSteps(e, model.Options{Beam: 1, MaxLen: 5, TopK: 10})
	if err != nil {
		return nil, err
	}
	gChk, gWant := checksOf(dec.Words.ID, greedy)
	dir := filepath.Join(work, "caption")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	req := capReq{Config: c, Greedy: gChk, Seconds: o.seconds}
	if req.Tensors, err = writeParams(dir, dec.P.List()); err != nil {
		return nil, err
	}
	if req.Feat, err = writeF32(dir, "feat", []int{c.R(), c.Feat}, feat); err != nil {
		return nil, err
	}
	ortModule, err := filepath.Abs(filepath.Join(o.ortDir, "node_modules", "onnxruntime-node"))
	if err != nil {
		return nil, err
	}
	ortSkip := haveORT(ortModule)
	if ortSkip == "" {
		req.ONNX = filepath.Join(dir, "onnx")
	}
	pipeSkip := ""
	var whole []model.Step // our caption of the crop, for the pipeline check
	var pipeWant [][]float32
	if err := exec.Command(o.python, "-c", "import PIL").Run(); err != nil {
		pipeSkip = "skipped: the PyTorch pipeline needs PIL (apt-get install -y python3-pil)"
	} else {
		if whole, err = decodeSteps(e, model.Options{Beam: 1, MaxLen: caption.MaxWords}); err != nil {
			return nil, err
		}
		chk, want := checksOf(dec.Words.ID, whole)
		pipeWant = want
		req.Pipeline = &capPipeline{Image: imgPath, Dir: filepath.Join(work, "mobilenet"), Size: 224, MaxWords: caption.MaxWords,
			Seconds: o.seconds * 2, Pixels: "pixels.rgb", Check: chk, Last: vocab.BOS}
		if len(whole) > 0 {
			req.Pipeline.Last = whole[len(whole)-1].TokenID
		}
		if err := os.WriteFile(filepath.Join(dir, req.Pipeline.Pixels), rgbBytes(img), 0o644); err != nil {
			return nil, err
		}
	}
	if err := writeJSON(filepath.Join(dir, "req.json"), req); err != nil {
		return nil, err
	}

	stepRow := row{Name: "caption decode step, batch 1 vs PyTorch", Unit: "us"}
	ortRow := row{Name: "caption decode step, batch 1 vs onnxruntime", Unit: "us"}
	firstRow := row{Name: "caption, photo to first word vs PyTorch", Unit: "ms"}
	wholeRow := row{Name: "caption, photo to whole caption vs PyTorch", Unit: "ms"}

	srv := httptest.NewServer(web.New(web.Config{Captioners: []model.Captioner{&caption.Pipeline{Enc: enc, Dec: dec}},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), AddrRate: 1e9, AddrBurst: 1e9,
		SessionRate: 1e9, SessionBurst: 1e9}))
	defer srv.Close()
	steps := greedySteps(e, o.seconds/2, nil)
	firsts, wholes, words, err := serverCaptions(srv.URL, photo, o.seconds, nil, nil)
	if err != nil {
		return nil, err
	}

	var cr capResp
	if skip := havePython(o.python); skip != "" {
		stepRow.Note, firstRow.Note, wholeRow.Note = "skipped: "+skip, "skipped: "+skip, "skipped: "+skip
		ortSkip = "skipped: the ONNX model is exported by the PyTorch peer, which cannot run"
	} else if err := runPeer(ctx, torchEnv, &cr, o.python, filepath.Join(work, "peer_torch.py"), "caption", dir); err != nil {
		stepRow.Note, stepRow.failed = "FAILED: "+err.Error(), true
		ortSkip = "skipped: the PyTorch peer failed"
	} else {
		gp := compareSteps(greedy, gWant, cr.Greedy)
		fmt.Fprintf(o.log, "  caption greedy, %d steps %q: %s\n", len(greedy), tokens(greedy), gp)
		stepRow.Peer, stepRow.Note, stepRow.failed = cr.StepUS.Median, gp.String(), !gp.ok()
		if cr.ONNXError != "" && ortSkip == "" {
			ortSkip = "skipped: torch.onnx.export failed: " + cr.ONNXError
		}
		if pipeSkip != "" {
			firstRow.Note, wholeRow.Note = pipeSkip, pipeSkip
		} else {
			pp := comparePipelines(whole, pipeWant, cr, words, idsToWords(dec, cr.Words))
			fmt.Fprintf(o.log, "  caption pipelines, %d words %q: %s\n", len(whole), tokens(whole), pp)
			note := pp.String() + fmt.Sprintf("; ours through the websocket (decode, crop, encode, decode, heat layers, JSON): %q; PyTorch (PIL, MobileNetV2, greedy): %q",
				pp.ours, pp.peer)
			firstRow.Note, wholeRow.Note = note, note
			if pp.ok() {
				firstRow.Peer, wholeRow.Peer = cr.FirstWordUS.Median/1e3, cr.CaptionUS.Median/1e3
			} else {
				firstRow.failed, wholeRow.failed = true, true
			}
		}
	}
	if ortSkip == "" {
		oreq := ortReq{S: c.R(), D: c.Proj, A: c.Att, K: c.Hidden, Greedy: gChk, Seconds: o.seconds, Threads: 1}
		if err := writeJSON(filepath.Join(req.ONNX, "req.json"), oreq); err != nil {
			return nil, err
		}
		var or ortResp
		if err := runPeer(ctx, nil, &or, "node", filepath.Join(work, "peer_ort.js"), ortModule, req.ONNX); err != nil {
			ortRow.Note, ortRow.failed = "FAILED: "+err.Error(), true
		} else {
			op := compareSteps(greedy, gWant, or.Greedy)
			ortRow.Peer, ortRow.Note, ortRow.failed = or.StepUS.Median, op.String(), !op.ok()
		}
	} else {
		ortRow.Note = ortSkip
	}
	steps = greedySteps(e, o.seconds/2, steps)
	if firsts, wholes, _, err = serverCaptions(srv.URL, photo, o.seconds, firsts, wholes); err != nil {
		return nil, err
	}
	stepRow.Ours, ortRow.Ours = median(steps), median(steps)
	firstRow.Ours, wholeRow.Ours = median(firsts), median(wholes)
	return []row{stepRow, ortRow, firstRow, wholeRow}, nil
}

// pipeParity is the pipeline check: the step check on our crop's pixels
// (within pipeTol), the word the peer writes after our last, and whether
// the two full pipelines wrote the same words from the photo file.
type pipeParity struct {
	parity
	sameWords bool
	ours      string
	peer      string
}

func comparePipelines(whole []model.Step, want [][]float32, cr capResp, ourWords []string, peerWords string) pipeParity {
	pp := pipeParity{parity: compareSteps(whole, want, cr.PixelCheck), ours: strings.Join(ourWords, " "), peer: peerWords}
	pp.sameWords = pp.ours == pp.peer
	if pp.Err == "" && len(whole) < caption.MaxWords && cr.PixelNext != vocab.EOS {
		pp.Err = fmt.Sprintf("after our last word the peer wrote word %d, not the end", cr.PixelNext)
	}
	return pp
}

func (p pipeParity) ok() bool {
	return p.Err == "" && p.Prob <= pipeTol && p.Att <= pipeTol && p.sameWords
}

func (p pipeParity) String() string {
	s := fmt.Sprintf("parity on our crop's pixels: max|dp| %.1e, max|da| %.1e over the whole caption, and the same end", p.Prob, p.Att)
	switch {
	case p.Err != "":
		return "PARITY FAILED on our crop's pixels: " + p.Err
	case p.Prob > pipeTol || p.Att > pipeTol:
		return fmt.Sprintf("PARITY FAILED (tolerance %.0e): %s", pipeTol, s)
	case !p.sameWords:
		return fmt.Sprintf("PARITY FAILED: from the photo file the pipelines wrote different captions (%s)", s)
	}
	return s + "; the same words from the photo file"
}

func idsToWords(m *caption.Model, ids []int) string {
	w := make([]string, len(ids))
	for i, id := range ids {
		w[i] = m.Words.Word(id)
	}
	return strings.Join(w, " ")
}

var errLimited = errors.New("rate limited")

// serverCaptions sends the photo file over the websocket, greedy, again and
// again for the budget, and appends the times to the first word and to
// the end (milliseconds).
func serverCaptions(url string, photo []byte, seconds float64, firsts, wholes []float64) ([]float64, []float64, []string, error) {
	c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(url, "http")+"/ws", nil)
	if err != nil {
		return nil, nil, nil, err
	}
	defer c.Close()
	msg, _ := json.Marshal(map[string]any{"type": "caption", "v": 1,
		"payload": map[string]any{"id": "b", "beam": 1, "image": base64.StdEncoding.EncodeToString(photo)}})
	var words []string
	one := func() (first, whole float64, err error) {
		words = words[:0]
		start := time.Now()
		if err := c.WriteMessage(websocket.TextMessage, msg); err != nil {
			return 0, 0, err
		}
		for {
			var m struct {
				Type    string `json:"type"`
				Payload struct {
					Step    model.Step `json:"step"`
					Code    string     `json:"code"`
					Message string     `json:"message"`
				} `json:"payload"`
			}
			if err := c.ReadJSON(&m); err != nil {
				return 0, 0, err
			}
			switch m.Type {
			case "step":
				if first == 0 {
					first = float64(time.Since(start).Microseconds()) / 1e3
				}
				words = append(words, m.Payload.Step.Token)
			case "done":
				return first, float64(time.Since(start).Microseconds()) / 1e3, nil
			case "error":
				if m.Payload.Code == web.ERateLimited {
					return 0, 0, errLimited
				}
				return 0, 0, fmt.Errorf("server: %s", m.Payload.Message)
			}
		}
	}
	// A session may send only a few requests a second; one that was turned
	// away waits for the limit and goes again, untimed.
	timed := func() (first, whole float64, err error) {
		for {
			first, whole, err = one()
			if err != errLimited {
				return first, whole, err
			}
			time.Sleep(300 * time.Millisecond)
		}
	}
	for range 2 {
		if _, _, err := timed(); err != nil {
			return nil, nil, nil, err
		}
	}
	end := time.Now().Add(time.Duration(seconds * float64(time.Second)))
	for n := len(wholes); time.Now().Before(end) || len(wholes) < n+3; {
		f, w, err := timed()
		if err != nil {
			return nil, nil, nil, err
		}
		firsts, wholes = append(firsts, f), append(wholes, w)
	}
	return firsts, wholes, words, nil
}
