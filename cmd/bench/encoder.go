package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/disintegration/imaging"

	"attention/model/mobilenet"
	"attention/model/photo"
)

// encRelTol bounds max|ours - peer| / max|ours| over the region grid.
const encRelTol = 1e-3

type encInput struct {
	Tensor int     `json:"tensor"`
	Height int     `json:"height"`
	Width  int     `json:"width"`
	Zero   float32 `json:"zero"`  // model input = (pixel - zero) * scale
	Scale  float32 `json:"scale"` //
}

// encOp is one layer of the graph up to the region grid, in the terms the
// peer needs: CONV_2D, DEPTHWISE_CONV_2D or ADD over tensor indices.
type encOp struct {
	Op       string `json:"op"`
	In       []int  `json:"in"`
	Out      int    `json:"out"`
	Act      string `json:"act"`
	Stride   [2]int `json:"stride,omitempty"`
	Dilation [2]int `json:"dilation,omitempty"`
	Pad      [4]int `json:"pad,omitempty"` // top, bottom, left, right (TF SAME)
	Groups   int    `json:"groups,omitempty"`
}

type encReq struct {
	Input   encInput             `json:"input"`
	Image   string               `json:"image"` // H*W*3 RGB bytes
	Consts  map[string]tensorRef `json:"consts"`
	Ops     []encOp              `json:"ops"`
	Feature int                  `json:"feature"`
	Seconds float64              `json:"seconds"`
}

type encResp struct {
	EncodeUS timing `json:"encode_us"`
	Version  string `json:"version"`
	Threads  string `json:"threads"`
}

var actNames = map[mobilenet.Activation]string{
	mobilenet.ActNone: "NONE", mobilenet.ActRelu: "RELU", mobilenet.ActRelu6: "RELU6", mobilenet.ActReluN1To1: "RELU_N1_TO_1",
}

// samePad is TensorFlow's padding: SAME puts an odd extra pixel after.
func samePad(p mobilenet.Padding, in, k, stride, dil int) (before, after int) {
	if p == mobilenet.PaddingValid {
		return 0, 0
	}
	out := (in + stride - 1) / stride
	total := max((out-1)*stride+(k-1)*dil+1-in, 0)
	return total / 2, total - total/2
}

// dequantize reads a constant tensor as float32, real = (q - zero) * scale
// per tensor or per channel, as the TFLite format defines it.
func dequantize(t mobilenet.Tensor, b []byte) ([]float32, error) {
	n := 1
	for _, d := range t.Shape {
		n *= int(d)
	}
	size := map[mobilenet.TensorType]int{mobilenet.Float32: 4, mobilenet.Int32: 4, mobilenet.Uint8: 1, mobilenet.Int8: 1}[t.Type]
	if size == 0 || len(b) != n*size {
		return nil, fmt.Errorf("tensor %s: %s with %d bytes for shape %v", t.Name, t.Type, len(b), t.Shape)
	}
	out := make([]float32, n)
	if t.Type == mobilenet.Float32 {
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
		return out, nil
	}
	q := t.Quant
	if q == nil || len(q.Scale) == 0 {
		return nil, fmt.Errorf("tensor %s: %s without quantisation parameters", t.Name, t.Type)
	}
	axisLen, inner := 1, 1
	if len(q.Scale) > 1 {
		axisLen = len(q.Scale)
		for _, d := range t.Shape[q.Dim+1:] {
			inner *= int(d)
		}
	}
	for i := range out {
		a := (i / inner) % axisLen
		var v int64
		switch t.Type {
		case mobilenet.Uint8:
			v = int64(b[i])
		case mobilenet.Int8:
			v = int64(int8(b[i]))
		case mobilenet.Int32:
			v = int64(int32(binary.LittleEndian.Uint32(b[4*i:])))
		}
		var zp int64
		if len(q.ZeroPoint) == 1 {
			zp = q.ZeroPoint[0]
		} else if len(q.ZeroPoint) > 1 {
			zp = q.ZeroPoint[a]
		}
		out[i] = float32(float64(v-zp) * float64(q.Scale[min(a, len(q.Scale)-1)]))
	}
	return out, nil
}

