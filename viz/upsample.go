package viz

import (
	"math"
	"sync"

	"github.com/disintegration/imaging"
)

// tap is one source sample's share of an output sample.
type tap struct {
	index  int
	weight float64
}

// tapCache holds the taps of each resize asked for, by its sizes: the
// pages ask for the same few (a 7x7 grid to 112 pixels) over and over.
var tapCache sync.Map // tapKey -> [][]tap

type tapKey struct{ dst, src int }

// cachedTaps is taps for heatFilter, computed once for each pair of sizes.
func cachedTaps(dst, src int) [][]tap {
	k := tapKey{dst, src}
	if t, ok := tapCache.Load(k); ok {
		return t.([][]tap)
	}
	t, _ := tapCache.LoadOrStore(k, taps(dst, src, heatFilter))
	return t.([][]tap)
}

// taps gives each of dst output samples its source samples' weights when
// src samples are resized with filter: imaging.Resize's weights, computed
// the same way.
func taps(dst, src int, filter imaging.ResampleFilter) [][]tap {
	du := float64(src) / float64(dst)
	scale := max(du, 1)
	ru := math.Ceil(scale * filter.Support)
	out := make([][]tap, dst)
	for v := range out {
		fu := (float64(v)+0.5)*du - 0.5
		begin := max(int(math.Ceil(fu-ru)), 0)
		end := min(int(math.Floor(fu+ru)), src-1)
		var sum float64
		var ts []tap
		for u := begin; u <= end; u++ {
			if w := filter.Kernel((float64(u) - fu) / scale); w != 0 {
				sum += w
				ts = append(ts, tap{u, w})
			}
		}
		if sum != 0 {
			for i := range ts {
				ts[i].weight /= sum
			}
		}
		out[v] = ts
	}
	return out
}

// upsample resizes a w x h plane of grey values to dw x dh with heatFilter.
// It gives the bytes imaging.Resize gives for the same plane as an opaque
// grey image (the same weights, the same arithmetic and rounding, pass by
// pass), on one plane instead of four channels and without the goroutines
// imaging starts for each pass: the heat layer of every caption word is
// made this way.
func upsample(src []uint8, w, h, dw, dh int) []uint8 {
	if w != dw {
		src = resample(src, w, h, dw, true)
		w = dw
	}
	if h != dh {
		src = resample(src, w, h, dh, false)
	}
	return src
}

// resample is one pass of upsample: the rows of the w x h plane src become
// n samples long (horizontal), or its columns n samples high.
func resample(src []uint8, w, h, n int, horizontal bool) []uint8 {
	if horizontal {
		ts := cachedTaps(n, w)
		out := make([]uint8, n*h)
		for y := range h {
			row := src[y*w : (y+1)*w]
			for x, t := range ts {
				out[y*n+x] = mix(t, row, 1)
			}
		}
		return out
	}
	ts := cachedTaps(n, h)
	out := make([]uint8, w*n)
	for x := range w {
		col := src[x:]
		for y, t := range ts {
			out[y*w+x] = mix(t, col, w)
		}
	}
	return out
}

// mix is one output sample: the taps over line, whose samples are stride
// apart, summed as imaging does an opaque pixel (each weight scaled by the
// alpha 255, the sum divided by the summed alpha) and rounded.
func mix(t []tap, line []uint8, stride int) uint8 {
	var r, a float64
	for _, tp := range t {
		aw := 255 * tp.weight
		r += float64(line[tp.index*stride]) * aw
		a += aw
	}
	if a == 0 {
		return 0
	}
	return roundByte(r * (1 / a))
}

// roundByte rounds x to the nearest byte value, as imaging does.
func roundByte(x float64) uint8 {
	v := int64(x + 0.5)
	if v > 255 {
		return 255
	}
	if v > 0 {
		return uint8(v)
	}
	return 0
}
