package train

import (
	"math"
	"slices"
	"testing"

	"attention/model/nn"
)

// checkStepper checks what cmd/bench's training parity relies on: that
// Gradients gives the loss the serving path computes (want), a gradient
// for every weight, and changes no weight; and that Step, without
// dropout, reports that same loss before it updates the weights.
func checkStepper(t *testing.T, params []*nn.Param, want float64, grads func() (float32, [][]float32, error), step func() (float32, error)) {
	t.Helper()
	before := make([][]float32, len(params))
	for i, q := range params {
		before[i] = slices.Clone(q.Data)
	}
	loss, gs, err := grads()
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(float64(loss)-want) > 1e-5*want {
		t.Fatalf("Gradients: loss %v, the serving path %v", loss, want)
	}
	for i, q := range params {
		if len(gs[i]) != len(q.Data) {
			t.Fatalf("%s: %d gradient values for %d weights", q.Name, len(gs[i]), len(q.Data))
		}
		if !slices.Equal(q.Data, before[i]) {
			t.Fatalf("Gradients changed %s", q.Name)
		}
	}
	again, err := step()
	if err != nil {
		t.Fatal(err)
	}
	if again != loss {
		t.Fatalf("Step without dropout: loss %v, Gradients %v", again, loss)
	}
	if slices.Equal(params[len(params)-1].Data, before[len(params)-1]) {
		t.Fatal("Step did not update the weights")
	}
}

func TestStepperGradients(t *testing.T) {
	m := tinyTranslator(true, 5)
	batch := tinyPairs()
	st, err := NewStepper(m.Cfg, m.P, len(batch), 4, 5)
	if err != nil {
		t.Fatal(err)
	}
	checkStepper(t, m.P.List(), translationLoss(m, batch),
		func() (float32, [][]float32, error) { return st.Gradients(batch) },
		func() (float32, error) { l, _, err := st.Step(batch, 1e-2, 0); return l, err })
}

func TestCaptionStepperGradients(t *testing.T) {
	m := tinyCaptioner(true, 6)
	batch := tinyCaptions(m.Cfg)
	reg := Reg{Lambda: 0.5, TauPerWord: true}
	st, err := NewCaptionStepper(m.Cfg, m.P, reg, len(batch), 5)
	if err != nil {
		t.Fatal(err)
	}
	checkStepper(t, m.P.List(), captionLoss(t, m, reg, batch, len(batch)),
		func() (float32, [][]float32, error) { return st.Gradients(batch) },
		func() (float32, error) { l, _, err := st.Step(batch, 1e-2, 0); return l, err })
}
