package translate

import (
	"bytes"
	"context"
	"math"
	"strings"
	"testing"

	"attention/model"
	"attention/model/checkpoint"
	"attention/model/search"
)

func collect(t *testing.T, e *Encoded, opts model.Options) []model.Step {
	t.Helper()
	var out []model.Step
	for s, err := range e.Decode(context.Background(), opts) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

func TestDecodeSteps(t *testing.T) {
	m := tinyModel(true, 11)
	e := m.Encode([]string{"e", "f", "zzz", "g"})
	if src := e.Source(); !src.Unknown[2] || src.Unknown[0] || src.Len() != 4 {
		t.Fatalf("source %+v", src)
	}
	greedy := collect(t, e, model.Options{Beam: 1, MaxLen: 12, TopK: 3})
	if len(greedy) == 0 {
		t.Fatal("no steps")
	}
	for i, s := range greedy {
		var sum float64
		for _, a := range s.Attention {
			sum += float64(a)
		}
		if len(s.Attention) != 4 || math.Abs(sum-1) > 1e-5 {
			t.Fatalf("step %d attention %v", i, s.Attention)
		}
		if len(s.TopK) != 3 || s.TopK[0].Prob < s.TopK[1].Prob || s.Index != i {
			t.Fatalf("step %d: %+v", i, s)
		}
		if !s.Unknown && s.TopK[0].Token != s.Token {
			t.Fatalf("greedy step %d chose %q but the top word is %q", i, s.Token, s.TopK[0].Token)
		}
	}
	// A beam of width 1 is greedy search.
	b1 := collect(t, e, model.Options{Beam: 1, MaxLen: 12, TopK: 3})
	if len(b1) != len(greedy) {
		t.Fatalf("repeat decode differs: %d vs %d steps", len(b1), len(greedy))
	}
	// A wider beam finds a hypothesis at least as likely, length-penalised.
	score := func(steps []model.Step) float64 {
		s := 0.0
		for _, st := range steps {
			s += math.Log(float64(st.Prob))
		}
		return s
	}
	wide := collect(t, e, model.Options{Beam: 4, MaxLen: 12, TopK: 3})
	if len(wide) == 0 {
		t.Fatal("beam: no steps")
	}
	t.Logf("greedy %d steps logp %.3f; beam %d steps logp %.3f", len(greedy), score(greedy), len(wide), score(wide))
}

func TestDecodeStopsOnCancel(t *testing.T) {
	m := tinyModel(true, 5)
	e := m.Encode([]string{"e", "f"})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	n := 0
	var last error
	for _, err := range e.Decode(ctx, model.Options{Beam: 1, MaxLen: 50}) {
		n++
		last = err
	}
	if n != 1 || last == nil {
		t.Fatalf("cancelled decode yielded %d items, last error %v", n, last)
	}
}

func TestCheckpointRoundTrip(t *testing.T) {
	m := tinyModel(true, 3)
	f, err := ToCheckpoint(m.Cfg, m.P, m.Src.Words(), m.Tgt.Words(), map[string]any{"title": "tiny"}, true)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := checkpoint.Write(&buf, f); err != nil {
		t.Fatal(err)
	}
	back, err := Load("tiny", buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if back.Title != "tiny" || back.P.Count() != m.P.Count() || !back.Cfg.Attention {
		t.Fatalf("loaded %+v", back.Info())
	}
	for i, q := range m.P.List() {
		for j, v := range q.Data {
			if d := math.Abs(float64(back.P.List()[i].Data[j] - v)); d > 2e-3*math.Max(1, math.Abs(float64(v))) {
				t.Fatalf("%s[%d]: %v -> %v", q.Name, j, v, back.P.List()[i].Data[j])
			}
		}
	}
	if _, err := Load("bad", []byte("not a model")); err == nil {
		t.Fatal("want an error for a non-model file")
	}
}

// stepOnly hides StepAll, so beam search steps the hypotheses one by one.
type stepOnly struct{ search.Decoder[*state] }

// Beam search over the batched step (one pass over the weights for all
// hypotheses) writes what it writes stepping them one by one. The model
// has float16 weights, so the batched kernels run.
func TestBeamBatchedMatchesOneByOne(t *testing.T) {
	m := benchModel()
	e := m.Encode(strings.Fields("a man in a blue shirt is riding a bike down the street"))
	for _, beam := range []int{2, 5, 10} {
		opts := model.Options{Beam: beam, MaxLen: 12, TopK: 3}
		batched := collect(t, e, opts)
		var single []model.Step
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
					t.Fatalf("beam %d step %d: attention %v, one by one %v", beam, i, b.Attention, s.Attention)
				}
			}
		}
	}
}

func TestAsSentence(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"the red car is fast", "The red car is fast ."},
		{"The red car is fast .", "The red car is fast ."},
		{"where is it ?", "Where is it ?"},
		{"élan vital", "Élan vital ."},
		{"3 cats", "3 cats ."},
		{"a \" quote \"", "A \" quote \""},
		{"Tom", "Tom ."},
	} {
		in := strings.Fields(c.in)
		got := strings.Join(AsSentence(in), " ")
		if got != c.want {
			t.Errorf("AsSentence(%q) = %q, want %q", c.in, got, c.want)
		}
		if strings.Join(in, " ") != c.in {
			t.Errorf("AsSentence changed its input %q", c.in)
		}
	}
}

// tinyModel is a model small enough to check by hand, with weights large
// enough that every path matters.
func tinyModel(att bool, seed uint64) *Model {
	return Random(Config{SrcLang: "en", TgtLang: "de", SrcVocab: 13, TgtVocab: 11, Emb: 4, EncHidden: 3, DecHidden: 5, Att: 4, PreOut: 6, Attention: att}, seed, 0.3)
}
