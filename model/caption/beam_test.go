package caption

import (
	"context"
	"math"
	"testing"

	"attention/model"
	"attention/model/search"
)

// stepOnly hides StepAll, so beam search steps the hypotheses one by one.
type stepOnly struct{ search.Decoder[*state] }

// Beam search over the batched step (one pass over the weights for all
// hypotheses) writes what it writes stepping them one by one. The model
// has float16 weights, so the batched kernels run.
func TestBeamBatchedMatchesOneByOne(t *testing.T) {
	m, feat := benchModel(t)
	e, err := m.Encode(feat)
	if err != nil {
		t.Fatal(err)
	}
	for _, beam := range []int{2, 5, 10} {
		opts := model.Options{Beam: beam, MaxLen: 8, TopK: 3}
		var batched, single []model.Step
		for s, err := range e.Decode(context.Background(), opts) {
			if err != nil {
				t.Fatal(err)
			}
			batched = append(batched, s)
		}
		for s, err := range search.Decode(context.Background(), stepOnly{decoder{e: e, sc: e.newScratch()}}, opts) {
			if err != nil {
				t.Fatal(err)
			}
			single = append(single, s)
		}
		if len(batched) != len(single) || len(single) == 0 {
			t.Fatalf("beam %d: %d steps batched, %d one by one", beam, len(batched), len(single))
		}
		for i, b := range batched {
			s := single[i]
			if b.Token != s.Token || math.Abs(float64(b.Prob-s.Prob)) > 1e-6 {
				t.Fatalf("beam %d step %d: batched %q %v, one by one %q %v", beam, i, b.Token, b.Prob, s.Token, s.Prob)
			}
			for j := range b.Attention {
				if math.Abs(float64(b.Attention[j]-s.Attention[j])) > 1e-6 {
					t.Fatalf("beam %d step %d: attention differs at %d: %v, one by one %v", beam, i, j, b.Attention[j], s.Attention[j])
				}
			}
		}
	}
}
