package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
	"github.com/labstack/echo/v4"

	"attention/model"
	"attention/model/vocab"
)

// Websocket timing, as in gorilla's chat example.
const (
	writeWait  = 10 * time.Second  // time allowed to write one message
	pongWait   = 60 * time.Second  // time allowed between pongs from the client
	pingPeriod = pongWait * 9 / 10 // how often we ping; must be below pongWait
	sendBuffer = 256               // messages queued for a client before it counts as stuck
	decodeWait = 30 * time.Second  // longest one request may wait for a decode slot
	// wsDecodeTimeout bounds one websocket request, waiting included.
	wsDecodeTimeout = 60 * time.Second
	wsRate          = 4 // translate requests a second per session...
	wsBurst         = 8 // ...in bursts of at most this many
)

// ProtocolVersion is the envelope version this server speaks.
const ProtocolVersion = 1

// Message types.
const (
	MsgTranslate = "translate"
	MsgCaption   = "caption"
	MsgCancel    = "cancel"
	MsgSource    = "source"
	MsgStep      = "step"
	MsgDone      = "done"
	MsgQueued    = "queued"
	MsgError     = "error"
)

// Envelope wraps every websocket message.
type Envelope struct {
	Type    string          `json:"type"`
	V       int             `json:"v"`
	Payload json.RawMessage `json:"payload"`
}

type outEnvelope struct {
	Type    string `json:"type"`
	V       int    `json:"v"`
	Payload any    `json:"payload"`
}

// Payloads sent by the server.
type (
	SourcePayload struct {
		ID     string       `json:"id"`
		Model  string       `json:"model"`
		Source model.Source `json:"source"`
		// Image sources: the square crop the model saw, as a data: URL.
		Image string `json:"image,omitempty"`
	}
	StepPayload struct {
		ID   string     `json:"id"`
		Step model.Step `json:"step"`
		// Image sources: the step's attention as a transparent heat layer
		// (PNG data: URL) to stretch over the photo.
		Heat string `json:"heat,omitempty"`
		// Image sources, when the server has a segmenter and the word
		// names an object it found: where the attention fell on it.
		Object *ObjectLook `json:"object,omitempty"`
	}
	DonePayload struct {
		ID        string `json:"id"`
		Text      string `json:"text"`
		Steps     int    `json:"steps"`
		ElapsedMS int64  `json:"elapsed_ms"`
	}
	ErrorPayload struct {
		ID      string `json:"id,omitempty"`
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	QueuedPayload struct {
		ID    string `json:"id"`
		Ahead int    `json:"ahead"` // requests that will be served first
	}
	CancelPayload struct {
		ID string `json:"id"`
	}
)

var upgrader = websocket.Upgrader{ReadBufferSize: 4096, WriteBufferSize: 4096} // default CheckOrigin: same origin only

type session struct {
	s      *Server
	conn   *websocket.Conn
	send   chan []byte
	ctx    context.Context
	cancel context.CancelFunc

	limit bucket
	addr  string

	mu           sync.Mutex
	cancelDecode context.CancelFunc
	decodes      sync.WaitGroup
}

func (s *Server) websocket(c echo.Context) error {
	conn, err := upgrader.Upgrade(c.Response(), c.Request(), nil)
	if err != nil {
		return nil // the upgrader has already answered (403 for another origin)
	}
	// The connection is hijacked: from here on, return nil on every path.
	c.Response().Status = http.StatusSwitchingProtocols // for the request log
	ctx, cancel := context.WithCancel(context.Background())
	ss := &session{s: s, conn: conn, send: make(chan []byte, sendBuffer), ctx: ctx, cancel: cancel, addr: c.Request().RemoteAddr}
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		ss.writePump()
	}()
	ss.readPump()
	cancel()
	ss.decodes.Wait()
	<-writerDone
	return nil
}

