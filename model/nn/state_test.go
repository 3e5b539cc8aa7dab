package nn

import (
	"math"
	"path/filepath"
	"testing"

	"attention/model/checkpoint"
)

// The moving average follows avg += (1-decay)(w - avg) after each step,
// and a training state carries it over to a resumed run.
func TestAdamAverage(t *testing.T) {
	p := NewParam("w", 2)
	p.Data[0], p.Data[1] = 1, -1
	opt := NewAdam([]*Param{p})
	opt.Average([]*Param{p}, 0.5)
	want := []float64{1, -1}
	for range 3 {
		opt.Step([]*Param{p}, [][]float32{{1, -1}}, 0.1, 0)
		for j := range want {
			want[j] += 0.5 * (float64(p.Data[j]) - want[j])
		}
	}
	for j, w := range want {
		if math.Abs(float64(opt.Avg[0][j])-w) > 1e-6 {
			t.Fatalf("avg[%d] = %v, want %v", j, opt.Avg[0][j], w)
		}
		if math.Abs(float64(opt.Avg[0][j]-p.Data[j])) < 0.05 {
			t.Fatalf("avg[%d] = %v is the weight itself (%v): no averaging", j, opt.Avg[0][j], p.Data[j])
		}
	}

	path := filepath.Join(t.TempDir(), "state.ckpt")
	f := &checkpoint.File{Kind: "test", Config: []byte("{}"), Tensors: Tensors([]*Param{p}, false)}
	AddTrainState(f, []*Param{p}, opt, LoopState{Epoch: 2})
	if err := checkpoint.Save(path, f); err != nil {
		t.Fatal(err)
	}
	g, err := checkpoint.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	back, st, err := ReadTrainState(g, []*Param{p})
	if err != nil {
		t.Fatal(err)
	}
	if st.Epoch != 2 || back.Avg == nil || back.Avg[0][0] != opt.Avg[0][0] || back.Avg[0][1] != opt.Avg[0][1] {
		t.Fatalf("resumed average %v (epoch %d), saved %v", back.Avg, st.Epoch, opt.Avg)
	}
	back.Average([]*Param{p}, 0.5) // a resumed run keeps its average
	if back.Avg[0][0] != opt.Avg[0][0] {
		t.Fatalf("Average on a resumed state restarted the average")
	}

	plain := NewAdam([]*Param{p})
	f = &checkpoint.File{Kind: "test", Config: []byte("{}"), Tensors: Tensors([]*Param{p}, false)}
	AddTrainState(f, []*Param{p}, plain, LoopState{})
	if back, _, err = ReadTrainState(f, []*Param{p}); err != nil || back.Avg != nil {
		t.Fatalf("state without an average read back with one (%v, %v)", back.Avg, err)
	}
}
