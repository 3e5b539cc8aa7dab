package nn

import (
	"encoding/json"
	"fmt"
	"io"

	"attention/model/checkpoint"
)

// AddTrainState appends the optimiser's moments and the loop's progress to
// a checkpoint of the weights, making it a resumable training state.
func AddTrainState(f *checkpoint.File, ps []*Param, opt *Adam, st LoopState) {
	raw, _ := json.Marshal(st)
	if f.Meta == nil {
		f.Meta = map[string]any{}
	}
	f.Meta["state"], f.Meta["adam_t"] = string(raw), opt.T
	for i, q := range ps {
		f.Tensors = append(f.Tensors,
			&checkpoint.Tensor{Name: "adam_m/" + q.Name, Shape: q.Shape, DType: "f32", Data: opt.M[i]},
			&checkpoint.Tensor{Name: "adam_v/" + q.Name, Shape: q.Shape, DType: "f32", Data: opt.V[i]})
		if opt.Avg != nil {
			f.Tensors = append(f.Tensors, &checkpoint.Tensor{Name: "avg/" + q.Name, Shape: q.Shape, DType: "f32", Data: opt.Avg[i]})
		}
	}
}

// ReadTrainState restores what AddTrainState wrote, for parameters ps.
func ReadTrainState(f *checkpoint.File, ps []*Param) (*Adam, LoopState, error) {
	var st LoopState
	opt := NewAdam(ps)
	var err error
	for i, q := range ps {
		if opt.M[i], err = f.Tensor("adam_m/"+q.Name, q.Shape...); err != nil {
			return nil, st, err
		}
		if opt.V[i], err = f.Tensor("adam_v/"+q.Name, q.Shape...); err != nil {
			return nil, st, err
		}
	}
	if f.Has("avg/" + ps[0].Name) { // a run that keeps a moving average
		opt.Avg = make([][]float32, len(ps))
		for i, q := range ps {
			if opt.Avg[i], err = f.Tensor("avg/"+q.Name, q.Shape...); err != nil {
				return nil, st, err
			}
		}
	}
	t, _ := f.Meta["adam_t"].(float64)
	opt.T = int(t)
	raw, _ := f.Meta["state"].(string)
	if err := json.Unmarshal([]byte(raw), &st); err != nil {
		return nil, st, fmt.Errorf("training state: %w", err)
	}
	return opt, st, nil
}

// Tensors wraps parameters as checkpoint tensors (no copy); half stores
// them as float16.
func Tensors(ps []*Param, half bool) []*checkpoint.Tensor {
	dt := "f32"
	if half {
		dt = "f16"
	}
	out := make([]*checkpoint.Tensor, len(ps))
	for i, q := range ps {
		out[i] = &checkpoint.Tensor{Name: q.Name, Shape: q.Shape, DType: dt, Data: q.Data}
	}
	return out
}

// LoadParams points each parameter at the checkpoint tensor of the same
// name, checking its shape.
func LoadParams(f *checkpoint.File, ps []*Param) error {
	for _, q := range ps {
		data, err := f.Tensor(q.Name, q.Shape...)
		if err != nil {
			return err
		}
		q.Data = data
	}
	return nil
}

// LoopState is the progress a resumed run continues from.
type LoopState struct {
	Epoch     int     `json:"epoch"`
	Batch     int     `json:"batch"` // batches done in Epoch
	Step      int     `json:"step"`
	LR        float64 `json:"lr"`
	Best      float64 `json:"best_bleu"` // best dev score so far
	BadEpochs int     `json:"bad_epochs"`
	ElapsedS  float64 `json:"elapsed_s"`
	Tokens    int64   `json:"tokens"`
}

// ResetLR sets the learning rate to lr and forgets the epochs without
// improvement, for a resumed run told to train at a new rate.
func (st *LoopState) ResetLR(lr float64, log io.Writer) {
	st.LR, st.BadEpochs = lr, 0
	fmt.Fprintf(log, "learning rate reset to %.2g\n", st.LR)
}
