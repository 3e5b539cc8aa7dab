package web

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// budget is a number of bytes shared by everything that holds a photo:
// uploads being read, and captions waiting for or holding a decode slot.
type budget struct {
	mu        sync.Mutex
	used, max int64
}

// photoChunk is the step in which a photo's buffer reserves memory.
const photoChunk = 256 << 10

func (b *budget) take(n int64) bool {
	if b == nil {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used+n > b.max {
		return false
	}
	b.used += n
	return true
}

func (b *budget) give(n int64) {
	if b == nil || n == 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.used -= n
}

// Refused connections are answered by a goroutine each, with a deadline;
// beyond this many at once they are closed without an answer.
const (
	maxRefusing = 512
	refuseWait  = 2 * time.Second
	retryAfter  = 5 // seconds, in Retry-After
	// closeGrace is how long a closing websocket waits for the client's
	// close frame before the connection is closed.
	closeGrace = 5 * time.Second
)

// connLimits counts open connections and websocket sessions, in all and
// per client address, well below the file descriptors a process has.
type connLimits struct {
	maxConns, maxConnsPerAddr       int
	maxSessions, maxSessionsPerAddr int

	mu         sync.Mutex
	conns      int
	sessions   int
	connsBy    map[string]int
	sessionsBy map[string]int
	refusing   int
}

func newConnLimits(cfg Config) *connLimits {
	return &connLimits{maxConns: cfg.MaxConns, maxConnsPerAddr: cfg.MaxConnsPerAddr,
		maxSessions: cfg.MaxSessions, maxSessionsPerAddr: cfg.MaxSessionsPerAddr,
		connsBy: map[string]int{}, sessionsBy: map[string]int{}}
}

// hostOf is a remote address without its port.
func hostOf(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}

// open counts one more against n and by[host]; it returns why not when a
// cap is reached.
func (l *connLimits) open(n *int, by map[string]int, max, maxPer int, host, what string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if *n >= max {
		return "the server has as many " + what + " as it can take (" + strconv.Itoa(max) + "); try again in a moment"
	}
	if by[host] >= maxPer {
		return "too many " + what + " from your address (" + strconv.Itoa(maxPer) + "); close some or try again in a moment"
	}
	*n++
	by[host]++
	return ""
}

func (l *connLimits) close(n *int, by map[string]int, host string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	*n--
	if by[host]--; by[host] <= 0 {
		delete(by, host)
	}
}

func (l *connLimits) openSession(addr string) string {
	return l.open(&l.sessions, l.sessionsBy, l.maxSessions, l.maxSessionsPerAddr, hostOf(addr), "live sessions")
}

func (l *connLimits) closeSession(addr string) { l.close(&l.sessions, l.sessionsBy, hostOf(addr)) }

// Counts reports the open connections (through Listener) and the live
// websocket sessions.
func (s *Server) Counts() (conns, sessions int) {
	s.conns.mu.Lock()
	defer s.conns.mu.Unlock()
	return s.conns.conns, s.conns.sessions
}

// Listener wraps ln so that the connection caps hold: a connection past
// them is answered at once with 503 busy and Retry-After (a health check
// with its usual 200, so that a full server is not taken for a dead one)
// and closed, instead of waiting until file descriptors run out.
func (s *Server) Listener(ln net.Listener) net.Listener {
	return &limitListener{Listener: ln, l: s.conns}
}

type limitListener struct {
	net.Listener
	l *connLimits
}

func (ll *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := ll.Listener.Accept()
		if err != nil {
			return nil, err
		}
		l := ll.l
		host := hostOf(c.RemoteAddr().String())
		reason := l.open(&l.conns, l.connsBy, l.maxConns, l.maxConnsPerAddr, host, "connections")
		if reason == "" {
			return &countedConn{Conn: c, release: func() { l.close(&l.conns, l.connsBy, host) }}, nil
		}
		l.refuse(c, reason)
	}
}

// countedConn gives its place back when closed (hijacked websockets too).
type countedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *countedConn) Close() error {
	c.once.Do(c.release)
	return c.Conn.Close()
}

// CloseWrite lets net/http half-close the connection as it would a TCP one.
func (c *countedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// SetWriteBuffer sizes the kernel's send buffer, as on a TCP connection.
func (c *countedConn) SetWriteBuffer(bytes int) error {
	if wb, ok := c.Conn.(writeBufferSetter); ok {
		return wb.SetWriteBuffer(bytes)
	}
	return nil
}

// writeBufferSetter is a connection whose kernel send buffer can be sized.
type writeBufferSetter interface{ SetWriteBuffer(bytes int) error }

// refuse answers one request on a connection past the caps and closes it.
func (l *connLimits) refuse(c net.Conn, reason string) {
	l.mu.Lock()
	if l.refusing >= maxRefusing {
		l.mu.Unlock()
		c.Close()
		return
	}
	l.refusing++
	l.mu.Unlock()
	go func() {
		defer func() {
			c.Close()
			l.mu.Lock()
			l.refusing--
			l.mu.Unlock()
		}()
		c.SetDeadline(time.Now().Add(refuseWait))
		br := bufio.NewReaderSize(c, 4096)
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		status, body := http.StatusServiceUnavailable, map[string]any{"error": Error{Code: EBusy, Message: reason}}
		if (req.Method == http.MethodGet || req.Method == http.MethodHead) && req.URL.Path == "/healthz" {
			status, body = http.StatusOK, map[string]any{"status": "ok"}
		}
		b, _ := json.Marshal(body)
		head := "HTTP/1.1 " + strconv.Itoa(status) + " " + http.StatusText(status) + "\r\n" +
			"Content-Type: application/json\r\nContent-Length: " + strconv.Itoa(len(b)) + "\r\nConnection: close\r\n"
		if status != http.StatusOK {
			head += "Retry-After: " + strconv.Itoa(retryAfter) + "\r\n"
		}
		io.WriteString(c, head+"\r\n")
		if req.Method != http.MethodHead {
			c.Write(b)
		}
		// Half-close and read what the client still sends, so that it
		// reads the answer rather than a reset.
		if cw, ok := c.(interface{ CloseWrite() error }); ok {
			cw.CloseWrite()
		}
		io.Copy(io.Discard, io.LimitReader(br, 64<<10))
	}()
}
