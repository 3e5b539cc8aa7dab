package nn

import (
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Blocks far into a large matrix, where gorgonia's Slice went wrong, and
// their gradient: d/dx Σ(w ⊙ block(x)) is w scattered into the block.
func TestBlock(t *testing.T) {
	R, C := 600, 300
	xv := make([]float32, R*C)
	for i := range xv {
		xv[i] = float32(i % 977)
	}
	for _, tc := range []struct{ axis, start, n int }{{0, 512, 16}, {0, 0, 3}, {1, 256, 20}, {1, 290, 10}} {
		var x, out *G.Node
		var grads G.Nodes
		g, err := Build("block", func(g *Graph) {
			x = g.Param(&Param{Name: "x", Shape: []int{R, C}, Data: xv})
			out = g.Must(Block(x, tc.axis, tc.start, tc.n))
			s := out.Shape()
			wv := make([]float32, s[0]*s[1])
			for i := range wv {
				wv[i] = float32(i + 1)
			}
			w := g.Input("w", tensor.New(tensor.WithShape(s...), tensor.WithBacking(wv)))
			grads, _ = G.Grad(g.Sum(g.Had(out, w)), x)
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := g.Machine().RunAll(); err != nil {
			t.Fatal(err)
		}
		got := out.Value().Data().([]float32)
		gx := grads[0].Value().Data().([]float32)
		s := out.Shape()
		k := 0
		for r := 0; r < s[0]; r++ {
			for c := 0; c < s[1]; c++ {
				sr, sc := r, c
				if tc.axis == 0 {
					sr += tc.start
				} else {
					sc += tc.start
				}
				if got[k] != xv[sr*C+sc] || gx[sr*C+sc] != float32(k+1) {
					t.Fatalf("%+v: (%d,%d) = %v, want %v; grad %v, want %d", tc, r, c, got[k], xv[sr*C+sc], gx[sr*C+sc], k+1)
				}
				k++
			}
		}
		var sum float64
		for _, v := range gx {
			sum += float64(v)
		}
		if want := float64(k * (k + 1) / 2); sum != want {
			t.Fatalf("%+v: gradient outside the block (sum %v, want %v)", tc, sum, want)
		}
	}
}
