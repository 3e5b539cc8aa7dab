package classroom

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

// Teacher runs a class from one websocket session: what it publishes is
// kept as the class's state and sent to every follower, on any replica.
type Teacher struct {
	h   *Hub
	mu  sync.Mutex
	r   record
	rev uint64 // the bucket's revision of r, as this teacher last wrote or read it

	presence  *nats.Subscription
	seen      map[string]time.Time // follower id -> last heard
	counted   int
	followers func(n int) // told when the count changes
	stop      chan struct{}
	done      sync.WaitGroup
}

// Open starts a class on page (translate or caption) in lang. It returns
// the teacher and the secret that resumes the class from another
// connection (a reload, a reconnect, another replica). followers is told
// how many follow, whenever that changes.
func (h *Hub) Open(ctx context.Context, page, lang string, followers func(n int)) (*Teacher, string, error) {
	var key [16]byte
	rand.Read(key[:])
	secret := hex.EncodeToString(key[:])
	for range 8 {
		r := record{State: State{Code: newCode(), Page: page, Lang: lang, Steps: []json.RawMessage{}, Opened: time.Now().UTC()}, Secret: hash(secret)}
		b, err := json.Marshal(r)
		if err != nil {
			return nil, "", err
		}
		rev, err := h.kv.Create(ctx, r.Code, b)
		if err != nil {
			continue // taken (or the store failed: tried again, then reported)
		}
		return h.teach(r, rev, followers), secret, nil
	}
	return nil, "", fmt.Errorf("classroom: no free class code could be stored")
}

// Resume takes over a class with its secret, from page in lang: the
// followers are told if either changed.
func (h *Hub) Resume(ctx context.Context, code, secret, page, lang string, followers func(n int)) (*Teacher, error) {
	code, err := NormalizeCode(code)
	if err != nil {
		return nil, err
	}
	r, rev, err := h.get(ctx, code)
	if err != nil {
		return nil, err
	}
	if !equalHash(r.Secret, hash(secret)) {
		return nil, ErrNotYours
	}
	t := h.teach(*r, rev, followers)
	if r.Page != page || r.Lang != lang {
		t.mu.Lock()
		t.r.Page, t.r.Lang = page, lang
		t.mu.Unlock()
		data, _ := json.Marshal(map[string]string{"page": page, "lang": lang})
		if err := t.Publish(KindPage, data); err != nil {
			t.Leave()
			return nil, err
		}
	}
	return t, nil
}

func (h *Hub) teach(r record, rev uint64, followers func(int)) *Teacher {
	t := &Teacher{h: h, r: r, rev: rev, seen: map[string]time.Time{}, followers: followers, stop: make(chan struct{})}
	sub, err := h.nc.Subscribe(subject(r.Code, "presence"), t.heard)
	if err != nil {
		h.log.Warn("classroom: following presence", "class", r.Code, "err", err)
	}
	t.presence = sub
	t.done.Add(1)
	go t.sweep()
	return t
}

// Code is the class's join code.
func (t *Teacher) Code() string { return t.r.Code }

type presence struct {
	ID   string `json:"id"`
	Here bool   `json:"here"`
}

func (t *Teacher) heard(m *nats.Msg) {
	var p presence
	if json.Unmarshal(m.Data, &p) != nil || p.ID == "" {
		return
	}
	t.mu.Lock()
	if p.Here {
		t.seen[p.ID] = time.Now()
	} else {
		delete(t.seen, p.ID)
	}
	t.mu.Unlock()
	t.count()
}

// sweep forgets followers not heard from, and keeps the count current.
func (t *Teacher) sweep() {
	defer t.done.Done()
	tick := time.NewTicker(heartbeat / 2)
	defer tick.Stop()
	for {
		select {
		case <-t.stop:
			return
		case now := <-tick.C:
			t.mu.Lock()
			for id, at := range t.seen {
				if now.Sub(at) > 2*heartbeat+heartbeat/2 {
					delete(t.seen, id)
				}
			}
			t.mu.Unlock()
			t.count()
		}
	}
}

func (t *Teacher) count() {
	t.mu.Lock()
	n := len(t.seen)
	changed := n != t.counted
	t.counted = n
	t.mu.Unlock()
	if changed && t.followers != nil {
		t.followers(n)
	}
}

// Followers is how many follow now.
func (t *Teacher) Followers() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.seen)
}

// Publish records an event in the class's state and sends it to the
// followers. data is the event's JSON. A class that has expired (idle
// longer than the hub allows) is not brought back: Publish then sends
// nothing and returns ErrNoClass.
func (t *Teacher) Publish(kind string, data json.RawMessage) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := &t.r
	switch kind {
	case KindSource:
		r.Source, r.Steps, r.Trees, r.Done = data, []json.RawMessage{}, nil, nil
	case KindTree:
		r.Trees = append(r.Trees, data)
	case KindStep:
		r.Steps = append(r.Steps, data)
	case KindDone, KindError:
		r.Done = data
	case KindView:
		r.View = data
	}
	r.Seq++
	ev, err := json.Marshal(Event{Seq: r.Seq, Kind: kind, Data: data})
	if err != nil {
		return err
	}
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	// The state first: a follower joining now reads it and skips the
	// event, one that joined before gets the event. A state that cannot be
	// kept (too large for this NATS) costs late joiners this input, not
	// the followers already there their event.
	ctx, cancel := context.WithTimeout(context.Background(), natsWait)
	defer cancel()
	var stored error
	if len(b) > MaxState {
		stored = fmt.Errorf("classroom: class %s: state of %d bytes is over %d; late joiners miss this input", r.Code, len(b), MaxState)
	} else if err := t.store(ctx, b); errors.Is(err, ErrNoClass) {
		return err
	} else if err != nil {
		stored = fmt.Errorf("classroom: storing class %s: %w", r.Code, err)
	}
	if err := t.h.nc.Publish(subject(r.Code, "events"), ev); err != nil {
		return err
	}
	return stored
}

