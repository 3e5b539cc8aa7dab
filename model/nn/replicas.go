package nn

import (
	"runtime"
	"sync"
)

// Replica is one data-parallel worker's copy of the weights and its
// optimiser. Training with replicas is local SGD: each replica takes a few
// ordinary steps on its own batches, then every replica's weights and Adam
// moments are replaced by their mean (Average). Each step still sees a
// batch of the usual size, so the learning rate that suits one worker
// suits many.
type Replica struct {
	Params []*Param
	Opt    *Adam
}

// Clone copies ps and opt into new arrays.
func Clone(ps []*Param, opt *Adam) Replica {
	r := Replica{Opt: &Adam{T: opt.T}}
	for i, q := range ps {
		c := &Param{Name: q.Name, Shape: q.Shape, Data: append([]float32(nil), q.Data...)}
		r.Params = append(r.Params, c)
		r.Opt.M = append(r.Opt.M, append([]float32(nil), opt.M[i]...))
		r.Opt.V = append(r.Opt.V, append([]float32(nil), opt.V[i]...))
	}
	return r
}

// Average sets the weights and moments of every replica in all to the mean
// over those in trained (a subset of all: replicas that sat out a round
// still hold the last mean and would only dilute it).
func Average(all, trained []Replica) {
	if len(trained) == 0 {
		return
	}
	t := 0
	for _, r := range trained {
		t = max(t, r.Opt.T)
	}
	for _, r := range all {
		r.Opt.T = t
	}
	// One job per (parameter, array); arrays are averaged in parallel.
	type job struct {
		of func(Replica) []float32
	}
	var jobs []job
	for i := range all[0].Params {
		jobs = append(jobs,
			job{func(r Replica) []float32 { return r.Params[i].Data }},
			job{func(r Replica) []float32 { return r.Opt.M[i] }},
			job{func(r Replica) []float32 { return r.Opt.V[i] }})
	}
	next := make(chan job)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range next {
				mean := j.of(trained[0])
				for _, r := range trained[1:] {
					for k, x := range j.of(r) {
						mean[k] += x
					}
				}
				inv := 1 / float32(len(trained))
				for k := range mean {
					mean[k] *= inv
				}
				for _, r := range all {
					if d := j.of(r); &d[0] != &mean[0] {
						copy(d, mean)
					}
				}
			}
		}()
	}
	for _, j := range jobs {
		next <- j
	}
	close(next)
	wg.Wait()
}
