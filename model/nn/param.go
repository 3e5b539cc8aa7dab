package nn

import "math/rand/v2"

// Param is one named weight array with its shape; training graphs and the
// serving path share its Data.
type Param struct {
	Name  string
	Shape []int
	Data  []float32
}

// NewParam allocates a zeroed parameter.
func NewParam(name string, shape ...int) *Param {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return &Param{Name: name, Shape: shape, Data: make([]float32, n)}
}

// Count is the number of weights in ps.
func Count(ps []*Param) int {
	n := 0
	for _, q := range ps {
		n += len(q.Data)
	}
	return n
}

// Jitter adds Gaussian noise of standard deviation sd to every weight of
// ps: random models for tests, whose every path should carry gradient.
func Jitter(ps []*Param, rng *rand.Rand, sd float64) {
	for _, q := range ps {
		for i := range q.Data {
			q.Data[i] += float32(rng.NormFloat64() * sd)
		}
	}
}