// store writes the class's state over the revision this teacher knows, so
// that a class the bucket has let expire stays gone (a plain put would
// open it again under the same code). When another connection of the
// same teacher wrote in between (a reload that resumed the class), the
// newest state is this one's.
func (t *Teacher) store(ctx context.Context, b []byte) error {
	rev, err := t.h.kv.Update(ctx, t.r.Code, b, t.rev)
	if err != nil {
		_, cur, gerr := t.h.get(ctx, t.r.Code)
		if gerr != nil {
			return gerr // ErrNoClass once the class has expired
		}
		if rev, err = t.h.kv.Update(ctx, t.r.Code, b, cur); err != nil {
			return err
		}
	}
	t.rev = rev
	return nil
}

// Leave stops teaching from this session; the class goes on (the teacher
// may come back with the secret) until it is closed or idle too long.
func (t *Teacher) Leave() {
	select {
	case <-t.stop:
		return
	default:
	}
	close(t.stop)
	if t.presence != nil {
		t.presence.Unsubscribe()
	}
	t.done.Wait()
}

// Close ends the class: the followers are told, the code stops working.
func (t *Teacher) Close() error {
	defer t.Leave()
	if err := t.Publish(KindClosed, json.RawMessage(`{"reason":"closed"}`)); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), natsWait)
	defer cancel()
	return t.h.kv.Purge(ctx, t.r.Code)
}

// Follower is one websocket session following a class.
type Follower struct {
	h    *Hub
	code string
	id   string
	sub  *nats.Subscription
	stop chan struct{}
	done sync.WaitGroup

	mu      sync.Mutex
	ready   bool
	seq     uint64
	pending [][]byte
	deliver func(ev []byte) bool
	ended   bool
}

// Join follows class code: the state comes back now, and deliver gets each
// later event (JSON of an Event), in order. A deliver that returns false
// (its client is not keeping up) ends the following.
func (h *Hub) Join(ctx context.Context, code string, deliver func(ev []byte) bool) (*Follower, State, error) {
	code, err := NormalizeCode(code)
	if err != nil {
		return nil, State{}, err
	}
	var key [8]byte
	rand.Read(key[:])
	f := &Follower{h: h, code: code, id: hex.EncodeToString(key[:]), deliver: deliver, stop: make(chan struct{})}
	// Subscribed before the state is read, so nothing falls between.
	if f.sub, err = h.nc.Subscribe(subject(code, "events"), f.event); err != nil {
		return nil, State{}, fmt.Errorf("classroom: following class %s: %w", code, err)
	}
	r, _, err := h.get(ctx, code)
	if err != nil {
		f.sub.Unsubscribe()
		return nil, State{}, err
	}
	f.seq = r.Seq
	f.say(true)
	f.done.Add(1)
	go f.beat()
	return f, r.State, nil
}

// Start delivers the events since the state Join returned: call it once
// the state is on its way to the client.
func (f *Follower) Start() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ready = true
	for _, ev := range f.pending {
		f.deliverLocked(ev)
	}
	f.pending = nil
}

func (f *Follower) event(m *nats.Msg) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ended {
		return
	}
	if !f.ready {
		f.pending = append(f.pending, m.Data)
		return
	}
	f.deliverLocked(m.Data)
}

func (f *Follower) deliverLocked(ev []byte) {
	var head struct {
		Seq uint64 `json:"seq"`
	}
	if json.Unmarshal(ev, &head) != nil || head.Seq <= f.seq {
		return // in the state already
	}
	f.seq = head.Seq
	if !f.deliver(ev) {
		go f.Leave()
	}
}

func (f *Follower) say(here bool) {
	b, _ := json.Marshal(presence{ID: f.id, Here: here})
	f.h.nc.Publish(subject(f.code, "presence"), b)
}

// beat says the follower is still there, and ends the following when the
// class has expired (its teacher gone for the idle limit).
func (f *Follower) beat() {
	defer f.done.Done()
	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-f.stop:
			return
		case <-tick.C:
			f.say(true)
			ctx, cancel := context.WithTimeout(context.Background(), natsWait)
			_, _, err := f.h.get(ctx, f.code)
			cancel()
			if err == ErrNoClass {
				f.mu.Lock()
				ev, _ := json.Marshal(Event{Seq: f.seq + 1, Kind: KindClosed, Data: json.RawMessage(`{"reason":"expired"}`)})
				f.deliverLocked(ev)
				f.mu.Unlock()
				go f.Leave()
				return
			}
		}
	}
}

// Code is the class followed.
func (f *Follower) Code() string { return f.code }

// Leave stops following.
func (f *Follower) Leave() {
	f.mu.Lock()
	if f.ended {
		f.mu.Unlock()
		return
	}
	f.ended = true
	f.mu.Unlock()
	close(f.stop)
	f.sub.Unsubscribe()
	f.say(false)
	f.done.Wait()
}

func equalHash(a, b string) bool {
	return len(a) == len(b) && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
