package mobilenet

import "math"

// Kernels work on NHWC float32 maps with batch 1. Shapes were checked when
// the graph was compiled, so they index without further checks.

// arena recycles activation buffers by length: MobileNet's maps come in a
// handful of sizes, so a run after the first allocates almost nothing.
type arena struct {
	free map[int][][]float32
	crew *crew // the goroutines that help this run; nil: none
}

func (a *arena) get(n int) []float32 {
	if l := a.free[n]; len(l) > 0 {
		b := l[len(l)-1]
		a.free[n] = l[:len(l)-1]
		return b
	}
	return make([]float32, n)
}

// helpers is the run's crew; nil for a kernel run on its own (a test's).
func (a *arena) helpers() *crew {
	if a == nil {
		return nil
	}
	return a.crew
}

func (a *arena) put(b []float32) {
	if b != nil {
		a.free[len(b)] = append(a.free[len(b)], b)
	}
}

type kernel interface {
	// run computes out from the step's inputs; it must write all of out.
	run(in [][]float32, out []float32, a *arena)
}

// samePad returns the output size and the padding before the first element
// for TF padding: SAME puts the odd extra pixel at the bottom/right.
func samePad(pad Padding, in, k, stride, dil int) (out, before int) {
	ek := (k-1)*dil + 1
	if pad == PaddingValid {
		if in < ek {
			return 0, 0
		}
		return (in-ek)/stride + 1, 0
	}
	out = (in + stride - 1) / stride
	total := max((out-1)*stride+ek-in, 0)
	return out, total / 2
}

func activate(x []float32, act Activation) {
	if act == ActTanh {
		for i, v := range x {
			x[i] = float32(math.Tanh(float64(v)))
		}
		return
	}
	if act == ActNone {
		return
	}
	// Plain comparisons: the min/max builtins order NaNs and signed zeros,
	// which costs several times as much here.
	lo, hi := bounds(act)
	if useAVX2 {
		clampAVX2(x, lo, hi)
		return
	}
	for i, v := range x {
		if v < lo {
			x[i] = lo
		} else if v > hi {
			x[i] = hi
		}
	}
}

// conv2D is CONV_2D as im2col (skipped for 1x1 stride-1 convolutions, whose
// input already is the patch matrix) followed by gemm.
type conv2D struct {
	h, w, c    int // input map
	oh, ow, o  int // output map
	kh, kw     int
	sh, sw     int
	dh, dw     int
	padT, padL int
	direct     bool
	panels     [][2]float32 // weights packed for gemm, see packPanels
	panels16   []float32    // the same for gemm16, with AVX2
	bias       []float32    // [o]
	act        Activation
}

func (cv *conv2D) run(in [][]float32, out []float32, a *arena) {
	k := cv.kh * cv.kw * cv.c
	p := cv.oh * cv.ow
	patches := in[0]
	if !cv.direct {
		patches = a.get(p * k)
		defer a.put(patches)
	}
	lo, hi := bounds(cv.act)
	// Each part makes the patches of its own output pixels and multiplies
	// them; the 6-row tiles of gemm16 stay whole.
	a.helpers().split(p, 6, p*k*cv.o, func(p0, p1 int) {
		if !cv.direct {
			cv.im2col(in[0], patches, p0, p1)
		}
		rows, c := patches[p0*k:p1*k], out[p0*cv.o:p1*cv.o]
		if cv.panels16 != nil {
			gemm16(rows, p1-p0, k, cv.panels16, cv.o, cv.bias, lo, hi, c)
		} else {
			gemm(rows, p1-p0, k, cv.panels, cv.o, cv.bias, lo, hi, c)
		}
		if cv.act == ActTanh {
			activate(c, cv.act)
		}
	})
}

// im2col writes one row of kh*kw*c values for each output pixel in
// [p0, p1) (row-major), zero where the window hangs over the padding; the
// row of pixel p starts at dst[p*kh*kw*c].
func (cv *conv2D) im2col(x, dst []float32, p0, p1 int) {
	c := cv.c
	i := p0 * cv.kh * cv.kw * c
	for p := p0; p < p1; p++ {
		oy, ox := p/cv.ow, p%cv.ow
		for ky := range cv.kh {
			iy := oy*cv.sh - cv.padT + ky*cv.dh
			for kx := range cv.kw {
				ix := ox*cv.sw - cv.padL + kx*cv.dw
				row := dst[i : i+c]
				switch {
				case iy < 0 || iy >= cv.h || ix < 0 || ix >= cv.w:
					clear(row)
				case c < 8: // an RGB input: a call to memmove costs more than the copy
					src := x[(iy*cv.w+ix)*c:]
					for j := range row {
						row[j] = src[j]
					}
				default:
					copy(row, x[(iy*cv.w+ix)*c:])
				}
				i += c
			}
		}
	}
}

