package nn

import "testing"

func TestAverage(t *testing.T) {
	base := []*Param{NewParam("w", 2, 2), NewParam("b", 3)}
	opt := NewAdam(base)
	var all []Replica
	for w := range 3 {
		r := Clone(base, opt)
		for i, q := range r.Params {
			for j := range q.Data {
				q.Data[j] = float32(w*10 + i + j)
				r.Opt.M[i][j] = float32(w)
				r.Opt.V[i][j] = float32(w * w)
			}
		}
		r.Opt.T = 5 + w
		all = append(all, r)
	}
	if &all[0].Params[0].Data[0] == &base[0].Data[0] {
		t.Fatal("Clone shares the weights' array")
	}
	// Replica 2 sat the round out: the mean is over 0 and 1 only.
	Average(all, all[:2])
	for w, r := range all {
		for i, q := range r.Params {
			for j, x := range q.Data {
				if want := float32(5 + i + j); x != want {
					t.Fatalf("replica %d %s[%d] = %v, want %v", w, q.Name, j, x, want)
				}
				if m, v := r.Opt.M[i][j], r.Opt.V[i][j]; m != 0.5 || v != 0.5 {
					t.Fatalf("replica %d moments %v %v, want 0.5 0.5", w, m, v)
				}
			}
		}
		if r.Opt.T != 6 {
			t.Fatalf("replica %d step count %d, want 6", w, r.Opt.T)
		}
	}
}
