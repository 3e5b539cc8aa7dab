package web

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/gorilla/websocket"
	"github.com/labstack/echo/v4"
	"github.com/skip2/go-qrcode"

	"attention/templates"
	"attention/web/classroom"
)

// Classroom messages: a teacher opens (or resumes) a class, sends where
// it is looking (view) and closes it; a follower joins and leaves. The
// server answers with the class (opened), the state a follower starts
// from (state), the events after it (event), the teacher's follower
// count (followers) and the end of a class (closed).
const (
	MsgClassOpen      = "class_open"
	MsgClassResume    = "class_resume"
	MsgClassView      = "class_view"
	MsgClassClose     = "class_close"
	MsgClassJoin      = "class_join"
	MsgClassLeave     = "class_leave"
	MsgClassOpened    = "class_opened"
	MsgClassState     = "class_state"
	MsgClassEvent     = "class_event"
	MsgClassFollowers = "class_followers"
	MsgClassClosed    = "class_closed"
)

// maxView is the largest view a teacher sends (the step, the hover, the
// view mode: a few dozen bytes in practice).
const maxView = 1024

// viewRate and viewBurst bound a teacher's view messages, which follow the
// pointer: past them a view is dropped (the next one brings the class up
// to date) rather than refused.
const viewRate, viewBurst = 30, 60

// Join attempts that name no class, per client address: a code cannot be
// guessed faster than joinFailRate a second, while a classroom behind one
// address joins (and rejoins) freely.
const joinFailRate, joinFailBurst = 0.2, 20

// ClassRequest is the payload of every classroom message a client sends;
// each type uses some of the fields.
type ClassRequest struct {
	Code   string          `json:"code,omitempty"`
	Secret string          `json:"secret,omitempty"`
	Page   string          `json:"page,omitempty"` // translate or caption
	Lang   string          `json:"lang,omitempty"`
	View   json.RawMessage `json:"view,omitempty"`
}

// Classroom payloads sent by the server.
type (
	ClassOpenedPayload struct {
		Code string `json:"code"`
		// Secret resumes the class from another connection; only on open.
		Secret  string `json:"secret,omitempty"`
		JoinURL string `json:"join_url"`
		// Loopback: the join URL names this machine only (the teacher
		// opened the page at localhost), so students cannot open it.
		Loopback  bool   `json:"loopback,omitempty"`
		QR        string `json:"qr"` // the join URL as a QR code, PNG data: URL
		IdleS     int    `json:"idle_s"`
		Followers int    `json:"followers"`
	}
	ClassFollowersPayload struct {
		Code string `json:"code"`
		N    int    `json:"n"`
	}
	ClassClosedPayload struct {
		Code   string `json:"code"`
		Reason string `json:"reason"` // "closed": the teacher ended it; "expired": idle too long
	}
)

// classErr is the client's error for a classroom failure.
func classErr(err error) *Error {
	switch {
	case errors.Is(err, classroom.ErrBadCode):
		return Errorf(EInvalid, "%s", err.Error())
	case errors.Is(err, classroom.ErrNoClass):
		return Errorf(ENotFound, "%s", err.Error())
	}
	return Errorf(EUnavailable, "the classroom service is not answering; try again in a moment")
}

func validPage(p string) bool { return p == "translate" || p == "caption" }

func validLang(l string) bool {
	for _, x := range templates.Langs {
		if string(x.Lang) == l {
			return true
		}
	}
	return false
}

// joinURL is where a student joins class code: at the server's public
// address if it has one, else as the teacher's browser reached it.
func (ss *session) joinURL(code string) string {
	base := ss.origin
	if ss.s.publicURL != "" {
		base = ss.s.publicURL
	}
	return base + "/join?code=" + url.QueryEscape(code)
}

