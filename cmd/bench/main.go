// Command bench times this project's inference against the libraries a
// user would pick instead (PyTorch on the CPU, onnxruntime), on the same
// trained weights, in one invocation: the peers run as child processes fed
// the weights exported to a temporary directory, and every row first checks
// that the peer computes what ours does.
//
//	go run ./cmd/bench [-json] [-seconds 2] [-ckpt model/trained/weights/en-de.ckpt]
//	CGO_LDFLAGS=-lopenblas go run -tags openblas ./cmd/bench   # training row as cmd/train runs
//
// Times are medians after a warm-up; ratios are ours/peer (lower is better).
// The table says which rows compared the peer's numbers with ours before
// timing it. It exits non-zero when a parity check or a peer fails, and when
// a peer is not installed, unless -allow-missing is given (the row is then
// reported as skipped).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"

	"attention/internal/openblas"
	"attention/model/nn"
)

type options struct {
	ckpt, captionCkpt   string
	tflite, image, data string
	python, ortDir      string
	seconds             float64
	json, keep          bool
	allowMissing        bool            // a peer that is not installed is not a failure
	only                map[string]bool // row groups to run; empty: all
	log                 io.Writer
}

// row is one line of the table. The floors are memory-bound lower limits
// for a decode step: the bytes it must read over a measured bandwidth.
type row struct {
	Name        string  `json:"name"`
	Ours        float64 `json:"ours"`
	Peer        float64 `json:"peer"`
	Unit        string  `json:"unit"`
	Ratio       float64 `json:"ratio"`
	Floor       float64 `json:"floor,omitempty"`        // weights / 256 MB copy bandwidth
	FloorCached float64 `json:"floor_cached,omitempty"` // weights / bandwidth of a copy their size
	Note        string  `json:"note,omitempty"`
	// Compared says what was checked against the peer before its time
	// was taken: "yes" (its steps' probabilities and attention, or the
	// encoder's features, within tolerance), "no" (nothing: timed only),
	// "skipped" (no peer) or "FAILED".
	Compared string `json:"compared"`
	failed   bool
}

// status fills in Compared from how the row ended.
func (r *row) status() {
	switch {
	case r.failed:
		r.Compared = "FAILED"
	case strings.HasPrefix(r.Note, "skipped") || strings.Contains(r.Note, "peer skipped"):
		r.Compared = "skipped"
	case strings.HasPrefix(r.Note, "parity"):
		r.Compared = "yes"
	default:
		r.Compared = "no"
	}
}

