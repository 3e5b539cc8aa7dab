package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/labstack/echo/v4"

	"attention/model"
	"attention/model/vocab"
	"attention/web/classroom"
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
)

// ProtocolVersion is the envelope version this server speaks.
const ProtocolVersion = 1

// Message types.
const (
	MsgTranslate = "translate"
	MsgCaption   = "caption"
	MsgCancel    = "cancel"
	MsgInspect   = "inspect"
	MsgGlass     = "glass"
	MsgTree      = "tree"
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
	// TreePayload is one level of a beam search's tree, as it grows.
	TreePayload struct {
		ID    string          `json:"id"`
		Level model.TreeLevel `json:"level"`
	}
	// GlassPayload answers an inspect: one step in numbers.
	GlassPayload struct {
		ID    string       `json:"id"`
		Glass *model.Glass `json:"glass"`
	}
)

var upgrader = websocket.Upgrader{ReadBufferSize: 4096, WriteBufferSize: 4096} // default CheckOrigin: same origin only

type session struct {
	s      *Server
	conn   *websocket.Conn
	send   chan []byte
	ctx    context.Context
	cancel context.CancelFunc

	limit   bucket
	refused int // requests refused by the rate limit since the last one served
	addr    string
	sc      scanner
	// inMessage: a message is being read, under its own deadline, which
	// pongs do not extend. Only the reader touches it (the pong handler
	// runs on the reader).
	inMessage bool

	mu           sync.Mutex
	cancelDecode context.CancelFunc
	decodeID     string // the request cancelDecode stops
	// kept is the source of the last request prepared on this connection,
	// which inspect messages open (so a photo is not sent again for each
	// step). It lives as long as the connection.
	kept struct {
		id string
		p  model.Prepared
	}
	closeMsg []byte // the close frame to send, once the session is closing
	decodes  sync.WaitGroup

	origin    string // scheme://host the client reached, for join links
	viewLimit bucket // a teacher's view messages
	// class is this session's part in a class, if any (under mu).
	class struct {
		teacher  *classroom.Teacher
		follower *classroom.Follower
	}
}

func (s *Server) websocket(c echo.Context) error {
	conn, err := upgrader.Upgrade(c.Response(), c.Request(), nil)
	if err != nil {
		return nil // the upgrader has already answered (403 for another origin)
	}
	// The connection is hijacked: from here on, return nil on every path.
	c.Response().Status = http.StatusSwitchingProtocols // for the request log
	addr := c.Request().RemoteAddr
	if reason := s.conns.openSession(addr); reason != "" {
		refuseSession(conn, reason)
		return nil
	}
	defer s.conns.closeSession(addr)
	ctx, cancel := context.WithCancel(context.Background())
	ss := &session{s: s, conn: conn, send: make(chan []byte, sendBuffer), ctx: ctx, cancel: cancel, addr: addr,
		origin: c.Scheme() + "://" + c.Request().Host}
	s.liveMu.Lock()
	if s.live == nil {
		s.live = map[*session]bool{}
	}
	s.live[ss] = true
	s.liveMu.Unlock()
	defer func() {
		s.liveMu.Lock()
		delete(s.live, ss)
		s.liveMu.Unlock()
	}()
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		ss.writePump()
	}()
	ss.readPump()
	cancel()
	ss.decodes.Wait()
	ss.endClass("")
	<-writerDone
	conn.Close()
	return nil
}

// CloseSessions ends every open websocket session with 1001 (going away)
// and reason, as a server shutting down must: http.Server.Shutdown does
// not close the connections websockets have taken over.
func (s *Server) CloseSessions(reason string) {
	s.liveMu.Lock()
	defer s.liveMu.Unlock()
	for ss := range s.live {
		ss.closeWith(websocket.CloseGoingAway, reason)
	}
}

// refuseSession closes a new session at once with 1013 (try again later)
// and the reason, waiting briefly for the client's close frame.
func refuseSession(conn *websocket.Conn, reason string) {
	conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseTryAgainLater, reason), time.Now().Add(writeWait))
	conn.SetReadDeadline(time.Now().Add(closeGrace))
	for {
		if _, _, err := conn.NextReader(); err != nil {
			break
		}
	}
	conn.Close()
}

