package main

import (
	"runtime/debug"
	"time"
)

// copyBandwidth is the best of a few copies of n bytes, in bytes per second
// counting bytes read plus written.
func copyBandwidth(n int) float64 {
	src, dst := make([]byte, n), make([]byte, n)
	for i := 0; i < n; i += 4096 {
		src[i] = byte(i >> 12) // fault every page in before timing
	}
	copy(dst, src)
	best := time.Duration(1 << 62)
	for range 8 {
		t := time.Now()
		copy(dst, src)
		best = min(best, time.Since(t))
	}
	src, dst = nil, nil
	// Hand large buffers back at once: the peers start next.
	debug.FreeOSMemory()
	return 2 * float64(n) / best.Seconds()
}

// bandwidth holds the two rates the memory floors are computed from.
type bandwidth struct {
	dram   float64 // 256 MB copies: the memory bandwidth
	cached float64 // copies the size of a decode step's weights, which may stay in cache
}
