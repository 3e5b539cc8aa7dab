package nn

import (
	"sync"
	"time"

	"attention/model/checkpoint"
)

// Dense is a weight matrix (In, Out) in the form the decode step reads
// fastest. A step at batch 1 reads every weight once and does two flops
// with it, so how the weights lie in memory decides its time. With AVX2,
// Dense stores the matrix as 64-column panels, each row's 64 values
// contiguous, so a product streams the weights in order and keeps its 64
// sums in registers; and where every value is exactly a float16 (the
// shipped checkpoints store them so) and the CPU converts half precision
// in hardware (F16C), it keeps them at half the bytes, with the same
// products. Without AVX2 it uses the row-major float32 matrix as given.
type Dense struct {
	In, Out int
	w       []float32 // row-major, without AVX2
	p32     []float32 // panels, float32
	p16     []uint16  // panels, float16
}

const panelWidth = 64

// NewDense wraps w, the In*Out values of a row-major matrix.
func NewDense(w []float32, in, out int) *Dense {
	return newDense(w, in, out, useF16)
}

func newDense(w []float32, in, out int, half bool) *Dense {
	w = w[:in*out]
	d := &Dense{In: in, Out: out}
	if !useAVX2 {
		d.w = w
		return d
	}
	n := (out + panelWidth - 1) / panelWidth * panelWidth * in
	if half {
		pickPanels.Do(choosePanels)
		p := make([]uint16, n)
		if d.fill(func(dst, v int) bool {
			h := checkpoint.F16FromF32(w[v])
			p[dst] = h
			return checkpoint.F32FromF16(h) == w[v]
		}) {
			d.p16 = p
			return d
		}
	}
	p := make([]float32, n)
	d.fill(func(dst, v int) bool { p[dst] = w[v]; return true })
	d.p32 = p
	return d
}

// fill calls set(panel index, row-major index) for every weight, in panel
// order, and reports whether every call returned true.
func (d *Dense) fill(set func(dst, src int) bool) bool {
	dst := 0
	for c0 := 0; c0 < d.Out; c0 += panelWidth {
		for r := range d.In {
			for c := c0; c < c0+panelWidth; c++ {
				if c < d.Out && !set(dst, r*d.Out+c) {
					return false
				}
				dst++
			}
		}
	}
	return true
}

// Half reports whether the weights are held at half precision.
func (d *Dense) Half() bool { return d.p16 != nil }

// Bytes is the size of the weights as held.
func (d *Dense) Bytes() int { return 4*len(d.w) + 4*len(d.p32) + 2*len(d.p16) }

// MulAdd adds x·W to y (x of length In, y of length Out).
func (d *Dense) MulAdd(y, x []float32) {
	x, y = x[:d.In], y[:d.Out]
	if d.w != nil {
		MatVecAdd(y, x, d.w, d.Out)
		return
	}
	if d.In == 0 {
		return
	}
	size := d.In * panelWidth
	var tail [panelWidth]float32
	for k, c := 0, 0; c < d.Out; k, c = k+1, c+panelWidth {
		dst := &tail[0]
		if c+panelWidth <= d.Out {
			dst = &y[c]
		} else {
			tail = [panelWidth]float32{}
			copy(tail[:], y[c:])
		}
		switch {
		case d.p16 != nil && useAVX512: // a direct call: through a func value x and dst would escape
			panelF16x512(x, &d.p16[k*size], dst)
		case d.p16 != nil:
			panelF16(x, &d.p16[k*size], dst)
		default:
			panelF32(x, &d.p32[k*size], dst)
		}
		if c+panelWidth > d.Out {
			copy(y[c:], tail[:])
		}
	}
}

// MaxBatch is how many vectors MulAddBatch takes through the weights at
// once.
const MaxBatch = 6