// readPump is the connection's one reader.
func (ss *session) readPump() {
	c := ss.conn
	c.SetReadLimit(MaxWSMessage)
	c.SetReadDeadline(time.Now().Add(pongWait))
	c.SetPongHandler(func(string) error { return c.SetReadDeadline(time.Now().Add(pongWait)) })
	for {
		mt, data, err := c.ReadMessage()
		if err != nil {
			if errors.Is(err, websocket.ErrReadLimit) {
				ss.post(MsgError, ErrorPayload{Code: ETooLarge, Message: "message too large: the limit is 14 MiB"})
			}
			return
		}
		if ss.ctx.Err() != nil {
			return
		}
		if mt != websocket.TextMessage {
			ss.post(MsgError, ErrorPayload{Code: EBadMessage, Message: "send text frames holding JSON, not binary frames"})
			continue
		}
		ss.handle(data)
	}
}

// message is one parsed client message.
type message struct {
	typ       string
	translate TranslateRequest
	caption   CaptionRequest
}

// parseMessage validates one client message: a known type, version 1,
// and a well-formed payload.
func parseMessage(data []byte) (message, *ErrorPayload) {
	var env Envelope
	var m message
	if !utf8.Valid(data) {
		return m, &ErrorPayload{Code: EBadMessage, Message: "messages must be valid UTF-8 JSON"}
	}
	if err := json.Unmarshal(data, &env); err != nil {
		return m, &ErrorPayload{Code: EBadMessage, Message: "malformed JSON: " + jsonProblem(err)}
	}
	if env.V != ProtocolVersion {
		return m, &ErrorPayload{Code: EBadMessage, Message: "unsupported protocol version; this server speaks v=1"}
	}
	switch env.Type {
	case MsgTranslate:
		if len(env.Payload) > MaxBodyBytes {
			return m, &ErrorPayload{Code: ETooLarge, Message: "translate message too large"}
		}
		if err := strictDecode(env.Payload, &m.translate); err != nil {
			return m, &ErrorPayload{Code: EBadMessage, Message: "bad translate payload: " + jsonProblem(err)}
		}
	case MsgCaption:
		if err := strictDecode(env.Payload, &m.caption); err != nil {
			return m, &ErrorPayload{Code: EBadMessage, Message: "bad caption payload: " + jsonProblem(err)}
		}
		data, e := decodeImage(m.caption.Image)
		if e != nil {
			return m, &ErrorPayload{ID: m.caption.ID, Code: e.Code, Message: e.Message}
		}
		m.caption.data, m.caption.Image = data, ""
	case MsgCancel:
	default:
		return m, &ErrorPayload{Code: EBadMessage, Message: "unknown message type; expected translate, caption or cancel"}
	}
	m.typ = env.Type
	return m, nil
}

func (ss *session) handle(data []byte) {
	m, perr := parseMessage(data)
	if perr != nil {
		ss.post(MsgError, *perr)
		return
	}
	var id string
	switch m.typ {
	case MsgCancel:
		ss.stopDecode()
		return
	case MsgTranslate:
		id = m.translate.ID
	case MsgCaption:
		id = m.caption.ID
	}
	now := time.Now()
	if !ss.limit.take(wsRate, wsBurst, now) || !ss.s.perAddr.allow(ss.addr, now) {
		ss.post(MsgError, ErrorPayload{ID: id, Code: ERateLimited, Message: "too many requests; wait a moment"})
		return
	}
	if m.typ == MsgTranslate {
		req := m.translate
		t, e := ss.s.check(req)
		if e != nil {
			ss.post(MsgError, ErrorPayload{ID: id, Code: e.Code, Message: e.Message})
			return
		}
		// Encoded on the decode's goroutine, holding its slot: never on
		// this reader.
		ss.startDecode(job{id: id, info: t.Info(), beam: req.Beam, prepare: func() (*prepared, *Error) { return ss.s.prepareText(t, req.Text) }})
		return
	}
	req := m.caption
	c, e := ss.s.checkCaption(&req)
	if e != nil {
		ss.post(MsgError, ErrorPayload{ID: id, Code: e.Code, Message: e.Message})
		return
	}
	ss.startDecode(job{id: id, info: c.Info(), beam: req.Beam, prepare: func() (*prepared, *Error) { return ss.s.preparePhoto(c, req.data) }})
}

