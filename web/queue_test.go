package web

import (
	"context"
	"sync"
	"testing"
	"time"
)

func TestQueueOrderAndPositions(t *testing.T) {
	q := newQueue(1, 2)
	if err := q.acquire(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	places := map[string][]int{}
	record := func(name string) func(int) {
		return func(n int) { mu.Lock(); places[name] = append(places[name], n); mu.Unlock() }
	}
	order := make(chan string, 2)
	var done sync.WaitGroup
	for _, name := range []string{"a", "b"} {
		done.Add(1)
		go func() {
			defer done.Done()
			if err := q.acquire(context.Background(), record(name)); err != nil {
				t.Error(err)
				return
			}
			order <- name
			q.release()
		}()
		time.Sleep(20 * time.Millisecond) // a queues before b
	}
	if err := q.acquire(context.Background(), nil); err != errQueueFull {
		t.Fatalf("third waiter: %v, want queue full", err)
	}
	q.release()
	if first, second := <-order, <-order; first != "a" || second != "b" {
		t.Fatalf("served %s then %s", first, second)
	}
	done.Wait() // both released their slot
	mu.Lock()
	defer mu.Unlock()
	if got := places["b"]; len(got) != 2 || got[0] != 1 || got[1] != 0 {
		t.Fatalf("b was told %v, want [1 0]", got)
	}
	if r, w := q.stats(); r != 0 || w != 0 {
		t.Fatalf("after all: %d running, %d waiting", r, w)
	}
}

func TestQueueGiveUp(t *testing.T) {
	q := newQueue(1, 4)
	q.acquire(context.Background(), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if err := q.acquire(ctx, nil); err == nil {
		t.Fatal("want a timeout")
	}
	q.release()
	if r, w := q.stats(); r != 0 || w != 0 {
		t.Fatalf("%d running, %d waiting after a waiter gave up", r, w)
	}
}
