package train

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"

	"attention/model/checkpoint"
	"attention/model/nn"
)

// run is what both models' training set-up shares: the run directory with
// its resumable state, the log, and where the best model goes.
type run struct {
	dir, state, out string
	log             io.Writer
	meta            map[string]any // written into the best model beside its scores
}

// newRun makes the run directory. resume comes back false, said in the
// log, when there is no state to resume yet.
func newRun(dir, out string, resume bool, log io.Writer, meta map[string]any) (*run, bool, error) {
	if log == nil {
		log = os.Stderr
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, false, err
	}
	r := &run{dir: dir, state: filepath.Join(dir, "state.ckpt"), out: out, log: log, meta: meta}
	if _, err := os.Stat(r.state); resume && errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(log, "no state in %s yet: starting a new run\n", dir)
		resume = false
	}
	return r, resume, nil
}

// loadState reads the run's state, a stateKind file, as a modelKind
// checkpoint (its weights) and the optimiser and progress saved with it.
func (r *run) loadState(stateKind, modelKind string, params func(*checkpoint.File) ([]*nn.Param, error)) (*checkpoint.File, *nn.Adam, nn.LoopState, error) {
	f, err := checkpoint.Load(r.state)
	if err != nil {
		return nil, nil, nn.LoopState{}, err
	}
	if f.Kind != stateKind {
		return nil, nil, nn.LoopState{}, fmt.Errorf("%s: a %q file, not a %q", r.state, f.Kind, stateKind)
	}
	f.Kind = modelKind
	ps, err := params(f)
	if err != nil {
		return nil, nil, nn.LoopState{}, fmt.Errorf("%s: %w", r.state, err)
	}
	opt, st, err := nn.ReadTrainState(f, ps)
	if err != nil {
		return nil, nil, nn.LoopState{}, fmt.Errorf("%s: %w", r.state, err)
	}
	fmt.Fprintf(r.log, "resumed from %s: epoch %d batch %d, best dev score %.2f\n", r.state, st.Epoch+1, st.Batch, st.Best)
	return f, opt, st, nil
}

// saveState writes f (the weights at full precision) with the optimiser
// and the loop's progress as the run's resumable state.
func (r *run) saveState(f *checkpoint.File, stateKind string, ps []*nn.Param, opt *nn.Adam, st nn.LoopState) error {
	f.Kind = stateKind
	nn.AddTrainState(f, ps, opt, st)
	return checkpoint.Save(r.state, f)
}

// bestMeta is the run's metadata with the new best model's scores.
func (r *run) bestMeta(scores map[string]any) map[string]any {
	meta := maps.Clone(scores)
	maps.Copy(meta, r.meta)
	return meta
}

// saveBest writes the new best model.
func (r *run) saveBest(f *checkpoint.File) error {
	if err := checkpoint.Save(r.out, f); err != nil {
		return err
	}
	fmt.Fprintf(r.log, "  new best: saved %s\n", r.out)
	return nil
}
