package train

import (
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"attention/model/nn"

	"github.com/schollz/progressbar/v3"
)

// ErrRestart asks the caller to resume in a fresh process.
var ErrRestart = errors.New("restart requested: resume with -resume")

// Loop drives training: epochs of batches with a progress bar, a dev
// evaluation after each epoch that keeps the best model and halves the
// learning rate when it does not improve, early stopping, periodic
// resumable saves, a time budget, and fresh-process restarts.
type Loop struct {
	Log                 io.Writer
	MaxEpochs, Patience int
	// MinEpochs: no halving and no early stop before this many epochs, as
	// the dev scores of a barely trained model are noise (greedy outputs
	// swing between short and long).
	MinEpochs                       int
	Budget, SaveEvery, RestartAfter time.Duration

	Batches   func(epoch int) int                                                // how many batches epoch has
	Step      func(epoch, i int, lr float64) (loss float64, ntok int, err error) // train on one batch
	Evaluate  func() (score float64, summary string)                             // dev score, higher is better
	SaveBest  func(score, epochs float64) error
	SaveState func(st nn.LoopState) error
}

// LoopResult summarises a run.
type LoopResult struct {
	Epochs  float64
	Best    float64
	Elapsed time.Duration
	TokPerS float64
}

// Run trains from st until a stopping rule fires.
func (l *Loop) Run(st nn.LoopState) (LoopResult, error) {
	var res LoopResult
	procStart := time.Now()
	start := procStart.Add(-time.Duration(st.ElapsedS * float64(time.Second)))
	lastSave := procStart
	save := func() error {
		st.ElapsedS = time.Since(start).Seconds()
		lastSave = time.Now()
		return l.SaveState(st)
	}
	for stop := false; !stop && st.Epoch < l.MaxEpochs; {
		n := l.Batches(st.Epoch)
		bar := progressbar.NewOptions(n, progressbar.OptionSetWriter(l.Log), progressbar.OptionSetWidth(30),
			progressbar.OptionShowCount(), progressbar.OptionSetPredictTime(true), progressbar.OptionThrottle(2*time.Second),
			progressbar.OptionSetDescription(fmt.Sprintf("epoch %d", st.Epoch+1)), progressbar.OptionShowElapsedTimeOnFinish())
		bar.Set(st.Batch)
		epochStart, epochTok, lossSum, lossN := time.Now(), 0, 0.0, 0
		for ; st.Batch < n; st.Batch++ {
			loss, ntok, err := l.Step(st.Epoch, st.Batch, st.LR)
			if err != nil {
				return res, err
			}
			if math.IsNaN(loss) {
				return res, errors.New("training diverged: loss is NaN (try a lower -lr)")
			}
			st.Step++
			st.Tokens += int64(ntok)
			epochTok += ntok
			lossSum += loss
			lossN++
			if st.Batch%10 == 0 {
				bar.Describe(fmt.Sprintf("epoch %d loss %.3f %.0f tok/s", st.Epoch+1, lossSum/float64(lossN), float64(epochTok)/time.Since(epochStart).Seconds()))
			}
			bar.Add(1)
			if time.Since(lastSave) > l.SaveEvery {
				if err := save(); err != nil {
					return res, err
				}
			}
			if l.RestartAfter > 0 && time.Since(procStart) > l.RestartAfter && st.Batch+1 < n {
				st.Batch++
				if err := save(); err != nil {
					return res, err
				}
				fmt.Fprintf(l.Log, "\nsaved state at epoch %d batch %d; restarting\n", st.Epoch+1, st.Batch)
				return res, ErrRestart
			}
			if l.Budget > 0 && time.Since(start) > l.Budget {
				stop = true
				st.Batch++
				break
			}
		}
		bar.Finish()
		fmt.Fprintln(l.Log)
		res.TokPerS = float64(epochTok) / time.Since(epochStart).Seconds()
		score, summary := l.Evaluate()
		epochs := float64(st.Epoch) + float64(st.Batch)/float64(n)
		fmt.Fprintf(l.Log, "epoch %d: train loss %.3f, %.0f tok/s, dev %s\n", st.Epoch+1, lossSum/max(float64(lossN), 1), res.TokPerS, summary)
		if score > st.Best {
			st.Best, st.BadEpochs = score, 0
			if err := l.SaveBest(score, epochs); err != nil {
				return res, err
			}
		} else if st.Epoch+1 < l.MinEpochs {
			fmt.Fprintf(l.Log, "  no improvement; learning rate kept at %.2g until epoch %d\n", st.LR, l.MinEpochs)
		} else {
			st.BadEpochs++
			st.LR /= 2
			fmt.Fprintf(l.Log, "  no improvement (%d); learning rate now %.2g\n", st.BadEpochs, st.LR)
			if st.BadEpochs >= l.Patience {
				stop = true
			}
		}
		res.Epochs = epochs
		if st.Batch >= n {
			st.Epoch, st.Batch = st.Epoch+1, 0
		}
		if err := save(); err != nil {
			return res, err
		}
	}
	res.Best = st.Best
	res.Elapsed = time.Since(start)
	return res, nil
}
