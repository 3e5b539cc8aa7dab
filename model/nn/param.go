package nn

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
