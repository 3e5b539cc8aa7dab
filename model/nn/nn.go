// Package nn holds the plain-Go numeric kernels that the serving path uses.
// Matrices are row-major float32; a layer computes y = x·W + b with x a row
// vector (in), W (in, out) and b (out), the layout the training graph uses.
package nn

import "math"

// Linear is a dense layer y = x·W + b.
type Linear struct {
	In, Out int
	W       []float32 // (In, Out)
	B       []float32 // (Out), may be nil
}

// Forward writes x·W + b into y (len Out). It adds to nothing: y is overwritten.
func (l *Linear) Forward(y, x []float32) {
	if l.B != nil {
		copy(y, l.B)
	} else {
		clear(y)
	}
	l.Accumulate(y, x)
}

// Accumulate adds x·W to y.
func (l *Linear) Accumulate(y, x []float32) {
	MatVecAdd(y, x, l.W, l.Out)
}

// MatVecAdd adds x·W to y, where W is (len(x), out) row-major.
func MatVecAdd(y, x, w []float32, out int) {
	y = y[:out]
	w = w[:len(x)*out]
	i := 0
	if useAVX2 && useRows8 && out >= 8 {
		// Eight rows at a time, over column blocks that keep their part
		// of y in the L1 cache.
		n8 := out &^ 7
		for ; i+8 <= len(x); i += 8 {
			for c := 0; c < n8; c += matVecBlock {
				axpy8AVX2(&x[i], &w[i*out+c], out, y[c:min(c+matVecBlock, n8)])
			}
			for j := n8; j < out; j++ {
				for k := range 8 {
					y[j] += x[i+k] * w[(i+k)*out+j]
				}
			}
		}
	}
	for ; i < len(x); i++ {
		if x[i] != 0 {
			Axpy(x[i], w[i*out:(i+1)*out], y)
		}
	}
}

// matVecBlock is the column block of MatVecAdd's eight-row kernel: 4 KB
// of y, measured best among 1-16 KB for the 8018-word output layer.
const matVecBlock = 1024

// useRows8 turns the eight-row kernel off for the benchmark's comparison.
var useRows8 = true

func Axpy(a float32, x, y []float32) {
	y = y[:len(x)] // also the bounds check the assembly relies on
	if useAVX2 {
		axpyAVX2(a, x, y)
		return
	}
	axpyGo(a, x, y)
}

func axpyGo(a float32, x, y []float32) {
	y = y[:len(x)]
	n := len(x) &^ 3
	for j := 0; j < n; j += 4 {
		y[j] += a * x[j]
		y[j+1] += a * x[j+1]
		y[j+2] += a * x[j+2]
		y[j+3] += a * x[j+3]
	}
	for j := n; j < len(x); j++ {
		y[j] += a * x[j]
	}
}

// TanhGrad sets g = d·v⊙(1 - u⊙u): the gradient of d·v·tanh(x) with
// respect to x, at u = tanh(x). v and g are at least as long as u.
func TanhGrad(d float32, u, v, g []float32) {
	v, g = v[:len(u)], g[:len(u)] // also the bounds check the assembly relies on
	if useAVX2 {
		tanhGradAVX2(d, u, v, g)
		return
	}
	tanhGradGo(d, u, v, g)
}

func tanhGradGo(d float32, u, v, g []float32) {
	v, g = v[:len(u)], g[:len(u)]
	for k, x := range u {
		g[k] = d * v[k] * (1 - x*x)
	}
}

// Dot returns the inner product of a and b.
func Dot(a, b []float32) float32 {
	b = b[:len(a)]
	if useAVX2 {
		return dotAVX2(a, b)
	}
	return dotGo(a, b)
}

func dotGo(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	n := len(a) &^ 3
	for j := 0; j < n; j += 4 {
		s0 += a[j] * b[j]
		s1 += a[j+1] * b[j+1]
		s2 += a[j+2] * b[j+2]
		s3 += a[j+3] * b[j+3]
	}
	for j := n; j < len(a); j++ {
		s0 += a[j] * b[j]
	}
	return s0 + s1 + s2 + s3
}

// Exp32 is e^x in float32 arithmetic, within a few ulp: x = n ln 2 + r
// with |r| <= ln 2 / 2, e^r by its Taylor polynomial to degree 7 (the
// next term is below 2^-28 of the result), times 2^n. It is several times
// faster than math.Exp, which the decode step calls thousands of times.
func Exp32(x float32) float32 {
	const (
		log2e = 1.44269504088896341
		ln2hi = 0.693145751953125       // ln 2 with the low bits cleared, so n*ln2hi is exact
		ln2lo = 1.42860682030941723e-06 // ln 2 - ln2hi
	)
	switch {
	case x != x:
		return x
	case x > 88.72:
		return float32(math.Inf(1))
	case x < -87.33:
		return 0
	}
	t := x * log2e
	if t < 0 {
		t -= 0.5
	} else {
		t += 0.5
	}
	n := float32(int32(t))
	r := x - n*ln2hi - n*ln2lo
	p := 1 + r*(1+r*(1.0/2+r*(1.0/6+r*(1.0/24+r*(1.0/120+r*(1.0/720+r*(1.0/5040)))))))
	return p * math.Float32frombits(uint32(int32(n)+127)<<23)
}

// Sigmoid is the logistic function.
func Sigmoid(x float32) float32 { return 1 / (1 + Exp32(-x)) }