// exportGraph writes the layers before the global average pool, with
// their dequantised constants, for the peer.
func exportGraph(tfl []byte, dir string, req *encReq) error {
	m, err := mobilenet.ReadModel(tfl)
	if err != nil {
		return err
	}
	sg := &m.Subgraphs[0]
	shape := func(t int32) []int {
		s := make([]int, len(sg.Tensors[t].Shape))
		for i, d := range sg.Tensors[t].Shape {
			s[i] = int(d)
		}
		return s
	}
	in := sg.Tensors[sg.Inputs[0]]
	req.Input = encInput{Tensor: int(sg.Inputs[0]), Height: int(in.Shape[1]), Width: int(in.Shape[2])}
	switch {
	case in.Type == mobilenet.Uint8 && in.Quant != nil:
		req.Input.Zero, req.Input.Scale = float32(in.Quant.ZeroPoint0()), in.Quant.Scale[0]
	case in.Type == mobilenet.Int8 && in.Quant != nil:
		req.Input.Zero, req.Input.Scale = float32(in.Quant.ZeroPoint0()+128), in.Quant.Scale[0]
	case in.Type == mobilenet.Float32:
		req.Input.Zero, req.Input.Scale = 128, 1.0/128
	default:
		return fmt.Errorf("mobilenet input of type %s", in.Type)
	}
	req.Consts = map[string]tensorRef{}
	constant := func(t int32) error {
		if t < 0 {
			return nil
		}
		key := strconv.Itoa(int(t))
		if _, ok := req.Consts[key]; ok {
			return nil
		}
		data, err := dequantize(sg.Tensors[t], m.Buffers[sg.Tensors[t].Buffer])
		if err != nil {
			return err
		}
		ref, err := writeF32(dir, "t"+key, shape(t), data)
		req.Consts[key] = ref
		return err
	}
	req.Feature = -1
	for _, op := range sg.Operators {
		kind := m.Op(op)
		if kind == mobilenet.OpAveragePool2D {
			req.Feature = int(op.Inputs[0])
			break
		}
		e := encOp{Op: kind.String(), Out: int(op.Outputs[0])}
		for _, t := range op.Inputs {
			e.In = append(e.In, int(t))
		}
		var act mobilenet.Activation
		var pad mobilenet.Padding
		var sh, sw, dh, dw int
		switch o := op.Options.(type) {
		case *mobilenet.Conv2DOptions:
			act, pad, sh, sw, dh, dw = o.Activation, o.Padding, int(o.StrideH), int(o.StrideW), int(o.DilationH), int(o.DilationW)
		case *mobilenet.DepthwiseConv2DOptions:
			act, pad, sh, sw, dh, dw = o.Activation, o.Padding, int(o.StrideH), int(o.StrideW), int(o.DilationH), int(o.DilationW)
			e.Groups = shape(op.Inputs[0])[3]
		case *mobilenet.AddOptions:
			act = o.Activation
		default:
			if kind != mobilenet.OpAdd {
				return fmt.Errorf("mobilenet: %s before the region grid is not exported", kind)
			}
		}
		var ok bool
		if e.Act, ok = actNames[act]; !ok {
			return fmt.Errorf("mobilenet: %s with activation %d", kind, act)
		}
		if kind != mobilenet.OpAdd {
			xs, ws := shape(op.Inputs[0]), shape(op.Inputs[1]) // [1 H W C], [O|1 KH KW C]
			e.Stride, e.Dilation = [2]int{sh, sw}, [2]int{dh, dw}
			e.Pad[0], e.Pad[1] = samePad(pad, xs[1], ws[1], sh, dh)
			e.Pad[2], e.Pad[3] = samePad(pad, xs[2], ws[2], sw, dw)
			for _, t := range op.Inputs[1:] {
				if err := constant(t); err != nil {
					return err
				}
			}
		}
		req.Ops = append(req.Ops, e)
	}
	if req.Feature < 0 {
		return errors.New("mobilenet: no AVERAGE_POOL_2D, so no region grid")
	}
	return nil
}

// benchImage is the photo the encoder row encodes, cropped as the encoder
// crops (mobilenet.Encoder.Fit), as NRGBA pixels for the peer.
func benchImage(enc *mobilenet.Encoder, path string) (*image.NRGBA, error) {
	img, err := photo.Open(path, photo.DefaultLimits())
	if err != nil {
		return nil, err
	}
	return imaging.Clone(enc.Fit(img)), nil
}

