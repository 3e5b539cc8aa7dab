package train

import (
	"math/rand/v2"

	"attention/model/caption"
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

// Gradients computes the loss on batch and every parameter's gradient
// without dropout and without updating anything: what a parity check
// compares with another implementation. The gradients are copies, in
// Params.List order (nil for a parameter the model does not use).
func (s *Stepper) Gradients(batch []translate.Example) (float32, [][]float32, error) {
	s.g.fill(s.c, batch, 0, s.rng)
	loss, err := s.g.run()
	if err != nil {
		return 0, nil, err
	}
	return loss, copyGrads(s.g.grad, len(s.p.List())), nil
}

// copyGrads copies the n gradients grad returns (nil stays nil).
func copyGrads(grad func(int) []float32, n int) [][]float32 {
	grads := make([][]float32, n)
	for i := range grads {
		if g := grad(i); g != nil {
			grads[i] = append([]float32(nil), g...)
		}
	}
	return grads
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

// CaptionStepper runs caption training steps for one batch shape, as
// Caption does (clipping at 5): forward, backward and an Adam update.
// Benchmarks time it.
type CaptionStepper struct {
	c     caption.Config
	p     *caption.Params
	reg   Reg
	g     *capGraph
	opt   *nn.Adam
	grads [][]float32
	rng   *rand.Rand
}

// NewCaptionStepper unrolls the caption training graph for batch B and T
// steps (the words and </s>) over p, with the regulariser reg.
func NewCaptionStepper(c caption.Config, p *caption.Params, reg Reg, B, T int) (*CaptionStepper, error) {
	g, err := buildCaptionGraph(c, p, reg, B, T)
	if err != nil {
		return nil, err
	}
	return &CaptionStepper{c: c, p: p, reg: reg, g: g, opt: nn.NewAdam(p.List()), grads: make([][]float32, len(p.List())),
		rng: rand.New(rand.NewPCG(1, 2))}, nil
}

// Step trains on batch, whose captions must fit the stepper's shape, and
// returns the loss and the number of target words.
func (s *CaptionStepper) Step(batch []caption.Example, lr, dropout float64) (float32, int, error) {
	return captionStep(s.g, s.c, s.reg, s.p, s.opt, s.grads, batch, lr, dropout, 5, s.rng)
}

// captionStep is one caption update: fill, forward, backward, Adam.
func captionStep(g *capGraph, c caption.Config, reg Reg, p *caption.Params, opt *nn.Adam, grads [][]float32, batch []caption.Example, lr, dropout, clip float64, rng *rand.Rand) (float32, int, error) {
	ntok := g.fill(c, reg, batch, dropout, rng)
	loss, _, _, _, err := g.run()
	if err != nil {
		return 0, 0, err
	}
	for i := range grads {
		grads[i] = g.grad(i)
	}
	opt.Step(p.List(), grads, lr, clip)
	return loss, ntok, nil
}

// Gradients is Stepper.Gradients for captions: the loss (likelihood and
// regulariser) and every parameter's gradient without dropout, updating
// nothing.
func (s *CaptionStepper) Gradients(batch []caption.Example) (float32, [][]float32, error) {
	s.g.fill(s.c, s.reg, batch, 0, s.rng)
	loss, _, _, _, err := s.g.run()
	if err != nil {
		return 0, nil, err
	}
	return loss, copyGrads(s.g.grad, len(s.p.List())), nil
}
