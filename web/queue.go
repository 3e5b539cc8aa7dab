package web

import (
	"context"
	"errors"
	"sync"
)

// errQueueFull means every decode slot is busy and the queue is full.
var errQueueFull = errors.New("queue full")

// queue runs at most `slots` decodes at once; other requests wait in FIFO
// order, up to maxWait of them, and are told their place as it changes.
type queue struct {
	mu      sync.Mutex
	slots   int
	running int
	maxWait int
	waiting []*ticket
}

type ticket struct {
	ready  chan struct{}
	notify func(ahead int)
}

func newQueue(slots, maxWait int) *queue {
	return &queue{slots: slots, maxWait: maxWait}
}

// acquire takes a slot, waiting in line while ctx allows. notify, if not
// nil, is called with the number of requests ahead whenever it changes.
// Every successful acquire must be paired with one release.
func (q *queue) acquire(ctx context.Context, notify func(ahead int)) error {
	q.mu.Lock()
	if q.running < q.slots && len(q.waiting) == 0 {
		q.running++
		q.mu.Unlock()
		return nil
	}
	if len(q.waiting) >= q.maxWait {
		q.mu.Unlock()
		return errQueueFull
	}
	t := &ticket{ready: make(chan struct{}), notify: notify}
	q.waiting = append(q.waiting, t)
	ahead := len(q.waiting) - 1
	q.mu.Unlock()
	if notify != nil {
		notify(ahead)
	}
	select {
	case <-t.ready:
		return nil
	case <-ctx.Done():
		q.mu.Lock()
		defer q.mu.Unlock()
		for i, w := range q.waiting {
			if w == t {
				q.waiting = append(q.waiting[:i], q.waiting[i+1:]...)
				q.renumber(i)
				return ctx.Err()
			}
		}
		// The slot was handed to us as we gave up: pass it on.
		q.releaseLocked()
		return ctx.Err()
	}
}

func (q *queue) release() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.releaseLocked()
}

func (q *queue) releaseLocked() {
	if len(q.waiting) == 0 {
		q.running--
		return
	}
	next := q.waiting[0]
	q.waiting = q.waiting[1:]
	close(next.ready) // the slot passes straight to the next in line
	q.renumber(0)
}

// renumber tells everyone from index i on their new place.
func (q *queue) renumber(from int) {
	for i := from; i < len(q.waiting); i++ {
		if n := q.waiting[i].notify; n != nil {
			n(i)
		}
	}
}

// stats reports running and waiting counts.
func (q *queue) stats() (running, waiting int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.running, len(q.waiting)
}