func strictDecode(raw json.RawMessage, v any) error {
	if len(raw) == 0 {
		return errors.New("missing payload")
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

func (ss *session) stopDecode() {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.cancelDecode != nil {
		ss.cancelDecode()
		ss.cancelDecode = nil
	}
}

// job is one decode request: prepare runs once a decode slot is held
// (encoding a photo is as costly as decoding).
type job struct {
	id      string
	info    model.Info
	beam    int
	prepare func() (*prepared, *Error)
}

// startDecode runs one request; a new request cancels the one in flight.
func (ss *session) startDecode(j job) {
	ss.stopDecode()
	ctx, cancel := context.WithTimeout(ss.ctx, wsDecodeTimeout)
	ss.mu.Lock()
	ss.cancelDecode = cancel
	ss.mu.Unlock()
	ss.decodes.Add(1)
	go func() {
		defer ss.decodes.Done()
		defer cancel()
		wait, stopWait := context.WithTimeout(ctx, decodeWait)
		err := ss.s.decodes.acquire(wait, func(ahead int) {
			ss.post(MsgQueued, QueuedPayload{ID: j.id, Ahead: ahead})
		})
		stopWait()
		if err != nil {
			if ctx.Err() == nil {
				ss.post(MsgError, ErrorPayload{ID: j.id, Code: EBusy, Message: "the server is busy; try again in a moment"})
			}
			return
		}
		defer ss.s.decodes.release()
		start := time.Now()
		pp, e := j.prepare()
		if e != nil {
			ss.post(MsgError, ErrorPayload{ID: j.id, Code: e.Code, Message: e.Message})
			return
		}
		src := SourcePayload{ID: j.id, Model: j.info.ID, Source: pp.p.Source()}
		src.Image = pp.cropURL
		if !ss.post(MsgSource, src) {
			return
		}
		var words []string
		for st, err := range pp.p.Decode(ctx, model.Options{Beam: j.beam}) {
			if err != nil {
				return // cancelled: a newer request or a closed socket
			}
			words = append(words, st.Token)
			sp := StepPayload{ID: j.id, Step: st}
			if src.Source.Kind == "image" {
				sp.Heat = heatLayer(st, src.Source)
				sp.Object = pp.objects.look(st, src.Source)
			}
			if !ss.post(MsgStep, sp) {
				return
			}
		}
		ss.post(MsgDone, DonePayload{ID: j.id, Text: vocab.Detokenize(words, j.info.TgtLang), Steps: len(words),
			ElapsedMS: time.Since(start).Milliseconds()})
	}()
}

// post queues a message for the writer. A client whose queue is full is
// not reading: it is dropped rather than allowed to hold anything up.
func (ss *session) post(typ string, payload any) bool {
	b, err := json.Marshal(outEnvelope{Type: typ, V: ProtocolVersion, Payload: payload})
	if err != nil {
		ss.s.log.Error("websocket: encoding message", "type", typ, "err", err)
		return false
	}
	select {
	case <-ss.ctx.Done():
		return false
	default:
	}
	select {
	case ss.send <- b:
		return true
	default:
		ss.s.log.Warn("websocket: dropping a client that is not reading")
		ss.cancel()
		ss.conn.Close()
		return false
	}
}

// writePump is the connection's one writer.
func (ss *session) writePump() {
	ticker := time.NewTicker(pingPeriod)
	defer func() {
		ticker.Stop()
		ss.cancel()
		ss.conn.Close()
	}()
	for {
		select {
		case msg := <-ss.send:
			ss.conn.SetWriteDeadline(time.Now().Add(writeWait))
			if err := ss.conn.WriteMessage(websocket.TextMessage, msg); err != nil {
				return
			}
		case <-ticker.C:
			ss.conn.SetWriteDeadline(time.Now().Add(writeWait))
			if err := ss.conn.WriteMessage(websocket.PingMessage, nil); err != nil {
				return
			}
		case <-ss.ctx.Done():
			ss.conn.SetWriteDeadline(time.Now().Add(writeWait))
			ss.conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
			return
		}
	}
}