// loopbackOnly reports whether a join URL names this machine only
// (localhost, 127.0.0.1, ::1): no student's phone can open it.
func loopbackOnly(joinURL string) bool {
	u, err := url.Parse(joinURL)
	if err != nil {
		return false
	}
	h := u.Hostname()
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

func qrDataURL(s string) string {
	png, err := qrcode.Encode(s, qrcode.Medium, 320)
	if err != nil {
		return ""
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(png)
}

// handleClass answers one classroom message.
func (ss *session) handleClass(typ string, req ClassRequest, id string) {
	fail := func(e *Error) { ss.reply(MsgError, ErrorPayload{ID: id, Code: e.Code, Message: e.Message}) }
	hub := ss.s.classes
	if hub == nil {
		fail(Errorf(EUnavailable, "classes are off on this server"))
		return
	}
	ctx, cancel := context.WithTimeout(ss.ctx, 5*time.Second)
	defer cancel()
	switch typ {
	case MsgClassOpen, MsgClassResume:
		if !validPage(req.Page) || !validLang(req.Lang) {
			fail(Errorf(EInvalid, "a class needs its page (translate or caption) and a language the pages have"))
			return
		}
		ss.endClass("")
		followers := func(n int) {
			if t := ss.teacher(); t != nil {
				ss.post(MsgClassFollowers, ClassFollowersPayload{Code: t.Code(), N: n})
			}
		}
		var t *classroom.Teacher
		var secret string
		var err error
		now := time.Now()
		if typ == MsgClassOpen {
			t, secret, err = hub.Open(ctx, req.Page, req.Lang, followers)
		} else {
			// A code and key that do not match count as a join code that
			// did not work, and a wrong key is answered as a code that
			// names no class: resuming is no way to find codes in use.
			if !ss.s.joinFails.peek(ss.addr, now) {
				fail(Errorf(ERateLimited, "too many class codes that did not work; wait a minute and check the code"))
				return
			}
			t, err = hub.Resume(ctx, req.Code, req.Secret, req.Page, req.Lang, followers)
			if errors.Is(err, classroom.ErrNotYours) || errors.Is(err, classroom.ErrNoClass) {
				ss.s.joinFails.allow(ss.addr, now)
				fail(Errorf(ENotFound, "there is no class with that code and key: it may have ended or expired"))
				return
			}
		}
		if err != nil {
			e := classErr(err)
			if e.Code == EUnavailable {
				ss.s.log.Error("classroom: opening a class", "err", err)
			}
			fail(e)
			return
		}
		ss.mu.Lock()
		ss.class.teacher = t
		ss.mu.Unlock()
		u := ss.joinURL(t.Code())
		ss.reply(MsgClassOpened, ClassOpenedPayload{Code: t.Code(), Secret: secret, JoinURL: u, Loopback: loopbackOnly(u), QR: qrDataURL(u),
			IdleS: int(hub.Idle().Seconds()), Followers: t.Followers()})
	case MsgClassView:
		t := ss.teacher()
		if t == nil {
			fail(Errorf(EInvalid, "open a class before sending where you are looking"))
			return
		}
		if len(req.View) == 0 || len(req.View) > maxView {
			fail(Errorf(EInvalid, "a view is a JSON object of at most %d bytes", maxView))
			return
		}
		if !ss.viewLimit.take(viewRate, viewBurst, time.Now()) {
			return
		}
		ss.published(t, classroom.KindView, t.Publish(classroom.KindView, req.View))
	case MsgClassClose:
		t := ss.teacher()
		if t == nil {
			fail(Errorf(EInvalid, "there is no class open on this connection"))
			return
		}
		ss.endClass("closed")
		ss.reply(MsgClassClosed, ClassClosedPayload{Code: t.Code(), Reason: "closed"})
	case MsgClassJoin:
		now := time.Now()
		if !ss.s.joinFails.peek(ss.addr, now) {
			fail(Errorf(ERateLimited, "too many class codes that did not work; wait a minute and check the code"))
			return
		}
		ss.endClass("")
		f, st, err := hub.Join(ctx, req.Code, ss.classEvent)
		if err != nil {
			e := classErr(err)
			if e.Code == EUnavailable {
				ss.s.log.Error("classroom: joining a class", "err", err)
			} else {
				ss.s.joinFails.allow(ss.addr, now) // a code that named no class
			}
			fail(e)
			return
		}
		ss.mu.Lock()
		ss.class.follower = f
		ss.mu.Unlock()
		// A follower's backlog is bounded in the kernel too (64 KiB
		// rather than megabytes), so one that stops reading is found
		// out within a few sentences.
		if wb, ok := ss.conn.UnderlyingConn().(writeBufferSetter); ok {
			wb.SetWriteBuffer(followerSocketBuffer)
		}
		ss.reply(MsgClassState, st)
		f.Start()
	case MsgClassLeave:
		ss.endClass("")
	}
}

// followerLag is how many messages a follower's queue may hold before it
// counts as not keeping up: it is dropped from the class (its page
// reconnects and joins again at the current step), so it holds no one up.
const followerLag = 64

// followerSocketBuffer is a follower's kernel send buffer.
const followerSocketBuffer = 64 << 10

// classEvent sends a class's event to a follower; false when the
// follower is not keeping up (its session is then closed).
func (ss *session) classEvent(ev []byte) bool {
	if len(ss.send) > followerLag {
		ss.s.log.Warn("classroom: dropping a follower that is not keeping up")
		ss.closeWith(websocket.ClosePolicyViolation, "fell behind the class; join again to catch up")
		return false
	}
	return ss.postRaw(MsgClassEvent, ev)
}

func (ss *session) teacher() *classroom.Teacher {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.class.teacher
}

// endClass stops this session's part in a class: a teacher's class is
// closed for everyone when reason is "closed", and otherwise goes on
// without this connection; a follower stops following.
func (ss *session) endClass(reason string) {
	ss.mu.Lock()
	t, f := ss.class.teacher, ss.class.follower
	ss.class.teacher, ss.class.follower = nil, nil
	ss.mu.Unlock()
	if t != nil {
		if reason == "closed" {
			if err := t.Close(); err != nil {
				ss.s.log.Warn("classroom: closing a class", "class", t.Code(), "err", err)
			}
		} else {
			t.Leave()
		}
	}
	if f != nil {
		f.Leave()
	}
}

// publish sends a teacher's decode message to the class, if this session
// runs one.
func (ss *session) publish(typ string, payload []byte) {
	t := ss.teacher()
	if t == nil {
		return
	}
	ss.published(t, typ, t.Publish(typ, payload))
}

// published handles the outcome of a teacher's event: a class that has
// expired ends on this connection, and the teacher is told why.
func (ss *session) published(t *classroom.Teacher, kind string, err error) {
	switch {
	case errors.Is(err, classroom.ErrNoClass):
		ss.endClass("")
		ss.post(MsgClassClosed, ClassClosedPayload{Code: t.Code(), Reason: "expired"})
	case err != nil:
		ss.s.log.Warn("classroom: publishing", "class", t.Code(), "kind", kind, "err", err)
	}
}

// joinPage is where a student types a class code; with ?code= it sends
// them to the teacher's page, following the class.
func (s *Server) joinPage(c echo.Context) error {
	lang := pageLang(c)
	code := c.QueryParam("code")
	props := templates.JoinProps{Code: code, Enabled: s.classes != nil}
	if code == "" || s.classes == nil {
		return s.renderStatus(c, http.StatusOK, lang, templates.JoinPage(props))
	}
	now := time.Now()
	addr := c.Request().RemoteAddr
	status := http.StatusOK
	if !s.joinFails.peek(addr, now) {
		status, props.Error = http.StatusTooManyRequests, "join.tooMany"
	} else {
		ctx, cancel := context.WithTimeout(c.Request().Context(), 5*time.Second)
		st, err := s.classes.Lookup(ctx, code)
		cancel()
		switch {
		case err == nil:
			q := url.Values{"class": {st.Code}, "lang": {st.Lang}}
			return c.Redirect(http.StatusSeeOther, templates.PagePath(st.Page)+"?"+q.Encode())
		case errors.Is(err, classroom.ErrBadCode):
			s.joinFails.allow(addr, now)
			status, props.Error = http.StatusBadRequest, "join.badCode"
		case errors.Is(err, classroom.ErrNoClass):
			s.joinFails.allow(addr, now)
			status, props.Error = http.StatusNotFound, "join.noClass"
		default:
			s.log.Error("classroom: looking up a class", "err", err)
			status, props.Error = http.StatusServiceUnavailable, "join.unavailable"
		}
	}
	return s.renderStatus(c, status, lang, templates.JoinPage(props))
}