// packPanels rearranges weights w[o][k] into panels of two output channels,
// panel j holding (w[2j][k], w[2j+1][k]) for k = 0..K-1, so that gemm reads
// them contiguously. An odd last channel is paired with zeros.
func packPanels(w []float32, o, k int) [][2]float32 {
	p := make([][2]float32, (o+1)/2*k)
	for j := range o {
		dst := p[(j/2)*k : (j/2+1)*k]
		for i, v := range w[j*k : j*k+k] {
			dst[i][j%2] = v
		}
	}
	return p
}

// packPanels16 rearranges weights w[o][k] into panels of 16 output
// channels, panel j holding w[16j..16j+15][i] contiguously for each i;
// channels past o are zeros.
func packPanels16(w []float32, o, k int) []float32 {
	np := (o + 15) / 16
	p := make([]float32, np*k*16)
	for j := range o {
		base := (j / 16) * k * 16
		for i, v := range w[j*k : j*k+k] {
			p[base+i*16+j%16] = v
		}
	}
	return p
}

// gemm16 is gemm with AVX2 tiles of 6 rows by 16 channels over weights
// packed by packPanels16; the tile adds the bias, clamps and writes its
// rows in place. A last panel of fewer than 16 channels goes through a
// scratch tile, and the rows left over after the 6-row tiles one by one.
func gemm16(a []float32, rows, k int, panels []float32, o int, bias []float32, lo, hi float32, c []float32) {
	if rows == 0 || k == 0 {
		return
	}
	np := (o + 15) / 16
	var tile [6 * 16]float32
	var pad [16]float32 // the last panel's bias, padded
	copy(pad[:], bias[(np-1)*16:])
	p := 0
	for ; p+6 <= rows; p += 6 {
		for jp := range np {
			j0 := jp * 16
			if j0+16 <= o {
				gemm6x16(&a[p*k], k, &panels[jp*k*16], k, &c[p*o+j0], o, &bias[j0], lo, hi)
				continue
			}
			gemm6x16(&a[p*k], k, &panels[jp*k*16], k, &tile[0], 16, &pad[0], lo, hi)
			for r := range 6 {
				copy(c[(p+r)*o+j0:(p+r+1)*o], tile[r*16:])
			}
		}
	}
	for ; p < rows; p++ {
		for jp := range np {
			j0 := jp * 16
			gemm1x16(&a[p*k], &panels[jp*k*16], k, &tile[0])
			for j := j0; j < min(j0+16, o); j++ {
				c[p*o+j] = min(max(bias[j]+tile[j-j0], lo), hi)
			}
		}
	}
}

// bounds is a fused activation as a clamp range; tanh has none.
func bounds(act Activation) (lo, hi float32) {
	inf := float32(math.Inf(1))
	switch act {
	case ActRelu:
		return 0, inf
	case ActRelu6:
		return 0, 6
	case ActReluN1To1:
		return -1, 1
	}
	return -inf, inf
}