func main() {
	var o options
	flag.StringVar(&o.ckpt, "ckpt", filepath.Join("model", "trained", "weights", "en-de.ckpt"), "translation checkpoint")
	flag.StringVar(&o.captionCkpt, "caption-ckpt", filepath.Join("model", "trained", "weights", "caption.ckpt"), "caption checkpoint")
	flag.StringVar(&o.data, "data", filepath.Join("..", "shared", "data"), "the shared data directory")
	flag.StringVar(&o.tflite, "tflite", "", "MobileNetV2 TFLite file (default: DATA/weights/mobilenet_v2_1.0_224_quant.tflite)")
	flag.StringVar(&o.image, "image", "", "JPEG photo for the encoder row (default: the first Flickr8k test image)")
	flag.StringVar(&o.python, "python", "/usr/bin/python3", "Python that can import Debian's torch")
	flag.StringVar(&o.ortDir, "ort", filepath.Join("runs", "ort"), "directory where onnxruntime-node is installed (holds node_modules)")
	flag.Float64Var(&o.seconds, "seconds", 2, "timing budget per side and row, after warm-up")
	flag.BoolVar(&o.json, "json", false, "print one JSON object per row instead of a table")
	only := flag.String("only", "", "run only these row groups, comma-separated: translate, encoder, caption, scale, train (default: all)")
	flag.BoolVar(&o.allowMissing, "allow-missing", false, "report a peer that is not installed as skipped instead of failing")
	flag.BoolVar(&o.keep, "keep", false, "keep the temporary directory of exported weights and peer scripts, and print its path")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of our side (this process, not the peers) to this file")
	flag.Parse()
	o.only = map[string]bool{}
	for _, g := range strings.Split(*only, ",") {
		if g = strings.TrimSpace(g); g != "" {
			o.only[g] = true
		}
	}
	if o.tflite == "" {
		o.tflite = filepath.Join(o.data, "weights", "mobilenet_v2_1.0_224_quant.tflite")
	}
	o.log = os.Stderr
	if !o.json {
		o.log = os.Stdout
	}
	// The peers load the same OpenBLAS (PyTorch through libblas), so
	// kernels chosen wrongly for this CPU slow both sides' matrix products.
	if w := openblas.Warning(); w != "" {
		fmt.Fprintf(os.Stderr, "warning: %s; PyTorch loads the same library\n", w)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
	}
	err := run(ctx, o)
	pprof.StopCPUProfile() // nothing when no profile was started
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	work, err := os.MkdirTemp("", "attention-bench-")
	if err != nil {
		return err
	}
	if o.keep {
		fmt.Fprintf(o.log, "work directory: %s\n", work)
	} else {
		defer os.RemoveAll(work)
	}
	for name, b := range map[string][]byte{"peer_torch.py": peerTorch, "peer_ort.js": peerORT} {
		if err := os.WriteFile(filepath.Join(work, name), b, 0o644); err != nil {
			return err
		}
	}

	fmt.Fprintf(o.log, "GOMAXPROCS %d; timing %.1f s per side and row\n", runtime.GOMAXPROCS(0), o.seconds)
	fmt.Fprintf(o.log, "our matrix-vector kernels: %s\n", nn.Kernels())
	want := func(g string) bool { return len(o.only) == 0 || o.only[g] }
	var rows []row
	if want("translate") {
		tr, err := translationRows(ctx, o, work)
		if err != nil {
			return err
		}
		rows = append(rows, tr...)
	}
	// The caption pipeline row reads the MobileNetV2 export of the encoder row.
	if want("encoder") || want("caption") {
		enc, err := encoderRow(ctx, o, work)
		if err != nil {
			return err
		}
		rows = append(rows, enc)
	}
	if want("caption") {
		caps, err := captionRows(ctx, o, work)
		if err != nil {
			return err
		}
		rows = append(rows, caps...)
	}
	if want("scale") {
		sc, err := scaleRow(ctx, o, work)
		if err != nil {
			return err
		}
		rows = append(rows, sc)
	}
	if want("train") {
		tr, err := trainingRow(ctx, o, work)
		if err != nil {
			return err
		}
		rows = append(rows, tr)
		if tr, err = captionTrainingRow(ctx, o, work); err != nil {
			return err
		}
		rows = append(rows, tr)
	}

	failed, missing := false, false
	for i := range rows {
		r := &rows[i]
		r.status()
		if r.Peer > 0 && !r.failed {
			r.Ratio = r.Ours / r.Peer
		} else {
			r.Peer = 0 // a peer that failed parity has no time worth comparing
		}
		failed = failed || r.failed
		missing = missing || r.Compared == "skipped"
		r.Ours, r.Peer, r.Floor, r.FloorCached = round(r.Ours, 1), round(r.Peer, 1), round(r.Floor, 1), round(r.FloorCached, 1)
		r.Ratio = round(r.Ratio, 3)
	}
	if o.json {
		enc := json.NewEncoder(os.Stdout)
		for _, r := range rows {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
	} else {
		printTable(os.Stdout, rows)
	}
	if failed {
		return fmt.Errorf("a parity check or a peer failed (see the rows)")
	}
	if missing && !o.allowMissing {
		return fmt.Errorf("a peer is not installed, so its rows compared nothing (see the notes; -allow-missing to accept that)")
	}
	return nil
}

// round keeps the JSON free of digits the timing cannot support.
func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}

func printTable(w io.Writer, rows []row) {
	num := func(v float64) string {
		if v == 0 {
			return "-"
		}
		return fmt.Sprintf("%.1f", v)
	}
	const format = "%-44s %9s %9s %5s %10s %12s %12s %9s\n"
	fmt.Fprintf(w, format, "row", "ours", "peer", "unit", "ours/peer", "floor(256MB)", "floor(cache)", "compared")
	for _, r := range rows {
		ratio := "-"
		if r.Ratio > 0 {
			ratio = fmt.Sprintf("%.2fx", r.Ratio)
		}
		fmt.Fprintf(w, format, r.Name, num(r.Ours), num(r.Peer), r.Unit, ratio, num(r.Floor), num(r.FloorCached), r.Compared)
	}
	fmt.Fprintln(w)
	for _, r := range rows {
		if r.Note != "" {
			fmt.Fprintf(w, "%s: %s\n", r.Name, r.Note)
		}
	}
}