// closeWith ends the session with a close frame saying why: the writer
// sends it, and the reader reads on (discarding) until the client's own
// close frame or closeGrace, so the client sees the reason, not a reset.
func (ss *session) closeWith(code int, reason string) {
	ss.mu.Lock()
	if ss.closeMsg == nil {
		ss.closeMsg = websocket.FormatCloseMessage(code, reason)
	}
	ss.mu.Unlock()
	ss.cancel()
}

// readPump is the connection's one reader.
func (ss *session) readPump() {
	c := ss.conn
	c.SetReadLimit(MaxWSMessage)
	c.SetReadDeadline(time.Now().Add(pongWait))
	c.SetPongHandler(func(string) error {
		if ss.inMessage || ss.ctx.Err() != nil {
			return nil // a message must arrive whole by its own deadline
		}
		return c.SetReadDeadline(time.Now().Add(pongWait))
	})
	for {
		mt, r, err := c.NextReader()
		if err != nil {
			ss.readFailed(err)
			return
		}
		if ss.ctx.Err() != nil {
			continue // closing: what the client still sends is discarded
		}
		ss.inMessage = true
		c.SetReadDeadline(time.Now().Add(ss.s.msgWait))
		if mt != websocket.TextMessage {
			ss.reply(MsgError, ErrorPayload{Code: EBadMessage, Message: "send text frames holding JSON, not binary frames"})
		} else if err := ss.readMessage(r); err != nil {
			ss.readFailed(err)
			return
		}
		// What was left unread (a refused message) is discarded under
		// the same deadline, never held.
		if _, err := io.Copy(io.Discard, r); err != nil {
			ss.readFailed(err)
			return
		}
		ss.inMessage = false
		if ss.ctx.Err() == nil {
			c.SetReadDeadline(time.Now().Add(pongWait))
		}
	}
}

// readFailed says why the connection's reading ended, when the client
// should be told.
func (ss *session) readFailed(err error) {
	var ne net.Error
	switch {
	case errors.Is(err, websocket.ErrReadLimit):
		ss.reply(MsgError, ErrorPayload{Code: ETooLarge, Message: "message too large: the limit is 14 MiB"})
		ss.closeWith(websocket.CloseMessageTooBig, "message too large: the limit is 14 MiB")
	case ss.inMessage && errors.As(err, &ne) && ne.Timeout():
		ss.closeWith(websocket.ClosePolicyViolation, "a message must arrive whole within "+ss.s.msgWait.String())
	}
}

// message is one parsed client message.
type message struct {
	typ       string
	id        string
	translate TranslateRequest
	caption   CaptionRequest
	inspect   InspectRequest
	class     ClassRequest
	release   func() // gives back the photo's memory; nil if none is held
}

func (m *message) done() {
	if m.release != nil {
		m.release()
		m.release = nil
	}
}

// parser reads messages. admit is asked once the envelope's type and
// version are known, before the payload is read; captionFields checks a
// caption's model and beam before its photo is read.
type parser struct {
	admit         func(typ string) *Error
	captionFields func(req *CaptionRequest) *Error
	photoMem      *budget
	photoLimit    int64 // bytes of one photo file
}

// parse reads one message from sc. The error is a *Error for the client
// or a *connError.
func (p *parser) parse(sc *scanner) (*message, error) {
	m := &message{}
	err := p.envelope(sc, m)
	if err != nil {
		m.done()
	}
	return m, err
}