// Tanh is the hyperbolic tangent, from Exp32: (1 - e^-2|x|) / (1 + e^-2|x|)
// with the sign of x, and near 0 from a series; within 1e-6 of math.Tanh.
func Tanh(x float32) float32 {
	a := x
	if a < 0 {
		a = -a
	}
	var y float32
	switch {
	case a > 9:
		y = 1
	case a < 1.0/1024: // tanh x = x - x^3/3 + ...: the cubic term is below float32 resolution
		return x
	case a < 0.625:
		// 1 - e^-2a cancels here; e^y - 1 by its Taylor series (to
		// degree 11 for |y| <= 1.25) keeps the relative precision.
		u := -2 * a
		em := u * (1 + u*(1.0/2+u*(1.0/6+u*(1.0/24+u*(1.0/120+u*(1.0/720+u*(1.0/5040+u*(1.0/40320+u*(1.0/362880+u*(1.0/3628800+u*(1.0/39916800)))))))))))
		y = -em / (2 + em)
	default:
		t := Exp32(-2 * a)
		y = (1 - t) / (1 + t)
	}
	if x < 0 {
		y = -y
	}
	return y
}

// TanhInPlace applies tanh to every element of x.
func TanhInPlace(x []float32) {
	n := 0
	if useAVX2 {
		n = len(x) &^ 7
		tanhAVX2(x[:n])
	}
	for i, v := range x[n:] {
		x[n+i] = Tanh(v)
	}
}

// TanhAddDot is Σ_j v[j]·tanh(a[j]+b[j]), additive attention's score;
// b and v are at least as long as a.
func TanhAddDot(a, b, v []float32) float32 {
	b, v = b[:len(a)], v[:len(a)]
	n := 0
	var s float32
	if useAVX2 {
		n = len(a) &^ 7
		s = tanhAddDotAVX2(a[:n], b[:n], v[:n])
	}
	for j := n; j < len(a); j++ {
		s += v[j] * Tanh(a[j]+b[j])
	}
	return s
}

// SigmoidInPlace applies the logistic function to every element of x, as
// (1 + tanh(x/2)) / 2 on the vector tanh.
func SigmoidInPlace(x []float32) {
	for i := range x {
		x[i] *= 0.5
	}
	TanhInPlace(x)
	for i, v := range x {
		x[i] = 0.5 + 0.5*v
	}
}

// Max returns the largest element of x, which must not be empty.
func Max(x []float32) float32 {
	n := 0 // x[:n] goes through the vector kernel
	if useAVX2 {
		n = len(x) &^ 7
	}
	m := x[0]
	if n > 0 {
		m = maxAVX2(x[:n])
	}
	for _, v := range x[n:] {
		m = max(m, v)
	}
	return m
}

// ExpShift sets x[i] = e^(x[i]-m) and returns the sum of the results.
func ExpShift(x []float32, m float32) float64 {
	n := 0
	var s float64
	if useAVX2 {
		n = len(x) &^ 7
		s = float64(expSumAVX2(x[:n], m))
	}
	for i := n; i < len(x); i++ {
		x[i] = Exp32(x[i] - m)
		s += float64(x[i])
	}
	return s
}

// Scale multiplies every element of x by a.
func Scale(x []float32, a float32) {
	n := 0
	if useAVX2 {
		n = len(x) &^ 7
		scaleAVX2(x[:n], a)
	}
	for i := n; i < len(x); i++ {
		x[i] *= a
	}
}

// SoftmaxInPlace turns scores into probabilities, stably.
func SoftmaxInPlace(x []float32) {
	if len(x) == 0 {
		return
	}
	Scale(x, float32(1/ExpShift(x, Max(x))))
}

// LSTMCell applies one LSTM step given the pre-activation gates (4H, in the
// order input, forget, cell, output): c = f⊙c + i⊙g; h = o⊙tanh(c).
// h and c are updated in place; gates is overwritten. With AVX2 the
// nonlinearities run on the vector tanh (σ(x) = (1 + tanh(x/2)) / 2).
func LSTMCell(gates, h, c []float32) {
	n := len(h)
	if useAVX2 {
		gates, c = gates[:4*n], c[:n]
		SigmoidInPlace(gates[:2*n])
		TanhInPlace(gates[2*n : 3*n])
		SigmoidInPlace(gates[3*n:])
		i, f, g, o := gates[:n], gates[n:2*n], gates[2*n:3*n], gates[3*n:]
		for j := range c {
			c[j] = f[j]*c[j] + i[j]*g[j]
		}
		copy(h, c)
		TanhInPlace(h)
		for j := range h {
			h[j] *= o[j]
		}
		return
	}
	lstmCellGo(gates, h, c)
}

func lstmCellGo(gates, h, c []float32) {
	n := len(h)
	for j := 0; j < n; j++ {
		i := Sigmoid(gates[j])
		f := Sigmoid(gates[n+j])
		g := Tanh(gates[2*n+j])
		o := Sigmoid(gates[3*n+j])
		c[j] = f*c[j] + i*g
		h[j] = o * Tanh(c[j])
	}
}

// TopK returns the indices of the k largest values of p, largest first
// (the first of equal values first).
func TopK(p []float32, k int) []int {
	k = max(0, min(k, len(p)))
	idx := make([]int, 0, k)
	if k == 0 {
		return idx
	}
	for i := 0; i < len(p); i++ {
		v := p[i]
		if len(idx) < k {
			idx = append(idx, i)
		} else if v > p[idx[k-1]] {
			idx[k-1] = i
		} else {
			// Skip ahead to the next value that enters the list: with
			// AVX2, eight or sixteen values at a time. Once the list
			// holds the first k values, few of the rest enter it.
			if useAVX2 && len(p)-i >= 8 {
				j := aboveAVX2(p[i:], p[idx[k-1]])
				if j < 0 {
					i += (len(p)-i)&^7 - 1
				} else {
					i += j - 1
				}
			}
			continue
		}
		for j := len(idx) - 1; j > 0 && p[idx[j]] > p[idx[j-1]]; j-- {
			idx[j], idx[j-1] = idx[j-1], idx[j]
		}
	}
	return idx
}
