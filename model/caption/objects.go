package caption

import "math"

// Entropy is the attention's entropy in nats (log R for uniform).
func Entropy(att []float32) float64 {
	var h float64
	for _, a := range att {
		if a > 0 {
			h -= float64(a) * math.Log(float64(a))
		}
	}
	return h
}