func (p *parser) envelope(sc *scanner, m *message) error {
	if err := sc.expect('{'); err != nil {
		return clientErr(err)
	}
	var typ string
	v := -1
	var early []byte // a payload sent before the type and version
	seenType, seenV, seenPayload := false, false, false
	for first := true; ; first = false {
		k, err := sc.key(first)
		if err != nil {
			return clientErr(err)
		}
		if k == "" {
			break
		}
		switch k {
		case "type", "v":
			raw, err := sc.raw(64)
			if errors.Is(err, errValueTooLarge) {
				return Errorf(EBadMessage, "unknown message type; expected translate, caption, inspect, cancel or a class_ message")
			} else if err != nil {
				return clientErr(err)
			}
			if k == "type" {
				seenType = true
				err = json.Unmarshal(raw, &typ)
			} else {
				seenV = true
				err = json.Unmarshal(raw, &v)
			}
			if err != nil {
				return Errorf(EBadMessage, "malformed JSON: field %q has the wrong type", k)
			}
		case "payload":
			if seenPayload {
				return Errorf(EBadMessage, "malformed JSON: two payloads")
			}
			seenPayload = true
			if !seenType || !seenV {
				early, err = sc.raw(MaxBodyBytes)
				if errors.Is(err, errValueTooLarge) {
					return Errorf(ETooLarge, "a payload over 64 KiB must come after \"type\" and \"v\"")
				} else if err != nil {
					return clientErr(err)
				}
				continue
			}
			if e := p.check(typ, v); e != nil {
				return e
			}
			m.typ = typ
			if err := p.payload(sc, m); err != nil {
				return err
			}
		default: // other envelope fields are ignored, as JSON decoding would
			if _, err := sc.raw(4096); err != nil {
				if errors.Is(err, errValueTooLarge) {
					return Errorf(EBadMessage, "the envelope's field %q is too large", clip(k, 40))
				}
				return clientErr(err)
			}
		}
	}
	if err := sc.end(); err != nil {
		return clientErr(err)
	}
	if seenPayload && early == nil {
		return nil
	}
	if e := p.check(typ, v); e != nil {
		return e
	}
	m.typ = typ
	if !seenPayload {
		if typ == MsgCancel {
			return nil
		}
		return Errorf(EBadMessage, "bad %s payload: missing payload", typ)
	}
	var esc scanner
	esc.reset(bytes.NewReader(early))
	if err := p.payload(&esc, m); err != nil {
		return err
	}
	return clientErr(esc.end())
}

// check is what is known before the payload: the version, the type, and
// (through admit) the rate limit.
func (p *parser) check(typ string, v int) *Error {
	if v != ProtocolVersion {
		return Errorf(EBadMessage, "unsupported protocol version; this server speaks v=1")
	}
	switch typ {
	case MsgTranslate, MsgCaption, MsgInspect, MsgCancel,
		MsgClassOpen, MsgClassResume, MsgClassView, MsgClassClose, MsgClassJoin, MsgClassLeave:
	default:
		return Errorf(EBadMessage, "unknown message type; expected translate, caption, inspect, cancel or a class_ message")
	}
	if p.admit != nil {
		return p.admit(typ)
	}
	return nil
}

// clientErr makes a scanning error the client's (*Error), leaving
// connection errors as they are.
func clientErr(err error) error {
	var se *syntaxError
	if errors.As(err, &se) {
		return Errorf(EBadMessage, "%s", se.msg)
	}
	return err
}

func (p *parser) payload(sc *scanner, m *message) error {
	switch m.typ {
	case MsgTranslate:
		raw, err := sc.raw(MaxBodyBytes)
		if errors.Is(err, errValueTooLarge) {
			return Errorf(ETooLarge, "translate message too large: the limit is 64 KiB")
		} else if err != nil {
			return clientErr(err)
		}
		if err := strictDecode(raw, &m.translate); err != nil {
			return Errorf(EBadMessage, "bad translate payload: %s", jsonProblem(err))
		}
		m.id = m.translate.ID
		return nil
	case MsgCaption:
		return p.captionPayload(sc, m)
	case MsgInspect:
		raw, err := sc.raw(MaxBodyBytes)
		if errors.Is(err, errValueTooLarge) {
			return Errorf(ETooLarge, "inspect message too large: the limit is 64 KiB")
		} else if err != nil {
			return clientErr(err)
		}
		if err := strictDecode(raw, &m.inspect); err != nil {
			return Errorf(EBadMessage, "bad inspect payload: %s", jsonProblem(err))
		}
		m.id = m.inspect.ID
		return nil
	case MsgClassOpen, MsgClassResume, MsgClassView, MsgClassClose, MsgClassJoin, MsgClassLeave:
		raw, err := sc.raw(4096)
		if errors.Is(err, errValueTooLarge) {
			return Errorf(ETooLarge, "%s message too large: the limit is 4 KiB", m.typ)
		} else if err != nil {
			return clientErr(err)
		}
		if err := strictDecode(raw, &m.class); err != nil {
			return Errorf(EBadMessage, "bad %s payload: %s", m.typ, jsonProblem(err))
		}
		return nil
	}
	raw, err := sc.raw(4096) // cancel
	if errors.Is(err, errValueTooLarge) {
		return Errorf(EBadMessage, "bad cancel payload: too large")
	} else if err != nil {
		return clientErr(err)
	}
	var c CancelPayload
	if err := strictDecode(raw, &c); err != nil {
		return Errorf(EBadMessage, "bad cancel payload: %s", jsonProblem(err))
	}
	m.id = c.ID
	return nil
}

