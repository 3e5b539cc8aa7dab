package web_test

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"attention/web"
)

func heapMB() float64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return float64(ms.HeapAlloc) / (1 << 20)
}

// Students close the tab mid-translation: 1,000 sessions that start a
// decode and vanish must leave no goroutines and no heap behind.
func TestAbandonedSessionsLeaveNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("long: 1,000 sessions")
	}
	srv := newServerWith(t, web.Config{AddrRate: 1e9, AddrBurst: 1e9}) // every session really decodes
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws"
	// Warm up once so lazily built state does not count as a leak.
	c := dial(t, srv)
	translateWS(t, c, "warm", "A dog runs.")
	c.Close()
	time.Sleep(100 * time.Millisecond)
	baseG, baseHeap := runtime.NumGoroutine(), heapMB()

	const sessions, batch = 1000, 50
	msg := []byte(`{"type":"translate","v":1,"payload":{"id":"x","text":"A man in a blue shirt is riding a bike down the street.","model":"en-de","beam":1}}`)
	for i := 0; i < sessions; i += batch {
		conns := make([]*websocket.Conn, 0, batch)
		for j := 0; j < batch; j++ {
			c, _, err := websocket.DefaultDialer.Dial(url, nil)
			if err != nil {
				t.Fatalf("session %d: %v", i+j, err)
			}
			if err := c.WriteMessage(websocket.TextMessage, msg); err != nil {
				t.Fatal(err)
			}
			conns = append(conns, c)
		}
		for k, c := range conns {
			if k%2 == 0 { // half wait for the first message, half leave at once
				c.SetReadDeadline(time.Now().Add(10 * time.Second))
				c.ReadMessage()
			}
			c.Close() // no close handshake: the tab is just gone
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for runtime.NumGoroutine() > baseG && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	g, heap := runtime.NumGoroutine(), heapMB()
	t.Logf("goroutines %d -> %d, heap %.1f MB -> %.1f MB after %d abandoned sessions", baseG, g, baseHeap, heap, sessions)
	if g > baseG {
		t.Errorf("%d goroutines left behind", g-baseG)
	}
	if heap > baseHeap+16 {
		t.Errorf("heap grew by %.1f MB", heap-baseHeap)
	}
}
