package web

import (
	"net"
	"sync"
	"time"
)

// bucket is a token bucket: rate tokens a second, holding at most burst.
type bucket struct {
	tokens float64
	last   time.Time
}

func (b *bucket) take(rate, burst float64, now time.Time) bool {
	if b.last.IsZero() {
		b.tokens = burst
	} else {
		b.tokens = min(burst, b.tokens+now.Sub(b.last).Seconds()*rate)
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// limiter keeps one bucket per client address. A classroom often shares
// one address, so its limits are generous; each websocket session also
// has its own, tighter bucket.
type limiter struct {
	mu          sync.Mutex
	rate, burst float64
	clients     map[string]*bucket
}

func newLimiter(rate, burst float64) *limiter {
	return &limiter{rate: rate, burst: burst, clients: map[string]*bucket{}}
}

func (l *limiter) allow(addr string, now time.Time) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.clients) > 10000 { // forget idle clients rather than grow without bound
		for k, b := range l.clients {
			if now.Sub(b.last) > time.Minute {
				delete(l.clients, k)
			}
		}
	}
	b, ok := l.clients[host]
	if !ok {
		b = &bucket{}
		l.clients[host] = b
	}
	return b.take(l.rate, l.burst, now)
}

// peek reports whether addr has a token left, without taking it.
func (l *limiter) peek(addr string, now time.Time) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.clients[host]
	if !ok {
		return true
	}
	return min(l.burst, b.tokens+now.Sub(b.last).Seconds()*l.rate) >= 1
}
