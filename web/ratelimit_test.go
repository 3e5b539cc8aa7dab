package web

import (
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	l := newLimiter(2, 3)
	now := time.Unix(1000, 0)
	for i := 0; i < 3; i++ {
		if !l.allow("10.0.0.1:5000", now) {
			t.Fatalf("request %d refused inside the burst", i)
		}
	}
	if l.allow("10.0.0.1:5001", now) {
		t.Fatal("fourth request in the same instant allowed (same host, other port)")
	}
	if !l.allow("10.0.0.2:5000", now) {
		t.Fatal("another client was limited")
	}
	if !l.allow("10.0.0.1:5000", now.Add(600*time.Millisecond)) {
		t.Fatal("a token should have come back after 0.5 s")
	}
}
