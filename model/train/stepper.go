package train

import (
	"math/rand/v2"

	"attention/model/nn"
	"attention/model/translate"
)

// Stepper runs translation training steps for one batch shape, exactly as Translation does:
// forward, backward and an Adam update. Benchmarks time it.
type Stepper struct {
	c     translate.Config
	p     *translate.Params
	g     *trGraph
	opt   *nn.Adam
	grads [][]float32
	rng   *rand.Rand
}

// NewStepper unrolls the training graph for batch B, source length S and
// target length T (including </s>) over p.
func NewStepper(c translate.Config, p *translate.Params, B, S, T int) (*Stepper, error) {
	g, err := buildTranslateGraph(c, p, B, S, T)
	if err != nil {
		return nil, err
	}
	return &Stepper{c: c, p: p, g: g, opt: nn.NewAdam(p.List()), grads: make([][]float32, len(p.List())),
		rng: rand.New(rand.NewPCG(1, 2))}, nil
}

// Step trains on batch, whose sentences must fit the stepper's shape, and
// returns the loss and the number of target tokens.
func (s *Stepper) Step(batch []translate.Example, lr, dropout float64) (float32, int, error) {
	return trainStep(s.g, s.c, s.p, s.opt, s.grads, batch, lr, dropout, 5, s.rng)
}

// trainStep is one update: fill, forward, backward, Adam.
func trainStep(g *trGraph, c translate.Config, p *translate.Params, opt *nn.Adam, grads [][]float32, batch []translate.Example, lr, dropout, clip float64, rng *rand.Rand) (float32, int, error) {
	ntok := g.fill(c, batch, dropout, rng)
	loss, err := g.run()
	if err != nil {
		return 0, 0, err
	}
	for i := range grads {
		grads[i] = g.grad(i)
	}
	opt.Step(p.List(), grads, lr, clip)
	return loss, ntok, nil
}
