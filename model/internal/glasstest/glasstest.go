// Package glasstest checks a model's what-if operations against its own
// decoding, the same way for every model: overriding a step's attention
// with the model's own weights changes nothing, and the glass box's
// numbers recompute the step.
package glasstest

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"attention/model"
)

// Source is a prepared source whose steps can be opened.
type Source interface {
	model.Prepared
	model.Inspector
}

func decode(t *testing.T, p model.Prepared, opts model.Options) []model.Step {
	t.Helper()
	var out []model.Step
	for st, err := range p.Decode(context.Background(), opts) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, st)
	}
	return out
}

func ids(steps []model.Step) []int {
	out := make([]int, len(steps))
	for i, s := range steps {
		out[i] = s.TokenID
	}
	return out
}

// Check runs the checks on p, which must decode at least two words greedily.
func Check(t *testing.T, p Source) {
	own := decode(t, p, model.Options{Beam: 1, MaxLen: 8, TopK: 5})
	if len(own) < 2 {
		t.Fatalf("the model wrote %d words: the checks need two", len(own))
	}
	n := len(own[0].Attention)
	for step := range own {
		// Overriding with the model's own weights reproduces its decode.
		re := decode(t, p, model.Options{Beam: 1, MaxLen: 8, TopK: 5, Force: ids(own[:step]),
			Override: &model.Override{Step: step, Weights: own[step].Attention}})
		if len(re) != len(own) {
			t.Fatalf("step %d overridden with its own weights: %d words, want %d", step, len(re), len(own))
		}
		for i := range own {
			if re[i].TokenID != own[i].TokenID || re[i].Prob != own[i].Prob {
				t.Fatalf("step %d overridden with its own weights: word %d is %q (%g), want %q (%g)", step, i, re[i].Token, re[i].Prob, own[i].Token, own[i].Prob)
			}
		}
		// The glass box recomputes the step.
		g, err := p.Inspect(ids(own[:step]), nil, 5)
		if err != nil {
			t.Fatal(err)
		}
		if g.Step != step {
			t.Fatalf("step %d: glass of step %d", step, g.Step)
		}
		// The word the decode wrote is among the glass's most probable
		// (before the decode's own rules: a caption never writes the
		// unknown-word token), with the same probability.
		found := false
		for _, a := range g.TopK {
			if a.ID == own[step].TokenID {
				found = math.Abs(float64(a.Prob-own[step].Prob)) <= 1e-5
			}
		}
		if !found {
			t.Fatalf("step %d: glass top words %v, the decode wrote %q (%g)", step, g.TopK, own[step].Token, own[step].Prob)
		}
		soft := softmax(g.Scores)
		for i := range g.Weights {
			if math.Abs(float64(soft[i]-g.Weights[i])) > 1e-5 || math.Abs(float64(g.Weights[i]-own[step].Attention[i])) > 1e-5 || g.Used[i] != g.Weights[i] {
				t.Fatalf("step %d position %d: softmax(scores) %g, weights %g, used %g, the decode's %g", step, i, soft[i], g.Weights[i], g.Used[i], own[step].Attention[i])
			}
		}
		for i, l := range g.Logits {
			if p := float32(math.Exp(float64(l.Prob - g.LogSumExp))); math.Abs(float64(p-g.TopK[i].Prob)) > 1e-5 || l.ID != g.TopK[i].ID {
				t.Fatalf("step %d: exp(logit - log-sum-exp) = %g for %q, top-k says %g for %q", step, p, l.Token, g.TopK[i].Prob, g.TopK[i].Token)
			}
		}
	}
	// Attention set elsewhere changes the step, and the weights used are
	// the ones given.
	step := 1
	base, err := p.Inspect(ids(own[:step]), nil, 5)
	if err != nil {
		t.Fatal(err)
	}
	w := make([]float32, n)
	least := 0
	for i, v := range base.Weights {
		if v < base.Weights[least] {
			least = i
		}
	}
	w[least] = 1
	moved, err := p.Inspect(ids(own[:step]), w, 5)
	if err != nil {
		t.Fatal(err)
	}
	if moved.Used[least] != 1 || moved.Weights[least] != base.Weights[least] || moved.TopK[0].Prob == base.TopK[0].Prob {
		t.Fatalf("all attention on position %d: used %v, top %v (was %v)", least, moved.Used, moved.TopK[0], base.TopK[0])
	}
	// Weights that are not a distribution are refused, as input errors.
	for _, bad := range [][]float32{w[:n-1], append(make([]float32, n-1), 2), append(make([]float32, n-1), float32(math.NaN())), make([]float32, n)} {
		if _, err := p.Inspect(nil, bad, 5); !errors.Is(err, model.ErrInvalidInput) {
			t.Errorf("weights %v: %v, want an invalid-input error", bad, err)
		}
		for _, err := range p.Decode(context.Background(), model.Options{Override: &model.Override{Weights: bad}}) {
			if !errors.Is(err, model.ErrInvalidInput) {
				t.Errorf("decode with weights %v: %v, want an invalid-input error", bad, err)
			}
			break
		}
	}
	if _, err := p.Inspect([]int{-1}, nil, 5); !errors.Is(err, model.ErrInvalidInput) {
		t.Errorf("prefix with id -1: %v, want an invalid-input error", err)
	}
	// An override at a step the output never reaches is an input error at
	// the end of the decode, after its steps.
	var last error
	steps := 0
	for _, err := range p.Decode(context.Background(), model.Options{MaxLen: len(own), Override: &model.Override{Step: len(own) + 5, Weights: w}}) {
		if err != nil {
			last = err
			break
		}
		steps++
	}
	if !errors.Is(last, model.ErrInvalidInput) || steps == 0 || !strings.Contains(last.Error(), "override") {
		t.Errorf("override at step %d of a %d-word output: %v after %d steps, want the steps and then an invalid-input error", len(own)+5, len(own), last, steps)
	}
}

func softmax(x []float32) []float32 {
	m := math.Inf(-1)
	for _, v := range x {
		m = math.Max(m, float64(v))
	}
	var s float64
	out := make([]float32, len(x))
	for i, v := range x {
		e := math.Exp(float64(v) - m)
		out[i], s = float32(e), s+e
	}
	for i := range out {
		out[i] /= float32(s)
	}
	return out
}
