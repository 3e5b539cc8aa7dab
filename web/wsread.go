package web

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"unicode/utf8"
)

// A websocket message is read as it arrives, never held whole: the
// envelope's type and version are read first, so the rate limit and the
// size class of the type apply before the payload is touched, and a
// caption's photo is streamed from the JSON string through base64 into a
// buffer bounded by the image limit (and the server's photo memory).

// syntaxError is malformed JSON in a message: what the client is told.
type syntaxError struct{ msg string }

func (e *syntaxError) Error() string { return e.msg }

// connError is a failure of the connection itself (read limit, deadline,
// a dropped socket): the session ends.
type connError struct{ err error }

func (e *connError) Error() string { return e.err.Error() }
func (e *connError) Unwrap() error { return e.err }

// scanner reads one message's JSON a token at a time.
type scanner struct {
	br  *bufio.Reader
	off int64 // bytes consumed, for error positions
}

func (sc *scanner) reset(r io.Reader) {
	if sc.br == nil {
		sc.br = bufio.NewReaderSize(r, 4096)
	} else {
		sc.br.Reset(r)
	}
	sc.off = 0
}

func (sc *scanner) fail(format string, args ...any) error {
	return &syntaxError{msg: fmt.Sprintf(format, args...)}
}

// readErr turns the end of the message into a syntax error (the JSON ends
// too early) and anything else into a connection error.
func (sc *scanner) readErr(err error) error {
	if err == io.EOF {
		return sc.fail("malformed JSON: the JSON ends too early")
	}
	return &connError{err}
}

func (sc *scanner) byte() (byte, error) {
	b, err := sc.br.ReadByte()
	if err != nil {
		return 0, sc.readErr(err)
	}
	sc.off++
	return b, nil
}

// next is the next byte that is not white space.
func (sc *scanner) next() (byte, error) {
	for {
		b, err := sc.byte()
		if err != nil || !isSpace(b) {
			return b, err
		}
	}
}

func (sc *scanner) peek() (byte, error) {
	for {
		p, err := sc.br.Peek(1)
		if err != nil {
			return 0, sc.readErr(err)
		}
		if !isSpace(p[0]) {
			return p[0], nil
		}
		sc.br.ReadByte()
		sc.off++
	}
}

func isSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\r' }

func (sc *scanner) expect(want byte) error {
	b, err := sc.next()
	if err != nil {
		return err
	}
	if b != want {
		return sc.fail("malformed JSON: syntax error at byte %d", sc.off)
	}
	return nil
}

// errValueTooLarge: a value is longer than its field allows.
var errValueTooLarge = errors.New("value too large")

// raw reads one JSON value as its bytes, at most max of them. Only the
// value's outline is followed here; json.Valid and the caller check it.
func (sc *scanner) raw(max int) ([]byte, error) {
	var out []byte
	b, err := sc.next()
	if err != nil {
		return nil, err
	}
	literal := b != '"' && b != '{' && b != '['
	depth, inString, escaped := 0, false, false
	for {
		if len(out) >= max {
			return nil, errValueTooLarge
		}
		out = append(out, b)
		done := false
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case b == '\\':
				escaped = true
			case b == '"':
				inString, done = false, depth == 0
			}
		case b == '"':
			inString = true
		case b == '{' || b == '[':
			depth++
		case b == '}' || b == ']':
			depth--
			done = depth <= 0
		}
		if literal {
			// A number or literal ends before a delimiter.
			p, perr := sc.br.Peek(1)
			done = perr != nil || isSpace(p[0]) || p[0] == ',' || p[0] == '}' || p[0] == ']'
		}
		if done {
			break
		}
		if b, err = sc.byte(); err != nil {
			return nil, err
		}
	}
	if !utf8.Valid(out) {
		return nil, sc.fail("messages must be valid UTF-8 JSON")
	}
	if !json.Valid(out) {
		return nil, sc.fail("malformed JSON: syntax error near byte %d", sc.off)
	}
	return out, nil
}

// key reads an object's next key and its colon; "" at the object's end.
// first says whether this is the object's first key.
func (sc *scanner) key(first bool) (string, error) {
	b, err := sc.next()
	if err != nil {
		return "", err
	}
	if b == '}' && first {
		return "", nil
	}
	if !first {
		if b == '}' {
			return "", nil
		}
		if b != ',' {
			return "", sc.fail("malformed JSON: syntax error at byte %d", sc.off)
		}
		if b, err = sc.next(); err != nil {
			return "", err
		}
	}
	if b != '"' {
		return "", sc.fail("malformed JSON: syntax error at byte %d", sc.off)
	}
	sc.br.UnreadByte()
	sc.off--
	raw, err := sc.raw(128)
	if errors.Is(err, errValueTooLarge) {
		return "", sc.fail("malformed JSON: a key is over 128 bytes")
	}
	if err != nil {
		return "", err
	}
	var k string
	if err := json.Unmarshal(raw, &k); err != nil {
		return "", sc.fail("malformed JSON: syntax error at byte %d", sc.off)
	}
	return k, sc.expect(':')
}

// end checks that nothing but white space follows the message's value.
func (sc *scanner) end() error {
	for {
		b, err := sc.br.ReadByte()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return &connError{err}
		}
		if !isSpace(b) {
			return sc.fail("malformed JSON: data after the message at byte %d", sc.off+1)
		}
	}
}

