package nn

import (
	"math"
	"math/rand/v2"
)

// Adam is the Adam optimiser with global-norm gradient clipping, over a
// fixed list of parameters.
type Adam struct {
	M, V [][]float32
	T    int
	// Avg, when set (Average), is an exponential moving average of the
	// weights, updated after every step: the weights to evaluate and
	// ship, steadier than the last step's.
	Avg      [][]float32
	AvgDecay float32
}

// Average starts keeping a moving average of ps with the given decay per
// step (e.g. 0.999: about the last thousand steps), from their current
// values. Averages read from a training state are kept.
func (a *Adam) Average(ps []*Param, decay float64) {
	a.AvgDecay = float32(decay)
	if a.Avg != nil {
		return
	}
	for _, q := range ps {
		a.Avg = append(a.Avg, append([]float32(nil), q.Data...))
	}
}

// NewAdam makes zeroed moments for ps.
func NewAdam(ps []*Param) *Adam {
	a := &Adam{}
	for _, q := range ps {
		a.M = append(a.M, make([]float32, len(q.Data)))
		a.V = append(a.V, make([]float32, len(q.Data)))
	}
	return a
}

// Step applies one update; grads[i] may be nil for a parameter that takes
// no part. It returns the gradient norm before clipping.
func (a *Adam) Step(ps []*Param, grads [][]float32, lr, clip float64) (norm float64) {
	for _, g := range grads {
		norm += sumSquares(g)
	}
	norm = math.Sqrt(norm)
	scale := float32(1)
	if clip > 0 && norm > clip {
		scale = float32(clip / norm)
	}
	a.T++
	const b1, b2, eps = 0.9, 0.999, 1e-8
	c1 := 1 - math.Pow(b1, float64(a.T))
	c2 := 1 - math.Pow(b2, float64(a.T))
	// Algorithm 1 of Kingma and Ba (as PyTorch's Adam):
	// w -= lr·m̂/(sqrt(v̂) + ε) with m̂ = m/c1, v̂ = v/c2, computed as
	// lr·sqrt(c2)/c1 · m/(sqrt(v) + ε·sqrt(c2)). (The paper's faster
	// variant, and TensorFlow's, add ε to sqrt(v) itself: an update 30
	// times smaller at the first step for a weight whose gradient is
	// about 1e-8, which made 20 steps on one batch drift from PyTorch's
	// by 7e-3 of the loss.)
	stepSize := float32(lr * math.Sqrt(c2) / c1)
	epsT := float32(eps * math.Sqrt(c2))
	for i, q := range ps {
		g := grads[i]
		if g == nil {
			continue
		}
		m, v, w := a.M[i][:len(g)], a.V[i][:len(g)], q.Data[:len(g)]
		n := 0 // g[:n] goes through the vector kernel
		if useAVX2 {
			n = len(g) &^ 7
			adamAVX2(g[:n], m[:n], v[:n], w[:n], scale, stepSize, epsT)
		}
		for j := n; j < len(g); j++ {
			x := g[j] * scale
			m[j] = b1*m[j] + (1-b1)*x
			v[j] = b2*v[j] + (1-b2)*x*x
			w[j] -= stepSize * m[j] / (float32(math.Sqrt(float64(v[j]))) + epsT)
		}
	}
	if a.Avg != nil {
		k := 1 - a.AvgDecay
		for i, q := range ps {
			avg := a.Avg[i]
			for j, w := range q.Data {
				avg[j] += k * (w - avg[j])
			}
		}
	}
	return norm
}

func sumSquares(x []float32) float64 {
	n := 0
	var s float64
	if useAVX2 {
		n = len(x) &^ 7
		s = sumSquaresAVX2(x[:n])
	}
	for _, v := range x[n:] {
		s += float64(v) * float64(v)
	}
	return s
}

// FillDropout writes an inverted-dropout mask: 0 with probability rate,
// else 1/(1-rate); all ones when rate is 0 or rng is nil.
func FillDropout(m []float32, rate float64, rng *rand.Rand) {
	if rate <= 0 || rng == nil {
		for i := range m {
			m[i] = 1
		}
		return
	}
	keep := float32(1 / (1 - rate))
	for i := range m {
		if rng.Float64() < rate {
			m[i] = 0
		} else {
			m[i] = keep
		}
	}
}