// gemm sets c[p][j] = clamp(bias[j] + sum_k a[p][k] * w[j][k]) with w
// packed by packPanels. It uses a 4x2 register tile: eight accumulators
// plus six operands fit the 16 float registers of amd64, which wider tiles
// overflow (measured: 4x4 and 6x2 run at two thirds of the speed).
func gemm(a []float32, rows, k int, panels [][2]float32, o int, bias []float32, lo, hi float32, c []float32) {
	np := (o + 1) / 2
	clamp := func(v float32) float32 {
		if v < lo {
			return lo
		}
		if v > hi {
			return hi
		}
		return v
	}
	p := 0
	for ; p+4 <= rows; p += 4 {
		a0 := a[p*k : p*k+k]
		a1 := a[(p+1)*k : (p+1)*k+k]
		a2 := a[(p+2)*k : (p+2)*k+k]
		a3 := a[(p+3)*k : (p+3)*k+k]
		for jp := range np {
			w := panels[jp*k : (jp+1)*k]
			var c00, c01, c10, c11, c20, c21, c30, c31 float32
			a1 := a1[:len(a0)]
			a2 := a2[:len(a0)]
			a3 := a3[:len(a0)]
			w = w[:len(a0)]
			for i, x0 := range a0 {
				w0, w1 := w[i][0], w[i][1]
				x1, x2, x3 := a1[i], a2[i], a3[i]
				c00 += x0 * w0
				c01 += x0 * w1
				c10 += x1 * w0
				c11 += x1 * w1
				c20 += x2 * w0
				c21 += x2 * w1
				c30 += x3 * w0
				c31 += x3 * w1
			}
			j := jp * 2
			c[p*o+j] = clamp(bias[j] + c00)
			c[(p+1)*o+j] = clamp(bias[j] + c10)
			c[(p+2)*o+j] = clamp(bias[j] + c20)
			c[(p+3)*o+j] = clamp(bias[j] + c30)
			if j+1 < o {
				c[p*o+j+1] = clamp(bias[j+1] + c01)
				c[(p+1)*o+j+1] = clamp(bias[j+1] + c11)
				c[(p+2)*o+j+1] = clamp(bias[j+1] + c21)
				c[(p+3)*o+j+1] = clamp(bias[j+1] + c31)
			}
		}
	}
	for ; p < rows; p++ {
		a0 := a[p*k : p*k+k]
		for jp := range np {
			w := panels[jp*k : (jp+1)*k]
			w = w[:len(a0)]
			var c00, c01 float32
			for i, x0 := range a0 {
				c00 += x0 * w[i][0]
				c01 += x0 * w[i][1]
			}
			j := jp * 2
			c[p*o+j] = clamp(bias[j] + c00)
			if j+1 < o {
				c[p*o+j+1] = clamp(bias[j+1] + c01)
			}
		}
	}
}

// depthwise is DEPTHWISE_CONV_2D: output channel j filters input channel
// j/mult. The channel loop is innermost so every access is contiguous.
type depthwise struct {
	h, w, c    int
	oh, ow, o  int // o = c*mult
	kh, kw     int
	sh, sw     int
	dh, dw     int
	padT, padL int
	mult       int
	weights    []float32 // [kh][kw][o]
	bias       []float32 // [o]
	act        Activation
}

func (d *depthwise) run(in [][]float32, out []float32, a *arena) {
	x := in[0]
	// A 3x3 window wholly inside the input (every pixel but the border)
	// goes through one AVX2 kernel: bias, nine taps and clamp, each
	// output channel stored once.
	fast := useAVX2 && d.mult == 1 && d.kh == 3 && d.kw == 3 && d.o%8 == 0 && d.act != ActTanh
	lo, hi := bounds(d.act)
	a.helpers().split(d.oh, 1, d.oh*d.ow*d.o*d.kh*d.kw, func(y0, y1 int) { d.rows(x, out, fast, lo, hi, y0, y1) })
}

// rows computes output rows [y0, y1) of the depthwise convolution.
func (d *depthwise) rows(x, out []float32, fast bool, lo, hi float32, y0, y1 int) {
	for oy := y0; oy < y1; oy++ {
		for ox := range d.ow {
			acc := out[(oy*d.ow+ox)*d.o : (oy*d.ow+ox+1)*d.o]
			iy0, ix0 := oy*d.sh-d.padT, ox*d.sw-d.padL
			if fast && iy0 >= 0 && iy0+2*d.dh < d.h && ix0 >= 0 && ix0+2*d.dw < d.w {
				dw3x3(&x[(iy0*d.w+ix0)*d.c], d.dh*d.w*d.c, d.dw*d.c, &d.weights[0], d.o, &d.bias[0], lo, hi, &acc[0])
				continue
			}
			copy(acc, d.bias)
			for ky := range d.kh {
				iy := oy*d.sh - d.padT + ky*d.dh
				if iy < 0 || iy >= d.h {
					continue
				}
				for kx := range d.kw {
					ix := ox*d.sw - d.padL + kx*d.dw
					if ix < 0 || ix >= d.w {
						continue
					}
					w := d.weights[(ky*d.kw+kx)*d.o : (ky*d.kw+kx+1)*d.o]
					src := x[(iy*d.w+ix)*d.c : (iy*d.w+ix+1)*d.c]
					if d.mult == 1 && useAVX2 {
						maddAVX2(acc, src[:len(acc)], w[:len(acc)])
					} else if d.mult == 1 {
						w := w[:len(acc)]
						src := src[:len(acc)]
						for i := range acc {
							acc[i] += src[i] * w[i]
						}
					} else {
						for i := range acc {
							acc[i] += src[i/d.mult] * w[i]
						}
					}
				}
			}
			activate(acc, d.act)
		}
	}
}