// stringReader reads a JSON string's content (after its opening quote) up
// to its closing quote. Base64 needs no escapes; "\/" is the only one
// accepted, as some encoders write it.
type stringReader struct {
	sc   *scanner
	done bool
}

func (sr *stringReader) Read(p []byte) (int, error) {
	if sr.done {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) {
		if _, err := sr.sc.br.Peek(1); err != nil { // fills the buffer
			if n > 0 {
				return n, nil
			}
			return 0, sr.sc.readErr(err)
		}
		// Copy a run of plain bytes straight from the buffer.
		buf, _ := sr.sc.br.Peek(sr.sc.br.Buffered())
		run := 0
		for run < len(buf) && n+run < len(p) {
			c := buf[run]
			if c == '"' || c == '\\' || c < 0x20 {
				break
			}
			run++
		}
		copy(p[n:], buf[:run])
		sr.sc.br.Discard(run)
		sr.sc.off += int64(run)
		n += run
		if n == len(p) || run == len(buf) {
			continue
		}
		b, _ := sr.sc.byte()
		switch {
		case b == '"':
			sr.done = true
			if n > 0 {
				return n, nil
			}
			return 0, io.EOF
		case b == '\\':
			e, err := sr.sc.byte()
			if err != nil {
				return n, err
			}
			if e != '/' {
				return n, sr.sc.fail("the image must be base64 (a data: URL ending in ;base64, or plain base64)")
			}
			p[n] = '/'
			n++
		default:
			return n, sr.sc.fail("malformed JSON: a control character in a string at byte %d", sr.sc.off)
		}
	}
	return n, nil
}

// photoBuffer collects a photo in chunks of photoChunk bytes, at most
// limit bytes, each chunk reserved from the server's photo memory. Chunks
// are reused from one photo to the next, so a flood of photos costs at
// most the photo memory, not a fresh buffer (grown by doubling) each.
type photoBuffer struct {
	chunks  [][]byte
	n       int64
	limit   int64
	mem     *budget
	tooBig  bool
	noSpace bool
}

var chunkPool = sync.Pool{New: func() any { b := make([]byte, photoChunk); return &b }}

// errPhotoTooLarge and errPhotoMemory stop a photo being read.
var (
	errPhotoTooLarge = errors.New("photo over the limit")
	errPhotoMemory   = errors.New("photo memory exhausted")
)

func (pb *photoBuffer) Write(p []byte) (int, error) {
	if pb.n+int64(len(p)) > pb.limit {
		pb.tooBig = true
		return 0, errPhotoTooLarge
	}
	written := 0
	for len(p) > 0 {
		if pb.n == int64(len(pb.chunks))*photoChunk { // the last chunk is full
			if !pb.mem.take(photoChunk) {
				pb.noSpace = true
				return written, errPhotoMemory
			}
			pb.chunks = append(pb.chunks, *chunkPool.Get().(*[]byte))
		}
		k := copy(pb.chunks[len(pb.chunks)-1][pb.n%photoChunk:], p)
		p = p[k:]
		pb.n += int64(k)
		written += k
	}
	return written, nil
}

// Len is the photo's size in bytes.
func (pb *photoBuffer) Len() int64 {
	if pb == nil {
		return 0
	}
	return pb.n
}

// Bytes is the photo as one slice, for the decoder.
func (pb *photoBuffer) Bytes() []byte {
	if pb == nil {
		return nil
	}
	out := make([]byte, 0, pb.n)
	for i, c := range pb.chunks {
		out = append(out, c[:min(photoChunk, pb.n-int64(i)*photoChunk)]...)
	}
	return out
}

// release gives the chunks back; the photo may not be used after. It may
// be called more than once.
func (pb *photoBuffer) release() {
	if pb == nil {
		return
	}
	for _, c := range pb.chunks {
		chunkPool.Put(&c)
	}
	pb.mem.give(int64(len(pb.chunks)) * photoChunk)
	pb.chunks, pb.n = nil, 0
}

// readPhoto streams a base64 image (plain or a data: URL) into pb. A
// *Error is the client's fault; any other error is the connection's.
func readPhoto(r io.Reader, pb *photoBuffer) error {
	br := bufio.NewReaderSize(r, 512)
	if head, _ := br.Peek(5); string(head) == "data:" {
		prefix, err := br.ReadSlice(',')
		if err != nil {
			var ce *connError
			if errors.As(err, &ce) {
				return err
			}
			return Errorf(EBadMessage, "the image must be base64 (a data: URL ending in ;base64, or plain base64)")
		}
		if !bytes.HasSuffix(prefix, []byte(";base64,")) {
			return Errorf(EBadMessage, "the image must be base64 (a data: URL ending in ;base64, or plain base64)")
		}
	}
	_, err := io.Copy(pb, base64.NewDecoder(base64.StdEncoding, br))
	var ce *connError
	var se *syntaxError
	var cie base64.CorruptInputError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ce):
		return err
	case pb.tooBig:
		return Errorf(ETooLarge, "the image file is over %d MB", pb.limit>>20)
	case pb.noSpace:
		return Errorf(EBusy, "the server is holding as many photos as it can; try again in a moment")
	case errors.As(err, &se):
		return Errorf(EBadMessage, "%s", se.msg)
	case errors.As(err, &cie), err == io.ErrUnexpectedEOF: // not a whole number of base64 quads
		return Errorf(EBadMessage, "the image is not valid base64")
	}
	return &connError{err}
}