// encoderRow benchmarks one image through MobileNetV2 to the 7x7x1280
// region grid against the same layers in PyTorch.
func encoderRow(ctx context.Context, o options, work string) (row, error) {
	r := row{Name: "encoder, 224x224 to 7x7x1280 vs PyTorch", Unit: "ms"}
	tfl, err := os.ReadFile(o.tflite)
	if err != nil {
		return r, fmt.Errorf("MobileNetV2: %w (see -tflite)", err)
	}
	enc, err := mobilenet.Load(tfl)
	if err != nil {
		return r, err
	}
	imgPath := o.image
	if imgPath == "" {
		if imgPath, err = firstTestImage(o.data); err != nil {
			return r, err
		}
	}
	img, err := benchImage(enc, imgPath)
	if err != nil {
		return r, err
	}
	feat, rows, cols, depth, err := enc.Regions(img)
	if err != nil {
		return r, err
	}
	fmt.Fprintf(o.log, "encoder: %s, image %s, regions %dx%dx%d\n", o.tflite, imgPath, rows, cols, depth)

	dir := filepath.Join(work, "mobilenet")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return r, err
	}
	req := encReq{Image: "image.rgb", Seconds: o.seconds}
	if err := exportGraph(tfl, dir, &req); err != nil {
		return r, err
	}
	if err := os.WriteFile(filepath.Join(dir, req.Image), rgbBytes(img), 0o644); err != nil {
		return r, err
	}
	if err := writeJSON(filepath.Join(dir, "req.json"), req); err != nil {
		return r, err
	}

	// Ours: half the budget before the peer runs, half after.
	samples, err := encodes(enc, img, o.seconds/2, nil)
	if err != nil {
		return r, err
	}

	var er encResp
	if skip := havePython(o.python); skip != "" {
		r.Note = "skipped: " + skip
	} else if err := runPeer(ctx, torchEnv, &er, o.python, filepath.Join(work, "peer_torch.py"), "mobilenet", dir); err != nil {
		r.Note, r.failed = "FAILED: "+err.Error(), true
	} else {
		peer, err := readF32(filepath.Join(dir, "peer_feat.f32"))
		if err != nil {
			return r, err
		}
		var diff, scale float64
		if len(peer) != len(feat) {
			diff = math.Inf(1)
		}
		for i := range min(len(peer), len(feat)) {
			diff = math.Max(diff, math.Abs(float64(feat[i]-peer[i])))
			scale = math.Max(scale, math.Abs(float64(feat[i])))
		}
		rel := diff / scale
		r.Peer = er.EncodeUS.Median / 1e3
		r.Note = fmt.Sprintf("parity max|d| %.1e, relative %.1e", diff, rel)
		if !(rel <= encRelTol) {
			r.Note, r.failed = fmt.Sprintf("PARITY FAILED (relative tolerance %.0e): %s", encRelTol, r.Note), true
		}
		fmt.Fprintf(o.log, "  PyTorch %s (%s): %s\n", er.Version, er.Threads, r.Note)
	}

	if samples, err = encodes(enc, img, o.seconds/2, samples); err != nil {
		return r, err
	}
	r.Ours = median(samples)
	fmt.Fprintf(o.log, "  ours: %d encodes timed\n", len(samples))
	return r, nil
}

// encodes times our encoder on img and appends to samples (milliseconds).
func encodes(enc *mobilenet.Encoder, img image.Image, seconds float64, samples []float64) ([]float64, error) {
	for range 2 {
		if _, _, _, _, err := enc.Regions(img); err != nil {
			return nil, err
		}
	}
	end := time.Now().Add(time.Duration(seconds * float64(time.Second)))
	for n := len(samples); time.Now().Before(end) || len(samples) < n+3; {
		t := time.Now()
		if _, _, _, _, err := enc.Regions(img); err != nil {
			return nil, err
		}
		samples = append(samples, float64(time.Since(t).Nanoseconds())/1e6)
	}
	return samples, nil
}

// firstTestImage is the first Flickr8k test photo in the shared data.
func firstTestImage(data string) (string, error) {
	list, err := os.ReadFile(filepath.Join(data, "flickr8k", "Flickr_8k.testImages.txt"))
	if err != nil {
		return "", fmt.Errorf("no image: %w (see -image)", err)
	}
	name, _, _ := strings.Cut(strings.TrimSpace(string(list)), "\n")
	return filepath.Join(data, "flickr8k", "images", strings.TrimSpace(name)), nil
}

// rgbBytes is img's pixels as raw RGB, row by row, as the peers read them.
func rgbBytes(img *image.NRGBA) []byte {
	b := img.Bounds()
	rgb := make([]byte, 0, b.Dx()*b.Dy()*3)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			p := img.Pix[img.PixOffset(x, y):]
			rgb = append(rgb, p[0], p[1], p[2])
		}
	}
	return rgb
}
