package mobilenet

import (
	"runtime"
	"sync/atomic"
)

// A crew is the goroutines that help one run of a graph with its large
// layers. They wait for the next layer by spinning rather than parking: a
// parked thread took about 100 µs to wake on a 2-core virtual machine, as
// long as a late layer of MobileNetV2 takes there, so a helper woken for
// each layer would arrive when the layer is done. The spinning yields the processor to any other
// goroutine that is ready (runtime.Gosched), so under load the crew only
// uses time nobody else wants.
type crew struct {
	job  atomic.Pointer[chunks]
	stop atomic.Bool
}

// chunks is one layer's work: f on [0, n) in chunks of per.
type chunks struct {
	n, per int
	f      func(lo, hi int)
	next   atomic.Int64 // the start of the next chunk to take
	busy   atomic.Int32 // helpers inside work
}

// work takes chunks until none is left.
func (c *chunks) work() {
	for {
		lo := int(c.next.Add(int64(c.per))) - c.per
		if lo >= c.n {
			return
		}
		c.f(lo, min(lo+c.per, c.n))
	}
}

// parallelWork is the least work (multiply-adds) worth sharing with a
// helper.
const parallelWork = 1 << 16

// startCrew starts a crew of helpers goroutines; nil if helpers < 1. The
// caller ends it with finish.
func startCrew(helpers int) *crew {
	if helpers < 1 {
		return nil
	}
	c := &crew{}
	for range helpers {
		go c.help()
	}
	return c
}

func (c *crew) help() {
	var last *chunks
	for spins := 1; !c.stop.Load(); spins++ {
		j := c.job.Load()
		if j == nil || j == last {
			if spins%64 == 0 {
				runtime.Gosched()
			}
			continue
		}
		last = j
		j.busy.Add(1)
		j.work()
		j.busy.Add(-1)
	}
}

// finish sends the helpers away; they leave when they next look.
func (c *crew) finish() {
	if c != nil {
		c.stop.Store(true)
	}
}

// split runs f on contiguous chunks of [0, n), each but the last a
// multiple of align long, taken in turn by this goroutine and the crew's
// helpers, when there are work multiply-adds in all and at least
// parallelWork for each goroutine; otherwise (or with no crew) it runs
// f(0, n). A helper that arrives late takes fewer chunks or none. The
// chunks write disjoint outputs and each value is computed as it would be
// in one chunk, so the result does not depend on the number of helpers.
func (c *crew) split(n, align, work int, f func(lo, hi int)) {
	if c == nil || n/align < 2 || work < 2*parallelWork {
		f(0, n)
		return
	}
	parts := min(n/align, 4*runtime.GOMAXPROCS(0))
	j := &chunks{n: n, per: (n/parts + align - 1) / align * align, f: f}
	c.job.Store(j)
	j.work()
	// A helper still inside f has taken a chunk; one that arrives after
	// this finds none left and never calls f.
	for j.busy.Load() != 0 {
		runtime.Gosched()
	}
}
