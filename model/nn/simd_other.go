//go:build !amd64

package nn

var useAVX2 = false

func axpyAVX2(a float32, x, y []float32) { axpyGo(a, x, y) }

func dotAVX2(a, b []float32) float32 { return dotGo(a, b) }
