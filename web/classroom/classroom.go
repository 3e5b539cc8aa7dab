// Package classroom shares a teacher's decoding with a class. A class is a
// short join code; its state (the page, the current input, its steps so
// far, the teacher's view) lives in a NATS key-value bucket and its events
// go out on one NATS subject per class, so every server replica on the
// same NATS serves the same classes and a follower's replica need not be
// the teacher's. A server on its own runs NATS in process, opening no port.
package classroom

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Alphabet is what join codes are made of: capital letters and digits
// without the look-alikes I, L, O, 0 and 1, so a code read aloud or off a
// projector is typed right. 31^6 codes, and joins are rate-limited.
const (
	Alphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
	CodeLen  = 6
)

const (
	bucket = "attn_classes"
	// SubjectPrefix starts every class subject: SubjectPrefix+CODE+".events"
	// carries the teacher's events, SubjectPrefix+CODE+".presence" the
	// followers' heartbeats.
	SubjectPrefix = "attn.v1.class."
	// MaxState is the largest class state kept (the current input with all
	// its steps): NATS's own message limit must allow it.
	MaxState = 8 << 20
	// heartbeat is how often a follower says it is still there; one not
	// heard from for twice as long is no longer counted.
	heartbeat = 10 * time.Second
	natsWait  = 5 * time.Second
)

// Errors a client is told about.
var (
	ErrBadCode  = errors.New("a class code is 6 letters and digits (no I, L, O, 0 or 1), like K7P3QX")
	ErrNoClass  = errors.New("there is no class with that code: it may have ended or expired")
	ErrNotYours = errors.New("that class is not yours: the teacher's key does not match")
)

// Config sets up a Hub.
type Config struct {
	// URL is an external NATS to join (several replicas share its
	// classes); "" runs NATS in process.
	URL string
	// Listen, with URL "", is where the in-process NATS accepts other
	// clients (host:port; port 0 picks one); "" opens no port.
	Listen string
	// Idle ends a class after this long without anything from its teacher.
	Idle time.Duration
}

// Hub is one replica's connection to the classes.
type Hub struct {
	nc   *nats.Conn
	ns   *server.Server // the in-process NATS, if any
	dir  string         // its JetStream directory (memory storage only)
	kv   jetstream.KeyValue
	idle time.Duration
	log  *slog.Logger
}

// Start connects to NATS (or starts it in process) and opens the class
// bucket.
func Start(cfg Config, log *slog.Logger) (*Hub, error) {
	if cfg.Idle <= 0 {
		cfg.Idle = 2 * time.Hour
	}
	h := &Hub{idle: cfg.Idle, log: log}
	var err error
	if cfg.URL == "" {
		if err := h.serve(cfg.Listen); err != nil {
			return nil, err
		}
		opt := nats.InProcessServer(h.ns)
		h.nc, err = nats.Connect("", opt, nats.Name("attention"))
	} else {
		h.nc, err = nats.Connect(cfg.URL, nats.Name("attention"), nats.MaxReconnects(-1), nats.Timeout(natsWait))
	}
	if err != nil {
		h.Close()
		return nil, fmt.Errorf("classroom: connecting to NATS: %w", err)
	}
	js, err := jetstream.New(h.nc)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), natsWait)
		h.kv, err = js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket: bucket, Description: "attention classes: state by join code",
			History: 1, TTL: cfg.Idle, Storage: jetstream.MemoryStorage, MaxValueSize: MaxState,
		})
		cancel()
	}
	if err != nil {
		h.Close()
		return nil, fmt.Errorf("classroom: opening the class store (NATS with JetStream is needed): %w", err)
	}
	return h, nil
}

// serve starts NATS in process, with JetStream kept in memory.
func (h *Hub) serve(listen string) error {
	dir, err := os.MkdirTemp("", "attention-nats-")
	if err != nil {
		return err
	}
	h.dir = dir
	opts := &server.Options{ServerName: "attention", JetStream: true, StoreDir: dir, MaxPayload: MaxState + 4096,
		NoSigs: true, NoLog: true, DontListen: listen == ""}
	if listen != "" {
		host, port, err := net.SplitHostPort(listen)
		if err != nil {
			return fmt.Errorf("classroom: -nats-listen %q: %w", listen, err)
		}
		opts.Host = host
		if opts.Port, err = strconv.Atoi(port); err != nil {
			return fmt.Errorf("classroom: -nats-listen %q: bad port", listen)
		}
		if opts.Port == 0 {
			opts.Port = server.RANDOM_PORT
		}
	}
	if h.ns, err = server.NewServer(opts); err != nil {
		return fmt.Errorf("classroom: starting NATS: %w", err)
	}
	h.ns.Start()
	if !h.ns.ReadyForConnections(natsWait) {
		return errors.New("classroom: NATS did not start")
	}
	return nil
}

