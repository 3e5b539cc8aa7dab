package main

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"attention/model/nn"
)

// The peers are small scripts kept beside the command and written to the
// temporary directory at run time, so `go run ./cmd/bench` needs no paths.
var (
	//go:embed peer_torch.py
	peerTorch []byte
	//go:embed peer_ort.js
	peerORT []byte
)

// tensorRef names one raw little-endian float32 file in a work directory.
type tensorRef struct {
	Name  string `json:"name"`
	Shape []int  `json:"shape"`
	File  string `json:"file"`
}

// timing is a median over N timed calls, in microseconds.
type timing struct {
	Median float64 `json:"median"`
	N      int     `json:"n"`
}

// writeF32 stores data as raw little-endian float32, the format the peers
// read without extra packages.
func writeF32(dir, name string, shape []int, data []float32) (tensorRef, error) {
	buf := make([]byte, 4*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(v))
	}
	file := name + ".f32"
	return tensorRef{Name: name, Shape: shape, File: file}, os.WriteFile(filepath.Join(dir, file), buf, 0o644)
}

// writeParams stores every weight of ps with writeF32, under its name.
func writeParams(dir string, ps []*nn.Param) ([]tensorRef, error) {
	refs := make([]tensorRef, 0, len(ps))
	for _, q := range ps {
		ref, err := writeF32(dir, q.Name, q.Shape, q.Data)
		if err != nil {
			return nil, err
		}
		refs = append(refs, ref)
	}
	return refs, nil
}

func readF32(path string) ([]float32, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out, nil
}

func writeJSON(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// runPeer runs a peer script as a child process and decodes the one JSON
// object it prints. A failure carries the end of the peer's stderr.
func runPeer(ctx context.Context, env []string, out any, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w: %s", filepath.Base(name), err, tail(stderr.String(), 800))
	}
	if err := json.Unmarshal(stdout.Bytes(), out); err != nil {
		return fmt.Errorf("%s: reading its output: %w: %s", filepath.Base(name), err, tail(stdout.String(), 300))
	}
	return nil
}

func tail(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		s = "..." + s[len(s)-n:]
	}
	return s
}

// torchEnv is PyTorch's fastest CPU set-up for this model on two cores:
// one intra-op thread, two OpenBLAS threads.
var torchEnv = []string{"OPENBLAS_NUM_THREADS=2", "BENCH_TORCH_THREADS=1"}

// havePython reports why the PyTorch peer cannot run, or "".
func havePython(python string) string {
	if err := exec.Command(python, "-c", "import torch").Run(); err != nil {
		return fmt.Sprintf("%s cannot import torch (%v): apt-get install -y python3-torch libopenblas0-pthread", python, err)
	}
	return ""
}