// pool2D is AVERAGE_POOL_2D or MAX_POOL_2D. The average counts only the
// window cells inside the map, as TensorFlow does for SAME padding.
type pool2D struct {
	h, w, c    int
	oh, ow     int
	fh, fw     int
	sh, sw     int
	padT, padL int
	max        bool
	act        Activation
}

func (pl *pool2D) run(in [][]float32, out []float32, _ *arena) {
	x := in[0]
	for oy := range pl.oh {
		for ox := range pl.ow {
			acc := out[(oy*pl.ow+ox)*pl.c : (oy*pl.ow+ox+1)*pl.c]
			if pl.max {
				for i := range acc {
					acc[i] = float32(math.Inf(-1))
				}
			} else {
				clear(acc)
			}
			n := 0
			for ky := range pl.fh {
				iy := oy*pl.sh - pl.padT + ky
				if iy < 0 || iy >= pl.h {
					continue
				}
				for kx := range pl.fw {
					ix := ox*pl.sw - pl.padL + kx
					if ix < 0 || ix >= pl.w {
						continue
					}
					src := x[(iy*pl.w+ix)*pl.c : (iy*pl.w+ix+1)*pl.c]
					if pl.max {
						for i, v := range src {
							acc[i] = max(acc[i], v)
						}
					} else {
						for i, v := range src {
							acc[i] += v
						}
					}
					n++
				}
			}
			if !pl.max && n > 0 {
				inv := 1 / float32(n)
				for i := range acc {
					acc[i] *= inv
				}
			}
		}
	}
	activate(out, pl.act)
}

// add is ADD of two tensors of the same shape (MobileNetV2's residuals).
type add struct {
	act Activation
}

func (ad add) run(in [][]float32, out []float32, _ *arena) {
	x, y := in[0], in[1][:len(in[0])]
	for i := range x {
		out[i] = x[i] + y[i]
	}
	activate(out, ad.act)
}

// identity copies (RESHAPE, and QUANTIZE in float32): only the shape or
// the grid changes, and a copy keeps every tensor in its own buffer so
// buffers can be recycled independently.
type identity struct{}

func (identity) run(in [][]float32, out []float32, _ *arena) { copy(out, in[0]) }

// concat is CONCATENATION: each of outer rows of the output holds a row of
// chunks[i] values from each input i in turn.
type concat struct {
	outer  int
	chunks []int
	act    Activation
}

func (k concat) run(in [][]float32, out []float32, _ *arena) {
	o := 0
	for r := range k.outer {
		for i, n := range k.chunks {
			o += copy(out[o:o+n], in[i][r*n:(r+1)*n])
		}
	}
	activate(out, k.act)
}

// lerp is one output row or column of a bilinear resize: it reads input
// rows i0 and i1 with weights 1-f and f.
type lerp struct {
	i0, i1 int
	f      float32
}

// lerps places out samples on an input axis of length in as TFLite's
// RESIZE_BILINEAR does: scale in/out, or (in-1)/(out-1) with align_corners
// (corner pixels map to corner pixels); with half_pixel_centers a sample
// sits at (i+0.5)*scale-0.5. Arithmetic is float32, as there.
func lerps(in, out int, alignCorners, halfPixel bool) []lerp {
	scale := float32(in) / float32(out)
	if alignCorners && out > 1 {
		scale = float32(in-1) / float32(out-1)
	}
	l := make([]lerp, out)
	for i := range l {
		v := float32(i) * scale
		if halfPixel {
			v = float32((float32(i)+0.5)*scale) - 0.5
		}
		lo := int(math.Floor(float64(v)))
		i0 := max(lo, 0)
		i1 := min(int(math.Ceil(float64(v))), in-1)
		l[i] = lerp{i0: i0, i1: i1, f: v - float32(i0)}
	}
	return l
}

