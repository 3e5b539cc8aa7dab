// Package checkpoint is the one file format for trained weights.
//
// Layout: the 8-byte magic "ATTNMDL\x00", a little-endian uint32 version, a
// uint32 header length, a JSON header (model kind, config, vocabularies,
// metrics and the tensor table), then each tensor's data in table order,
// little-endian, as float32 or float16.
package checkpoint

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
)

// Magic starts every checkpoint file.
const Magic = "ATTNMDL\x00"

// Version is the format version this code writes and reads.
const Version = 1

// Tensor is one named weight array.
type Tensor struct {
	Name  string    `json:"name"`
	Shape []int     `json:"shape"`
	DType string    `json:"dtype"` // "f32" or "f16" on disk; always float32 in memory
	Data  []float32 `json:"-"`
}

// File is a checkpoint in memory.
type File struct {
	Kind    string              `json:"kind"`
	Config  json.RawMessage     `json:"config"`
	Vocabs  map[string][]string `json:"vocabs,omitempty"`
	Meta    map[string]any      `json:"meta,omitempty"`
	Tensors []*Tensor           `json:"tensors"`
}

// Tensor returns the tensor with the given name and shape.
func (f *File) Tensor(name string, shape ...int) ([]float32, error) {
	for _, t := range f.Tensors {
		if t.Name != name {
			continue
		}
		if !sameShape(t.Shape, shape) {
			return nil, fmt.Errorf("checkpoint: tensor %s has shape %v, model wants %v", name, t.Shape, shape)
		}
		return t.Data, nil
	}
	return nil, fmt.Errorf("checkpoint: no tensor named %s", name)
}

// Has reports whether f holds a tensor with the given name.
func (f *File) Has(name string) bool {
	for _, t := range f.Tensors {
		if t.Name == name {
			return true
		}
	}
	return false
}

func sameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func size(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// Write encodes f. Tensors whose DType is "f16" are stored at half precision.
func Write(w io.Writer, f *File) error {
	for _, t := range f.Tensors {
		if len(t.Data) != size(t.Shape) {
			return fmt.Errorf("checkpoint: tensor %s has %d values for shape %v", t.Name, len(t.Data), t.Shape)
		}
		if t.DType == "" {
			t.DType = "f32"
		}
	}
	hdr, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("checkpoint: header: %w", err)
	}
	bw := bufio.NewWriter(w)
	bw.WriteString(Magic)
	binary.Write(bw, binary.LittleEndian, uint32(Version))
	binary.Write(bw, binary.LittleEndian, uint32(len(hdr)))
	bw.Write(hdr)
	var buf [4]byte
	for _, t := range f.Tensors {
		for _, v := range t.Data {
			switch t.DType {
			case "f16":
				binary.LittleEndian.PutUint16(buf[:2], F16FromF32(v))
				bw.Write(buf[:2])
			case "f32":
				binary.LittleEndian.PutUint32(buf[:], math.Float32bits(v))
				bw.Write(buf[:])
			default:
				return fmt.Errorf("checkpoint: tensor %s: unknown dtype %q", t.Name, t.DType)
			}
		}
	}
	return bw.Flush()
}

// Save writes f to path atomically (a temporary file, then a rename).
func Save(path string, f *File) error {
	tmp := path + ".tmp"
	out, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if err := Write(out, f); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// ErrNotCheckpoint is returned for data that does not start with Magic.
var ErrNotCheckpoint = errors.New("checkpoint: not a model file (bad magic); expected a file written by cmd/train")

// Header decodes only a checkpoint's header: kind, config, metadata,
// vocabularies and tensor shapes, without their data.
func Header(data []byte) (*File, error) {
	f, _, err := header(data)
	return f, err
}

// ReadModel reads a model of kind from data. A resumable training state
// of that model (stateKind) is read as its weights: a run in progress is a
// model too.
func ReadModel(data []byte, kind, stateKind string) (*File, error) {
	f, err := Read(data)
	if err != nil {
		return nil, err
	}
	if f.Kind == stateKind {
		f.Kind = kind
	}
	return f, nil
}

// MetaString is the string in Meta under key, or "".
func (f *File) MetaString(key string) string {
	s, _ := f.Meta[key].(string)
	return s
}

// Read decodes a checkpoint, checking magic, version and sizes.
func Read(data []byte) (*File, error) {
	f, rest, err := header(data)
	if err != nil {
		return nil, err
	}
	for _, t := range f.Tensors {
		count := size(t.Shape)
		width := 4
		if t.DType == "f16" {
			width = 2
		} else if t.DType != "f32" {
			return nil, fmt.Errorf("checkpoint: tensor %s: unknown dtype %q", t.Name, t.DType)
		}
		if len(rest) < count*width {
			return nil, fmt.Errorf("checkpoint: tensor %s needs %d bytes, %d left: truncated", t.Name, count*width, len(rest))
		}
		t.Data = make([]float32, count)
		for i := range t.Data {
			if width == 2 {
				t.Data[i] = F32FromF16(binary.LittleEndian.Uint16(rest[2*i:]))
			} else {
				t.Data[i] = math.Float32frombits(binary.LittleEndian.Uint32(rest[4*i:]))
			}
		}
		rest = rest[count*width:]
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("checkpoint: %d unexpected bytes after the last tensor", len(rest))
	}
	return f, nil
}

// Load reads a checkpoint file.
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f, err := Read(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

func header(data []byte) (*File, []byte, error) {
	if len(data) < 16 || string(data[:8]) != Magic {
		return nil, nil, ErrNotCheckpoint
	}
	v := binary.LittleEndian.Uint32(data[8:])
	if v != Version {
		return nil, nil, fmt.Errorf("checkpoint: format version %d, this build reads version %d; retrain with this build's cmd/train or use a matching build", v, Version)
	}
	n := int(binary.LittleEndian.Uint32(data[12:]))
	if n > len(data)-16 {
		return nil, nil, fmt.Errorf("checkpoint: header of %d bytes but the file has %d: truncated", n, len(data))
	}
	var f File
	dec := json.NewDecoder(bytes.NewReader(data[16 : 16+n]))
	if err := dec.Decode(&f); err != nil {
		return nil, nil, fmt.Errorf("checkpoint: header: %w", err)
	}
	return &f, data[16+n:], nil
}