// captionPayload reads a caption's fields; the photo is streamed through
// base64 into a bounded buffer, after the model and beam (when they come
// first) have been checked.
func (p *parser) captionPayload(sc *scanner, m *message) error {
	req := &m.caption
	if b, err := sc.peek(); err != nil {
		return clientErr(err)
	} else if b != '{' {
		return Errorf(EBadMessage, "bad caption payload: not a JSON object")
	}
	sc.next()
	for first := true; ; first = false {
		k, err := sc.key(first)
		if err != nil {
			return clientErr(err)
		}
		if k == "" {
			break
		}
		switch k {
		case "id", "model", "beam", "force", "override":
			raw, err := sc.raw(2048)
			if errors.Is(err, errValueTooLarge) {
				return Errorf(EBadMessage, "bad caption payload: field %q is too long", k)
			} else if err != nil {
				return clientErr(err)
			}
			switch k {
			case "id":
				err = json.Unmarshal(raw, &req.ID)
				m.id = req.ID
			case "model":
				err = json.Unmarshal(raw, &req.Model)
			case "force":
				err = json.Unmarshal(raw, &req.Force)
			case "override":
				err = json.Unmarshal(raw, &req.Override)
			default:
				err = json.Unmarshal(raw, &req.Beam)
			}
			if err != nil {
				return Errorf(EBadMessage, "bad caption payload: field %q has the wrong type", k)
			}
		case "image":
			if m.release != nil {
				return Errorf(EBadMessage, "bad caption payload: two images")
			}
			if p.captionFields != nil {
				if e := p.captionFields(req); e != nil {
					return e
				}
			}
			if b, err := sc.next(); err != nil {
				return clientErr(err)
			} else if b != '"' {
				return Errorf(EBadMessage, "bad caption payload: field \"image\" has the wrong type")
			}
			pb := &photoBuffer{limit: p.photoLimit, mem: p.photoMem}
			m.release = pb.release
			if err := readPhoto(&stringReader{sc: sc}, pb); err != nil {
				return err
			}
			req.photo = pb
		default:
			return Errorf(EBadMessage, "bad caption payload: unknown field %q", clip(k, 40))
		}
	}
	m.id = req.ID
	return nil
}

// readMessage reads one text message and acts on it. It returns only
// connection errors; the client's get an error reply.
func (ss *session) readMessage(r io.Reader) error {
	ss.sc.reset(r)
	p := parser{admit: ss.admit, captionFields: func(req *CaptionRequest) *Error {
		_, e := ss.s.captionFields(req)
		return e
	}, photoMem: ss.s.photoMem, photoLimit: ss.s.image.MaxBytes}
	m, err := p.parse(&ss.sc)
	var ce *connError
	if errors.As(err, &ce) {
		return ce.err
	}
	if err != nil {
		e, _ := asError(err)
		if e.Code != "" && ss.ctx.Err() == nil {
			ss.reply(MsgError, ErrorPayload{ID: m.id, Code: e.Code, Message: e.Message})
		}
		return nil
	}
	ss.handle(m)
	return nil
}

// maxRefused is how many requests in a row the rate limit refuses (each
// answered rate_limited) before the session is closed.
const maxRefused = 64

// admit applies the rate limits to a request, before its payload is read.
func (ss *session) admit(typ string) *Error {
	if typ == MsgCancel || typ == MsgClassView || typ == MsgClassLeave {
		return nil // cancels and leaves free resources; views have their own limit
	}
	now := time.Now()
	// A class joins from one address when its students share a school's
	// network: joins are held to the session's rate and to the limit on
	// codes that did not work (joinFails), not to the address's.
	if ss.limit.take(ss.s.sessRate, ss.s.sessBurst, now) && (typ == MsgClassJoin || ss.s.perAddr.allow(ss.addr, now)) {
		ss.refused = 0
		return nil
	}
	ss.refused++
	if ss.refused > maxRefused {
		ss.closeWith(websocket.ClosePolicyViolation, fmt.Sprintf("too many messages: at most %g requests a second; slow down", ss.s.sessRate))
		return &Error{} // closing: no reply
	}
	return Errorf(ERateLimited, "too many requests; wait a moment")
}