// URL is where other clients reach the in-process NATS ("" when it opened
// no port, or for an external NATS).
func (h *Hub) URL() string {
	if h.ns == nil || h.ns.Addr() == nil {
		return ""
	}
	return h.ns.ClientURL()
}

// Close drains the connection and stops the in-process NATS.
func (h *Hub) Close() {
	if h.nc != nil {
		h.nc.Close()
	}
	if h.ns != nil {
		h.ns.Shutdown()
		h.ns.WaitForShutdown()
	}
	if h.dir != "" {
		os.RemoveAll(h.dir)
	}
}

// Idle is how long a class lasts without its teacher.
func (h *Hub) Idle() time.Duration { return h.idle }

// NormalizeCode makes what a person typed a code: capitals, spaces and
// dashes dropped.
func NormalizeCode(s string) (string, error) {
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		switch {
		case r == ' ' || r == '-':
		case strings.ContainsRune(Alphabet, r):
			b.WriteRune(r)
		default:
			return "", ErrBadCode
		}
		if b.Len() > CodeLen {
			return "", ErrBadCode
		}
	}
	if b.Len() != CodeLen {
		return "", ErrBadCode
	}
	return b.String(), nil
}

func newCode() string {
	var raw [CodeLen]byte
	rand.Read(raw[:])
	b := make([]byte, CodeLen)
	for i, r := range raw {
		// 256 % 31 = 8: the first 8 letters are a little likelier, which
		// costs under 0.2 bits of the code's 29.7.
		b[i] = Alphabet[int(r)%len(Alphabet)]
	}
	return string(b)
}

func hash(secret string) string {
	s := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(s[:])
}

// State is a class as a joining follower gets it.
type State struct {
	Code   string            `json:"code"`
	Page   string            `json:"page"` // "translate" or "caption": the teacher's page
	Lang   string            `json:"lang"` // the teacher's page language
	Seq    uint64            `json:"seq"`  // the last event it includes
	Source json.RawMessage   `json:"source,omitempty"`
	Steps  []json.RawMessage `json:"steps"`
	Trees  []json.RawMessage `json:"trees,omitempty"` // the beam search's tree, level by level
	Done   json.RawMessage   `json:"done,omitempty"`
	View   json.RawMessage   `json:"view,omitempty"`
	Opened time.Time         `json:"opened"`
}

// record is what the bucket keeps: the state and the teacher's key's hash.
type record struct {
	State
	Secret string `json:"secret"`
}

// Event is one thing that happened in a class, in order (Seq).
type Event struct {
	Seq  uint64          `json:"seq"`
	Kind string          `json:"kind"`
	Data json.RawMessage `json:"data,omitempty"`
}

// The kinds of event.
const (
	KindSource = "source" // a new input: the steps start again
	KindStep   = "step"
	KindTree   = "tree"
	KindDone   = "done"
	KindError  = "error"
	KindView   = "view"   // where the teacher is looking: step, hover, view mode
	KindPage   = "page"   // the teacher changed page or language
	KindClosed = "closed" // the class has ended
)

// get reads a class's record and its revision in the bucket.
func (h *Hub) get(ctx context.Context, code string) (*record, uint64, error) {
	e, err := h.kv.Get(ctx, code)
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
		return nil, 0, ErrNoClass
	}
	if err != nil {
		return nil, 0, fmt.Errorf("classroom: reading class %s: %w", code, err)
	}
	var r record
	if err := json.Unmarshal(e.Value(), &r); err != nil {
		return nil, 0, fmt.Errorf("classroom: class %s: %w", code, err)
	}
	return &r, e.Revision(), nil
}

// Lookup says which page a class is on, for a join link.
func (h *Hub) Lookup(ctx context.Context, code string) (State, error) {
	code, err := NormalizeCode(code)
	if err != nil {
		return State{}, err
	}
	r, _, err := h.get(ctx, code)
	if err != nil {
		return State{}, err
	}
	return r.State, nil
}

func subject(code, what string) string { return SubjectPrefix + code + "." + what }