// MulAddBatch adds xs[i]·W to ys[i] for every i. With float16 panels it
// reads the weights once for up to MaxBatch vectors at a time (the live
// hypotheses of a beam), in 16-column strips (32 with AVX-512); otherwise it is MulAdd for
// each vector.
func (d *Dense) MulAddBatch(ys, xs [][]float32) {
	if d.p16 == nil || len(xs) == 1 || d.In == 0 {
		for i := range xs {
			d.MulAdd(ys[i], xs[i])
		}
		return
	}
	for ; len(xs) > MaxBatch; ys, xs = ys[MaxBatch:], xs[MaxBatch:] {
		d.MulAddBatch(ys[:MaxBatch], xs[:MaxBatch])
	}
	n := len(xs)
	var xp, yp [MaxBatch]*float32
	var tails [MaxBatch][panelWidth]float32 // a last panel narrower than 64 columns
	for i := range n {
		_, _ = xs[i][d.In-1], ys[i][d.Out-1] // the bounds the kernels rely on
	}
	size := d.In * panelWidth
	for k, c := 0, 0; c < d.Out; k, c = k+1, c+panelWidth {
		partial := c+panelWidth > d.Out
		for i := range n {
			if partial {
				tails[i] = [panelWidth]float32{}
				copy(tails[i][:], ys[i][c:])
			}
		}
		strip := 16
		if useAVX512 {
			strip = 32
		}
		for s := 0; s < panelWidth; s += strip {
			for i := range n {
				xp[i] = &xs[i][0]
				if partial {
					yp[i] = &tails[i][s]
				} else {
					yp[i] = &ys[i][c+s]
				}
			}
			if useAVX512 {
				strip32F16(n, &xp, d.In, &d.p16[k*size+s], &yp)
			} else {
				strip16F16(n, &xp, d.In, &d.p16[k*size+s], &yp)
			}
		}
		if partial {
			for i := range n {
				copy(ys[i][c:d.Out], tails[i][:])
			}
		}
	}
}

// Stack is one Dense over the row blocks ws, each a row-major (In_k, out)
// matrix: the layers x_1·W_1 + x_2·W_2 + ... as [x_1; x_2; ...]·[W_1; W_2; ...].
func Stack(out int, ws ...[]float32) *Dense {
	var all []float32
	for _, w := range ws {
		all = append(all, w...)
	}
	return NewDense(all, len(all)/out, out)
}

// RoundToHalf rounds every weight to the nearest float16, as the shipped
// checkpoints store them (for benchmarks on random weights).
func RoundToHalf(ps []*Param) {
	for _, q := range ps {
		for i, v := range q.Data {
			q.Data[i] = checkpoint.F32FromF16(checkpoint.F16FromF32(v))
		}
	}
}

var pickPanels sync.Once

// choosePanels decides, once, whether the half-precision products use the
// AVX-512 kernels or the AVX2 ones on a CPU that has both. Both give the
// same sums bit for bit (TestPanelF16x512, TestStrip32F16), so only the
// time differs, and it differs by CPU: on one AMD EPYC host the AVX-512
// kernels took 20% less time, on another 17% more (a matrix of 4 MB, read
// from beyond the core's own caches, as the decode step's are). It times
// both on such a matrix, the best of five passes each, about a millisecond.
func choosePanels() {
	if !hasAVX512 {
		return
	}
	const in, panels = 256, 128 // 4 MB as float16
	w := make([]uint16, in*panelWidth*panels)
	for i := range w {
		w[i] = 0x3c00 // 1.0
	}
	x := make([]float32, in)
	var y [panelWidth]float32
	pass := func(k func(x []float32, w *uint16, y *float32)) time.Duration {
		start := time.Now()
		for p := range panels {
			k(x, &w[p*in*panelWidth], &y[0])
		}
		return time.Since(start)
	}
	best512, best2 := time.Duration(1<<62), time.Duration(1<<62)
	for range 5 {
		best512 = min(best512, pass(panelF16x512))
		best2 = min(best2, pass(panelF16))
	}
	useAVX512 = best512 < best2
}

// Kernels names the matrix-vector kernels in use, for benchmark reports
// (choosing them first if no half-precision matrix has yet).
func Kernels() string {
	pickPanels.Do(choosePanels)
	switch {
	case useAVX512:
		return "AVX-512 (half-precision weights)"
	case hasAVX512:
		return "AVX2 (half-precision weights; AVX-512 measured slower on this CPU)"
	case useF16:
		return "AVX2 (half-precision weights)"
	case useAVX2:
		return "AVX2"
	}
	return "Go"
}
