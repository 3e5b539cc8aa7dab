package train

import (
	"testing"

	"attention/model/nn"

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
			x = g.Param(&nn.Param{Name: "x", Shape: []int{R, C}, Data: xv})
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

// Concat of many pieces, along rows and along columns, far past index 256
// where gorgonia's own Concat cut its gradients wrongly: the value is the
// pieces side by side, and d/dx_i Σ(w ⊙ concat) is piece i's part of w.
func TestConcat(t *testing.T) {
	for _, axis := range []int{0, 1} {
		const n, rows, cols = 12, 64, 96 // 12 pieces: offsets up to 1056 on either axis
		var xs []*G.Node
		var out *G.Node
		var grads G.Nodes
		vals := make([][]float32, n)
		g, err := Build("concat", func(g *Graph) {
			for i := range n {
				vals[i] = make([]float32, rows*cols)
				for j := range vals[i] {
					vals[i][j] = float32(i*100000 + j)
				}
				xs = append(xs, g.Param(&nn.Param{Name: "x" + string(rune('a'+i)), Shape: []int{rows, cols}, Data: vals[i]}))
			}
			out = g.Must(Concat(axis, xs...))
			s := out.Shape()
			wv := make([]float32, s[0]*s[1])
			for i := range wv {
				wv[i] = float32(i + 1)
			}
			w := g.Input("w", tensor.New(tensor.WithShape(s...), tensor.WithBacking(wv)))
			grads, _ = G.Grad(g.Sum(g.Had(out, w)), xs...)
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := g.Machine().RunAll(); err != nil {
			t.Fatal(err)
		}
		s := out.Shape()
		got := out.Value().Data().([]float32)
		for i := range n {
			gx := grads[i].Value().Data().([]float32)
			for r := range rows {
				for c := range cols {
					or, oc := r, c
					if axis == 0 {
						or += i * rows
					} else {
						oc += i * cols
					}
					k := or*s[1] + oc
					if got[k] != vals[i][r*cols+c] || gx[r*cols+c] != float32(k+1) {
						t.Fatalf("axis %d piece %d (%d,%d): value %v, want %v; gradient %v, want %d",
							axis, i, r, c, got[k], vals[i][r*cols+c], gx[r*cols+c], k+1)
					}
				}
			}
		}
	}
}