// resizeBilinear is RESIZE_BILINEAR. With q set (the input's and the
// output's grid) it interpolates the integer levels and rounds half up,
// as TFLite's uint8 kernel does.
type resizeBilinear struct {
	h, w, c int
	oh, ow  int
	ys, xs  []lerp
	q       *grid
}

func (k *resizeBilinear) run(in [][]float32, out []float32, a *arena) {
	x, c := in[0], k.c
	if k.q != nil {
		x = a.get(len(in[0]))
		defer a.put(x)
		k.q.levels(in[0], x)
	}
	for oy, ly := range k.ys {
		r0, r1 := x[ly.i0*k.w*c:], x[ly.i1*k.w*c:]
		for ox, lx := range k.xs {
			// TFLite's weights and order of summation; the conversions
			// round each product to float32, which a fused multiply-add
			// would not, so that exact halves stay exact.
			w00 := (1 - ly.f) * (1 - lx.f)
			w01 := (1 - ly.f) * lx.f
			w10 := ly.f * (1 - lx.f)
			w11 := ly.f * lx.f
			dst := out[(oy*k.ow+ox)*c : (oy*k.ow+ox+1)*c]
			p00 := r0[lx.i0*c:][:len(dst)]
			p01 := r0[lx.i1*c:][:len(dst)]
			p10 := r1[lx.i0*c:][:len(dst)]
			p11 := r1[lx.i1*c:][:len(dst)]
			if k.q == nil {
				for i := range dst {
					dst[i] = float32(float32(float32(p00[i]*w00)+float32(p01[i]*w01))+float32(p10[i]*w10)) + float32(p11[i]*w11)
				}
				continue
			}
			g := k.q
			for i := range dst {
				q := float32(float32(float32(p00[i]*w00)+float32(p01[i]*w01))+float32(p10[i]*w10)) + float32(p11[i]*w11)
				dst[i] = (g.round(min(max(q, g.lo), g.hi)) - g.zero) * g.scale
			}
		}
	}
}

// argMax is ARG_MAX over the middle axis of [outer][n][inner]; the first
// of equal maxima wins, as in TFLite.
type argMax struct {
	outer, n, inner int
}

func (k argMax) run(in [][]float32, out []float32, _ *arena) {
	x := in[0]
	for o := range k.outer {
		base := o * k.n * k.inner
		for j := range k.inner {
			best, bi := x[base+j], 0
			for i := 1; i < k.n; i++ {
				if v := x[base+i*k.inner+j]; v > best {
					best, bi = v, i
				}
			}
			out[o*k.inner+j] = float32(bi)
		}
	}
}

// grid is a quantised tensor's set of values: real = (q - zero) * scale
// for integer q in [lo, hi]; inv = 1/scale.
type grid struct {
	scale, inv, zero, lo, hi float32
}

// level returns v's level on the grid, clamped, not rounded.
func (g *grid) level(v float32) float32 {
	q := v*g.inv + g.zero
	if q < g.lo {
		return g.lo
	}
	if q > g.hi {
		return g.hi
	}
	return q
}

// round rounds a level in [lo, hi] half up, as TFLite's rounding offset of
// 0.5 does.
func (g *grid) round(q float32) float32 {
	return float32(int32(q-g.lo+0.5)) + g.lo
}

// snap replaces every value of x by the nearest value on the grid.
func (g *grid) snap(x []float32) {
	if useAVX2 {
		snapAVX2(x, g.inv, g.zero, g.lo, g.hi, g.scale)
		return
	}
	for i, v := range x {
		x[i] = (g.round(g.level(v)) - g.zero) * g.scale
	}
}

// levels writes the integer level of each (on-grid) value of x to dst.
func (g *grid) levels(x, dst []float32) {
	for i, v := range x {
		dst[i] = g.round(g.level(v))
	}
}

// softmax normalises along the last axis of length n.
type softmax struct {
	n    int
	beta float32
}

func (s softmax) run(in [][]float32, out []float32, _ *arena) {
	for r := 0; r < len(out); r += s.n {
		x, y := in[0][r:r+s.n], out[r:r+s.n]
		m := x[0]
		for _, v := range x {
			m = max(m, v)
		}
		var sum float64
		for i, v := range x {
			e := math.Exp(float64(s.beta * (v - m)))
			y[i] = float32(e)
			sum += e
		}
		inv := float32(1 / sum)
		for i := range y {
			y[i] *= inv
		}
	}
}