func (ss *session) handle(m *message) {
	defer m.done() // unless a decode takes the photo over
	switch m.typ {
	case MsgCancel:
		ss.cancelRequest(m.id)
	case MsgInspect:
		ss.startInspect(m.inspect)
	case MsgClassOpen, MsgClassResume, MsgClassView, MsgClassClose, MsgClassJoin, MsgClassLeave:
		ss.handleClass(m.typ, m.class, "")
	case MsgTranslate:
		req := m.translate
		t, e := ss.s.check(req)
		if e != nil {
			ss.reply(MsgError, ErrorPayload{ID: m.id, Code: e.Code, Message: e.Message})
			return
		}
		// Encoded on the decode's goroutine, holding its slot: never on
		// this reader.
		ss.startDecode(job{id: m.id, info: t.Info(), opts: model.Options{Beam: req.Beam, Force: req.Force, Override: req.Override},
			prepare: func() (*prepared, *Error) { return ss.s.prepareText(t, req.Text) }})
	case MsgCaption:
		req := m.caption
		c, e := ss.s.checkCaption(&req)
		if e != nil {
			ss.reply(MsgError, ErrorPayload{ID: m.id, Code: e.Code, Message: e.Message})
			return
		}
		ss.startDecode(job{id: m.id, info: c.Info(), opts: model.Options{Beam: req.Beam, Force: req.Force, Override: req.Override}, release: m.release,
			prepare: func() (*prepared, *Error) { return ss.s.preparePhoto(c, req.photo) }})
		m.release = nil
	}
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

// cancelRequest stops the decode in flight if its id is id, or whatever it is
// when id is "" (a cancel without a payload). A cancel for a request that
// has finished, or that a newer one replaced, changes nothing.
func (ss *session) cancelRequest(id string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.cancelDecode != nil && (id == "" || id == ss.decodeID) {
		ss.cancelDecode()
		ss.cancelDecode = nil
	}
}

// job is one decode request: prepare runs once a decode slot is held
// (encoding a photo is as costly as decoding).
type job struct {
	id      string
	info    model.Info
	opts    model.Options // beam width and forced words
	prepare func() (*prepared, *Error)
	release func() // gives back the photo's memory, if any
}

// startDecode runs one request; a new request cancels the one in flight.
func (ss *session) startDecode(j job) {
	ss.stopDecode()
	ctx, cancel := context.WithTimeout(ss.ctx, wsDecodeTimeout)
	ss.mu.Lock()
	ss.cancelDecode, ss.decodeID = cancel, j.id
	ss.mu.Unlock()
	ss.decodes.Add(1)
	go func() {
		defer ss.decodes.Done()
		defer cancel()
		if j.release != nil {
			defer j.release()
		}
		if !ss.slot(ctx, j.id, func(ahead int) { ss.post(MsgQueued, QueuedPayload{ID: j.id, Ahead: ahead}) }) {
			return
		}
		defer ss.s.decodes.release()
		start := time.Now()
		pp, e := j.prepare()
		if e != nil {
			ss.emit(MsgError, ErrorPayload{ID: j.id, Code: e.Code, Message: e.Message})
			return
		}
		ss.mu.Lock()
		ss.kept.id, ss.kept.p = j.id, pp.p
		ss.mu.Unlock()
		src := SourcePayload{ID: j.id, Model: j.info.ID, Source: pp.p.Source()}
		src.Image = pp.cropURL
		if !ss.emit(MsgSource, src) {
			return
		}
		var words []string
		opts := j.opts
		if opts.Beam > 1 {
			opts.Tree = func(l model.TreeLevel) { ss.emit(MsgTree, TreePayload{ID: j.id, Level: l}) }
		}
		send := ss.stepSender(ctx, j.id, src.Source, pp.objects, cancel)
		for st, err := range pp.p.Decode(ctx, opts) {
			if e := decodeError(err); e != nil {
				if send.close() {
					ss.emit(MsgError, ErrorPayload{ID: j.id, Code: e.Code, Message: e.Message})
				}
				return
			}
			if err != nil {
				send.close()
				return // cancelled: a newer request or a closed socket
			}
			words = append(words, st.Token)
			if !send.step(st) {
				send.close()
				return
			}
		}
		if send.close() {
			ss.emit(MsgDone, DonePayload{ID: j.id, Text: vocab.Detokenize(words, j.info.TgtLang), Steps: len(words),
				ElapsedMS: time.Since(start).Milliseconds()})
		}
	}()
}

// stepSender sends a decode's steps in order. A photo's steps carry a heat
// layer each (and the object a word names), which are drawn on another
// goroutine while the decoder makes the next word, so that a caption is
// not held up by its pictures; a text's steps are sent as they come.
type stepSender struct {
	send  func(model.Step) bool
	steps chan model.Step // to the drawing goroutine; nil for text
	sent  chan bool       // the drawing goroutine's outcome
}

func (ss *session) stepSender(ctx context.Context, id string, src model.Source, objects *objectMap, cancel context.CancelFunc) *stepSender {
	s := &stepSender{send: func(st model.Step) bool {
		sp := StepPayload{ID: id, Step: st}
		if src.Kind == "image" {
			sp.Heat = ss.s.heatLayer(st, src)
			sp.Object = objects.look(st, src, ss.s.log)
		}
		return ss.emit(MsgStep, sp)
	}}
	if src.Kind != "image" {
		return s
	}
	s.steps, s.sent = make(chan model.Step, model.MaxWords), make(chan bool, 1)
	go func() {
		ok := true
		for st := range s.steps {
			if ok && ctx.Err() != nil {
				ok = false // a newer request or a closed socket: the rest is not sent
			}
			if !ok {
				continue
			}
			if !s.send(st) {
				ok = false
				cancel() // nobody reads: the decode stops too
				continue
			}
			// The writer was just given the step; with every processor
			// busy (the decoder on one, this goroutine drawing the next
			// layer on another) it would wait until this goroutine blocks,
			// after the last queued layer, and the words would arrive in
			// bursts.
			runtime.Gosched()
		}
		s.sent <- ok
	}()
	return s
}

// step sends st (queues it, for a photo); false: it could not be sent.
func (s *stepSender) step(st model.Step) bool {
	if s.steps != nil {
		s.steps <- st
		return true
	}
	return s.send(st)
}

// close waits until every step queued is sent and reports whether all
// were (true for a text: step said when one was not).
func (s *stepSender) close() bool {
	if s.steps == nil {
		return true
	}
	close(s.steps)
	return <-s.sent
}

// slot waits at most decodeWait, within ctx, for a decode slot for request
// id, telling queued (when not nil) how many wait before it. It reports
// whether it got one (the caller releases it); a wait that ran out is
// answered busy, one that ctx ended (a newer request, a closed socket) is
// not answered.
func (ss *session) slot(ctx context.Context, id string, queued func(ahead int)) bool {
	wait, stop := context.WithTimeout(ctx, decodeWait)
	defer stop()
	if err := ss.s.decodes.acquire(wait, queued); err != nil {
		if ctx.Err() == nil {
			ss.post(MsgError, ErrorPayload{ID: id, Code: EBusy, Message: "the server is busy; try again in a moment"})
		}
		return false
	}
	return true
}

// startInspect answers an inspect of the source kept from request
// req.Of, holding a decode slot while the step is computed.
func (ss *session) startInspect(req InspectRequest) {
	ss.mu.Lock()
	id, p := ss.kept.id, ss.kept.p
	ss.mu.Unlock()
	if p == nil || req.Of == "" || req.Of != id {
		ss.reply(MsgError, ErrorPayload{ID: req.ID, Code: ENotFound,
			Message: fmt.Sprintf("request %q is not the last one on this connection: run it again, then open its steps", clip(req.Of, 40))})
		return
	}
	ss.decodes.Add(1)
	go func() {
		defer ss.decodes.Done()
		if !ss.slot(ss.ctx, req.ID, nil) {
			return
		}
		defer ss.s.decodes.release()
		g, e := ss.s.inspect(p, req)
		if e != nil {
			ss.post(MsgError, ErrorPayload{ID: req.ID, Code: e.Code, Message: e.Message})
			return
		}
		ss.post(MsgGlass, GlassPayload{ID: req.ID, Glass: g})
	}()
}

// post queues a message from a decode for the writer. A client whose
// queue is full is not reading: it is closed (with a close frame saying
// so) rather than allowed to hold a decode slot.
func (ss *session) post(typ string, payload any) bool {
	b, ok := ss.encode(typ, payload)
	return ok && ss.postRaw(typ, b)
}

// emit posts a decode's message and, when this session runs a class,
// sends it to the class: the class's copy of the one decode.
func (ss *session) emit(typ string, payload any) bool {
	b, ok := ss.encode(typ, payload)
	if !ok || !ss.postRaw(typ, b) {
		return false
	}
	ss.publish(typ, b)
	return true
}

// encode is a message's payload as JSON; a payload that cannot be encoded
// (a fault here) is logged and not sent.
func (ss *session) encode(typ string, payload any) ([]byte, bool) {
	b, err := json.Marshal(payload)
	if err != nil {
		ss.s.log.Error("websocket: encoding message", "type", typ, "err", err)
		return nil, false
	}
	return b, true
}

// postRaw is post with the payload's JSON.
func (ss *session) postRaw(typ string, payload []byte) bool {
	b := envelope(typ, payload)
	select {
	case <-ss.ctx.Done():
		return false
	default:
	}
	select {
	case ss.send <- b:
		return true
	default:
		ss.s.log.Warn("websocket: closing a session that is not reading")
		ss.closeWith(websocket.ClosePolicyViolation, "the client is not reading its messages")
		return false
	}
}

// envelope wraps a payload's JSON as a message of type typ.
func envelope(typ string, payload []byte) []byte {
	b := make([]byte, 0, len(payload)+len(typ)+32)
	b = append(b, `{"type":`...)
	b = strconv.AppendQuote(b, typ)
	b = append(b, `,"v":`...)
	b = strconv.AppendInt(b, ProtocolVersion, 10)
	b = append(b, `,"payload":`...)
	b = append(b, payload...)
	return append(b, '}')
}

// reply queues the answer to a client's message. The reader waits for
// room, so a burst of messages is answered at the writer's pace; a
// client that reads nothing for writeWait is closed.
func (ss *session) reply(typ string, payload any) {
	p, ok := ss.encode(typ, payload)
	if !ok {
		return
	}
	b := envelope(typ, p)
	t := time.NewTimer(writeWait)
	defer t.Stop()
	select {
	case ss.send <- b:
	case <-ss.ctx.Done():
	case <-t.C:
		ss.closeWith(websocket.ClosePolicyViolation, "the client is not reading its messages")
	}
}

// writePump is the connection's one writer. When the session ends it
// sends the close frame and gives the client closeGrace to answer.
func (ss *session) writePump() {
	ticker := time.NewTicker(pingPeriod)
	defer ticker.Stop()
	for {
		select {
		case msg := <-ss.send:
			ss.conn.SetWriteDeadline(time.Now().Add(writeWait))
			if err := ss.conn.WriteMessage(websocket.TextMessage, msg); err != nil {
				ss.broken()
				return
			}
		case <-ticker.C:
			ss.conn.SetWriteDeadline(time.Now().Add(writeWait))
			if err := ss.conn.WriteMessage(websocket.PingMessage, nil); err != nil {
				ss.broken()
				return
			}
		case <-ss.ctx.Done():
			// What is queued goes first (the answers that explain the
			// close), within one writeWait.
			ss.conn.SetWriteDeadline(time.Now().Add(writeWait))
		flush:
			for {
				select {
				case msg := <-ss.send:
					if ss.conn.WriteMessage(websocket.TextMessage, msg) != nil {
						break flush
					}
				default:
					break flush
				}
			}
			ss.mu.Lock()
			if ss.closeMsg == nil {
				ss.closeMsg = websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
			}
			msg := ss.closeMsg
			ss.mu.Unlock()
			ss.conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(writeWait))
			ss.conn.SetReadDeadline(time.Now().Add(closeGrace))
			return
		}
	}
}

// broken ends a session whose connection cannot be written to.
func (ss *session) broken() {
	ss.cancel()
	ss.conn.Close() // unblocks the reader
}
