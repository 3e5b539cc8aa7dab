package checkpoint

import (
	"bytes"
	"encoding/binary"
	"math"
	"strings"
	"testing"
)

func TestF16(t *testing.T) {
	cases := map[float32]uint16{0: 0, 1: 0x3c00, -2: 0xc000, 65504: 0x7bff, 1e6: 0x7c00, 5.9604645e-08: 0x0001, 0.333251953125: 0x3555}
	for f, h := range cases {
		if got := F16FromF32(f); got != h {
			t.Errorf("F16FromF32(%v) = %#04x, want %#04x", f, got, h)
		}
		if h != 0x7c00 {
			if back := F32FromF16(h); back != f {
				t.Errorf("F32FromF16(%#04x) = %v, want %v", h, back, f)
			}
		}
	}
	for _, f := range []float32{0.1, -0.37, 3.14159, 1e-3, -7.5e-5} {
		back := F32FromF16(F16FromF32(f))
		if rel := math.Abs(float64(back-f) / float64(f)); rel > 1e-3 {
			t.Errorf("%v -> %v: relative error %.2g", f, back, rel)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	f := &File{
		Kind:   "test",
		Config: []byte(`{"a":1}`),
		Vocabs: map[string][]string{"src": {"<pad>", "x"}},
		Tensors: []*Tensor{
			{Name: "w", Shape: []int{2, 3}, Data: []float32{1, 2, 3, 4, 5, 6}},
			{Name: "h", Shape: []int{2}, DType: "f16", Data: []float32{0.5, -1.25}},
		},
	}
	var buf bytes.Buffer
	if err := Write(&buf, f); err != nil {
		t.Fatal(err)
	}
	g, err := Read(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	w, err := g.Tensor("w", 2, 3)
	if err != nil || w[5] != 6 {
		t.Fatalf("w = %v, %v", w, err)
	}
	h, err := g.Tensor("h", 2)
	if err != nil || h[1] != -1.25 {
		t.Fatalf("h = %v, %v", h, err)
	}
	if _, err := g.Tensor("w", 3, 2); err == nil || !strings.Contains(err.Error(), "shape") {
		t.Fatalf("want a shape error, got %v", err)
	}
	if _, err := g.Tensor("nope"); err == nil {
		t.Fatal("want an error for a missing tensor")
	}
}

func TestBadFiles(t *testing.T) {
	var buf bytes.Buffer
	Write(&buf, &File{Kind: "x", Tensors: []*Tensor{{Name: "w", Shape: []int{4}, Data: make([]float32, 4)}}})
	good := buf.Bytes()

	wrongVersion := append([]byte{}, good...)
	binary.LittleEndian.PutUint32(wrongVersion[8:], 99)

	cases := map[string]struct {
		data []byte
		want string
	}{
		"empty":     {nil, "bad magic"},
		"png":       {[]byte("\x89PNG\r\n\x1a\n________"), "bad magic"},
		"version":   {wrongVersion, "version 99"},
		"truncated": {good[:len(good)-3], "truncated"},
		"trailing":  {append(append([]byte{}, good...), 0), "unexpected bytes"},
	}
	for name, c := range cases {
		_, err := Read(c.data)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error containing %q", name, err, c.want)
		}
	}
}
