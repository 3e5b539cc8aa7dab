package mobilenet

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// This file reads the TFLite flatbuffer (schema "TFL3") by hand. The
// flatbuffers Go runtime trusts every offset it follows, so a truncated
// or foreign file would panic inside it; here every read is bounds-checked
// and the first failure becomes an error naming what was being read.

// TensorType is the element type of a tensor (schema enum TensorType).
type TensorType int8

// Tensor types used by image classifiers.
const (
	Float32 TensorType = 0
	Float16 TensorType = 1
	Int32   TensorType = 2
	Uint8   TensorType = 3
	Int64   TensorType = 4
	Int8    TensorType = 9
)

func (t TensorType) String() string {
	switch t {
	case Float32:
		return "FLOAT32"
	case Float16:
		return "FLOAT16"
	case Int32:
		return "INT32"
	case Uint8:
		return "UINT8"
	case Int64:
		return "INT64"
	case Int8:
		return "INT8"
	}
	return fmt.Sprintf("TensorType(%d)", int8(t))
}

// BuiltinOp is a builtin operator code (schema enum BuiltinOperator).
type BuiltinOp int32

// Builtin operators this package knows by name.
const (
	OpAdd             BuiltinOp = 0
	OpAveragePool2D   BuiltinOp = 1
	OpConcatenation   BuiltinOp = 2
	OpConv2D          BuiltinOp = 3
	OpDepthwiseConv2D BuiltinOp = 4
	OpDequantize      BuiltinOp = 6
	OpFullyConnected  BuiltinOp = 9
	OpLogistic        BuiltinOp = 14
	OpMaxPool2D       BuiltinOp = 17
	OpMul             BuiltinOp = 18
	OpRelu            BuiltinOp = 19
	OpRelu6           BuiltinOp = 21
	OpReshape         BuiltinOp = 22
	OpResizeBilinear  BuiltinOp = 23
	OpSoftmax         BuiltinOp = 25
	OpCustom          BuiltinOp = 32
	OpPad             BuiltinOp = 34
	OpMean            BuiltinOp = 40
	OpSqueeze         BuiltinOp = 43
	OpArgMax          BuiltinOp = 56
	OpQuantize        BuiltinOp = 114
)

var opNames = map[BuiltinOp]string{
	OpAdd: "ADD", OpAveragePool2D: "AVERAGE_POOL_2D", OpConcatenation: "CONCATENATION",
	OpConv2D: "CONV_2D", OpDepthwiseConv2D: "DEPTHWISE_CONV_2D", OpDequantize: "DEQUANTIZE",
	OpFullyConnected: "FULLY_CONNECTED", OpLogistic: "LOGISTIC", OpMaxPool2D: "MAX_POOL_2D",
	OpMul: "MUL", OpRelu: "RELU", OpRelu6: "RELU6", OpReshape: "RESHAPE", OpSoftmax: "SOFTMAX",
	OpPad: "PAD", OpMean: "MEAN", OpSqueeze: "SQUEEZE", OpQuantize: "QUANTIZE", OpCustom: "CUSTOM",
	OpResizeBilinear: "RESIZE_BILINEAR", OpArgMax: "ARG_MAX",
}

func (o BuiltinOp) String() string {
	if s, ok := opNames[o]; ok {
		return s
	}
	return fmt.Sprintf("BuiltinOp(%d)", int32(o))
}

// Padding is the schema enum Padding.
type Padding int8

// Padding modes.
const (
	PaddingSame  Padding = 0
	PaddingValid Padding = 1
)

// Activation is a fused activation (schema enum ActivationFunctionType).
type Activation int8

// Fused activations.
const (
	ActNone      Activation = 0
	ActRelu      Activation = 1
	ActReluN1To1 Activation = 2
	ActRelu6     Activation = 3
	ActTanh      Activation = 4
	ActSignBit   Activation = 5
)

// Model is the decoded root table. Byte slices in it (buffer contents)
// alias the data passed to ReadModel.
type Model struct {
	Version       uint32
	Description   string
	OperatorCodes []OperatorCode
	Subgraphs     []Subgraph
	Buffers       [][]byte // Buffers[0] is the schema's empty sentinel
}

// OperatorCode names the kind of an operator.
type OperatorCode struct {
	Builtin BuiltinOp
	Custom  string
	Version int32
}

// Subgraph is one computation graph; subgraph 0 is the model's main graph.
type Subgraph struct {
	Name      string
	Tensors   []Tensor
	Inputs    []int32
	Outputs   []int32
	Operators []Operator // in execution order
}

// Tensor describes one tensor of a subgraph.
type Tensor struct {
	Name   string
	Shape  []int32
	Type   TensorType
	Buffer uint32        // index into Model.Buffers; 0 for activations
	Quant  *Quantization // nil when the tensor is not quantised
}

// Quantization holds the affine parameters real = (q - ZeroPoint) * Scale.
// With more than one scale they run along axis Dim of the tensor.
type Quantization struct {
	Scale     []float32
	ZeroPoint []int64
	Dim       int32
}

// ZeroPoint0 returns the first zero point, 0 when there is none.
func (q *Quantization) ZeroPoint0() int64 {
	if len(q.ZeroPoint) == 0 {
		return 0
	}
	return q.ZeroPoint[0]
}

// Operator is one node of a subgraph.
type Operator struct {
	Opcode  uint32  // index into Model.OperatorCodes
	Inputs  []int32 // -1 marks an omitted optional input
	Outputs []int32
	// Options is one of *Conv2DOptions, *DepthwiseConv2DOptions,
	// *Pool2DOptions, *FullyConnectedOptions, *SoftmaxOptions,
	// *ConcatenationOptions, *AddOptions, *ReshapeOptions,
	// *ResizeBilinearOptions, *ArgMaxOptions, or nil when the operator
	// has none or they are of a kind not decoded here.
	Options any
}

// Conv2DOptions is the schema table Conv2DOptions.
type Conv2DOptions struct {
	Padding              Padding
	StrideW, StrideH     int32
	Activation           Activation
	DilationW, DilationH int32
}

// DepthwiseConv2DOptions is the schema table DepthwiseConv2DOptions.
type DepthwiseConv2DOptions struct {
	Padding              Padding
	StrideW, StrideH     int32
	DepthMultiplier      int32
	Activation           Activation
	DilationW, DilationH int32
}

// Pool2DOptions is the schema table Pool2DOptions.
type Pool2DOptions struct {
	Padding          Padding
	StrideW, StrideH int32
	FilterW, FilterH int32
	Activation       Activation
}

// FullyConnectedOptions is the schema table FullyConnectedOptions.
type FullyConnectedOptions struct {
	Activation Activation
}

// SoftmaxOptions is the schema table SoftmaxOptions.
type SoftmaxOptions struct {
	Beta float32
}

// ConcatenationOptions is the schema table ConcatenationOptions.
type ConcatenationOptions struct {
	Axis       int32
	Activation Activation
}

// AddOptions is the schema table AddOptions.
type AddOptions struct {
	Activation Activation
}

// ReshapeOptions is the schema table ReshapeOptions.
type ReshapeOptions struct {
	NewShape []int32
}

// ResizeBilinearOptions is the schema table ResizeBilinearOptions (its
// deprecated new_height and new_width fields are not read: the size is
// the operator's second input).
type ResizeBilinearOptions struct {
	AlignCorners     bool
	HalfPixelCenters bool
}

// ArgMaxOptions is the schema table ArgMaxOptions.
type ArgMaxOptions struct {
	OutputType TensorType
}

// Field ids (declaration order in schema.fbs) of the tables read here.
const (
	modelVersion       = 0
	modelOperatorCodes = 1
	modelSubgraphs     = 2
	modelDescription   = 3
	modelBuffers       = 4

	opcodeDeprecatedBuiltin = 0 // int8, all that files before the int32 field had
	opcodeCustom            = 1
	opcodeVersion           = 2
	opcodeBuiltin           = 3 // int32

	subgraphTensors   = 0
	subgraphInputs    = 1
	subgraphOutputs   = 2
	subgraphOperators = 3
	subgraphName      = 4

	tensorShape  = 0
	tensorType   = 1
	tensorBuffer = 2
	tensorName   = 3
	tensorQuant  = 4

	quantScale     = 2
	quantZeroPoint = 3
	quantDim       = 6

	operatorOpcode      = 0
	operatorInputs      = 1
	operatorOutputs     = 2
	operatorOptionsType = 3
	operatorOptions     = 4

	bufferData   = 0
	bufferOffset = 1 // data kept outside the flatbuffer, for files over 2 GB
	bufferSize   = 2
)

// BuiltinOptions union tags.
const (
	optConv2D          = 1
	optDepthwiseConv2D = 2
	optPool2D          = 5
	optFullyConnected  = 8
	optSoftmax         = 9
	optConcatenation   = 10
	optAdd             = 11
	optResizeBilinear  = 15
	optReshape         = 17
	optArgMax          = 40
)

// ReadModel decodes a TFLite flatbuffer and checks that every index in
// it (operator codes, tensors, buffers) points at something that exists.
func ReadModel(data []byte) (*Model, error) {
	if len(data) < 8 {
		return nil, fmt.Errorf("tflite: %d bytes is too short for a TFLite model", len(data))
	}
	if id := data[4:8]; string(id) != "TFL3" {
		return nil, fmt.Errorf("tflite: not a TFLite model (file identifier %q, want \"TFL3\")", id)
	}
	r := &fbReader{b: data}
	root := r.table(int64(r.u32(0, "root offset")), "model")
	m := &Model{
		Version:     root.u32(modelVersion, 0),
		Description: root.str(modelDescription, "model description"),
	}
	if r.err != nil {
		return nil, r.err
	}

	for i, t := range root.tables(modelOperatorCodes, "operator codes") {
		code := OperatorCode{
			Builtin: BuiltinOp(max(int32(t.i8(opcodeDeprecatedBuiltin, 0)), t.i32(opcodeBuiltin, 0))),
			Custom:  t.str(opcodeCustom, "custom code"),
			Version: t.i32(opcodeVersion, 1),
		}
		if r.err != nil {
			return nil, fmt.Errorf("operator code %d: %w", i, r.err)
		}
		m.OperatorCodes = append(m.OperatorCodes, code)
	}
	for i, t := range root.tables(modelBuffers, "buffers") {
		b := t.bytes(bufferData, "buffer data")
		if off := t.u64(bufferOffset, 0); off > 1 {
			size := t.u64(bufferSize, 0)
			if off > uint64(len(data)) || size > uint64(len(data))-off {
				r.fail("buffer data", int64(min(off, math.MaxInt64)), int64(min(size, math.MaxInt64)))
			} else {
				b = data[off : off+size]
			}
		}
		if r.err != nil {
			return nil, fmt.Errorf("buffer %d: %w", i, r.err)
		}
		m.Buffers = append(m.Buffers, b)
	}
	for i, t := range root.tables(modelSubgraphs, "subgraphs") {
		sg, err := readSubgraph(r, t)
		if err != nil {
			return nil, fmt.Errorf("subgraph %d: %w", i, err)
		}
		m.Subgraphs = append(m.Subgraphs, sg)
	}
	if r.err != nil {
		return nil, r.err
	}
	if err := m.check(); err != nil {
		return nil, err
	}
	return m, nil
}

func readSubgraph(r *fbReader, t table) (Subgraph, error) {
	sg := Subgraph{
		Name:    t.str(subgraphName, "subgraph name"),
		Inputs:  t.int32s(subgraphInputs, "subgraph inputs"),
		Outputs: t.int32s(subgraphOutputs, "subgraph outputs"),
	}
	if r.err != nil {
		return sg, r.err
	}
	for i, tt := range t.tables(subgraphTensors, "tensors") {
		ten := Tensor{
			Shape:  tt.int32s(tensorShape, "tensor shape"),
			Type:   TensorType(tt.i8(tensorType, 0)),
			Buffer: tt.u32(tensorBuffer, 0),
			Name:   tt.str(tensorName, "tensor name"),
		}
		if q, ok := tt.sub(tensorQuant, "quantization"); ok {
			scale := q.float32s(quantScale, "quantization scale")
			if len(scale) > 0 {
				ten.Quant = &Quantization{
					Scale:     scale,
					ZeroPoint: q.int64s(quantZeroPoint, "quantization zero point"),
					Dim:       q.i32(quantDim, 0),
				}
			}
		}
		if r.err != nil {
			return sg, fmt.Errorf("tensor %d: %w", i, r.err)
		}
		sg.Tensors = append(sg.Tensors, ten)
	}
	for i, ot := range t.tables(subgraphOperators, "operators") {
		op := Operator{
			Opcode:  ot.u32(operatorOpcode, 0),
			Inputs:  ot.int32s(operatorInputs, "operator inputs"),
			Outputs: ot.int32s(operatorOutputs, "operator outputs"),
		}
		if o, ok := ot.sub(operatorOptions, "builtin options"); ok {
			op.Options = readOptions(ot.u8(operatorOptionsType, 0), o)
		}
		if r.err != nil {
			return sg, fmt.Errorf("operator %d: %w", i, r.err)
		}
		sg.Operators = append(sg.Operators, op)
	}
	return sg, r.err
}

// readOptions decodes the builtin_options union member with tag kind.
func readOptions(kind uint8, t table) any {
	switch kind {
	case optConv2D:
		return &Conv2DOptions{
			Padding:    Padding(t.i8(0, 0)),
			StrideW:    t.i32(1, 0),
			StrideH:    t.i32(2, 0),
			Activation: Activation(t.i8(3, 0)),
			DilationW:  t.i32(4, 1),
			DilationH:  t.i32(5, 1),
		}
	case optDepthwiseConv2D:
		return &DepthwiseConv2DOptions{
			Padding:         Padding(t.i8(0, 0)),
			StrideW:         t.i32(1, 0),
			StrideH:         t.i32(2, 0),
			DepthMultiplier: t.i32(3, 0),
			Activation:      Activation(t.i8(4, 0)),
			DilationW:       t.i32(5, 1),
			DilationH:       t.i32(6, 1),
		}
	case optPool2D:
		return &Pool2DOptions{
			Padding:    Padding(t.i8(0, 0)),
			StrideW:    t.i32(1, 0),
			StrideH:    t.i32(2, 0),
			FilterW:    t.i32(3, 0),
			FilterH:    t.i32(4, 0),
			Activation: Activation(t.i8(5, 0)),
		}
	case optFullyConnected:
		return &FullyConnectedOptions{Activation: Activation(t.i8(0, 0))}
	case optSoftmax:
		return &SoftmaxOptions{Beta: t.f32(0, 0)}
	case optConcatenation:
		return &ConcatenationOptions{Axis: t.i32(0, 0), Activation: Activation(t.i8(1, 0))}
	case optAdd:
		return &AddOptions{Activation: Activation(t.i8(0, 0))}
	case optReshape:
		return &ReshapeOptions{NewShape: t.int32s(0, "reshape new_shape")}
	case optResizeBilinear:
		return &ResizeBilinearOptions{AlignCorners: t.u8(2, 0) != 0, HalfPixelCenters: t.u8(3, 0) != 0}
	case optArgMax:
		return &ArgMaxOptions{OutputType: TensorType(t.i8(0, 0))}
	}
	return nil
}

// check validates the cross references between tables.
func (m *Model) check() error {
	if len(m.Subgraphs) == 0 {
		return errors.New("tflite: model has no subgraphs")
	}
	if len(m.Buffers) == 0 {
		return errors.New("tflite: model has no buffers (not even the empty sentinel)")
	}
	for si, sg := range m.Subgraphs {
		nt := int32(len(sg.Tensors))
		for ti, t := range sg.Tensors {
			if int(t.Buffer) >= len(m.Buffers) {
				return fmt.Errorf("tflite: subgraph %d tensor %d (%s): buffer %d of %d", si, ti, t.Name, t.Buffer, len(m.Buffers))
			}
			for _, d := range t.Shape {
				if d < 0 {
					return fmt.Errorf("tflite: subgraph %d tensor %d (%s): shape %v has a negative or dynamic dimension", si, ti, t.Name, t.Shape)
				}
			}
		}
		for _, idx := range append(append([]int32{}, sg.Inputs...), sg.Outputs...) {
			if idx < 0 || idx >= nt {
				return fmt.Errorf("tflite: subgraph %d: input/output tensor %d of %d", si, idx, nt)
			}
		}
		for oi, op := range sg.Operators {
			if int(op.Opcode) >= len(m.OperatorCodes) {
				return fmt.Errorf("tflite: subgraph %d operator %d: opcode index %d of %d", si, oi, op.Opcode, len(m.OperatorCodes))
			}
			for _, idx := range op.Inputs {
				if idx < -1 || idx >= nt {
					return fmt.Errorf("tflite: subgraph %d operator %d: input tensor %d of %d", si, oi, idx, nt)
				}
			}
			for _, idx := range op.Outputs {
				if idx < 0 || idx >= nt {
					return fmt.Errorf("tflite: subgraph %d operator %d: output tensor %d of %d", si, oi, idx, nt)
				}
			}
		}
	}
	return nil
}

// Op returns the builtin code of operator op.
func (m *Model) Op(op Operator) BuiltinOp {
	return m.OperatorCodes[op.Opcode].Builtin
}

// fbReader reads little-endian flatbuffer scalars with bounds checks. The
// first failed check is kept in err; later reads return zero values, so
// callers check err once per logical item instead of after every read.
type fbReader struct {
	b   []byte
	err error
}

func (r *fbReader) fail(what string, off, n int64) {
	if r.err == nil {
		r.err = fmt.Errorf("tflite: %s at offset %d (%d bytes) lies outside the %d-byte file; truncated or corrupt", what, off, n, len(r.b))
	}
}

// ok reports whether n bytes at off can be read.
func (r *fbReader) ok(off, n int64, what string) bool {
	if r.err != nil {
		return false
	}
	if off < 0 || n < 0 || off > int64(len(r.b))-n {
		r.fail(what, off, n)
		return false
	}
	return true
}

func (r *fbReader) u16(off int64, what string) uint16 {
	if !r.ok(off, 2, what) {
		return 0
	}
	return binary.LittleEndian.Uint16(r.b[off:])
}

func (r *fbReader) u32(off int64, what string) uint32 {
	if !r.ok(off, 4, what) {
		return 0
	}
	return binary.LittleEndian.Uint32(r.b[off:])
}

func (r *fbReader) u64(off int64, what string) uint64 {
	if !r.ok(off, 8, what) {
		return 0
	}
	return binary.LittleEndian.Uint64(r.b[off:])
}

// deref follows the unsigned offset stored at off.
func (r *fbReader) deref(off int64, what string) int64 {
	return off + int64(r.u32(off, what))
}

// table is a flatbuffer table: pos is its start, vt its vtable. A table
// whose vtable could not be read has vtLen 0, so all its fields read as
// absent (defaults) and r.err says why.
type table struct {
	r     *fbReader
	pos   int64
	vt    int64
	vtLen int64
}

func (r *fbReader) table(pos int64, what string) table {
	t := table{r: r, pos: pos}
	// The table starts with a signed offset back to its vtable.
	soff := int32(r.u32(pos, what))
	vt := pos - int64(soff)
	vtLen := int64(r.u16(vt, what+" vtable"))
	objLen := int64(r.u16(vt+2, what+" vtable"))
	if r.err != nil {
		return t
	}
	if vtLen < 4 || vtLen%2 != 0 {
		r.err = fmt.Errorf("tflite: %s vtable at offset %d has impossible size %d; corrupt file", what, vt, vtLen)
		return t
	}
	if !r.ok(vt, vtLen, what+" vtable") || !r.ok(pos, objLen, what) {
		return t
	}
	t.vt, t.vtLen = vt, vtLen
	return t
}

// field returns the absolute offset of field id, or -1 when it is absent.
func (t table) field(id int) int64 {
	slot := int64(4 + 2*id)
	if slot+2 > t.vtLen {
		return -1
	}
	o := binary.LittleEndian.Uint16(t.r.b[t.vt+slot:])
	if o == 0 {
		return -1
	}
	return t.pos + int64(o)
}

func (t table) u8(id int, def uint8) uint8 {
	p := t.field(id)
	if p < 0 || !t.r.ok(p, 1, "scalar field") {
		return def
	}
	return t.r.b[p]
}

func (t table) i8(id int, def int8) int8 { return int8(t.u8(id, uint8(def))) }

func (t table) u32(id int, def uint32) uint32 {
	p := t.field(id)
	if p < 0 {
		return def
	}
	return t.r.u32(p, "scalar field")
}

func (t table) i32(id int, def int32) int32 { return int32(t.u32(id, uint32(def))) }

func (t table) f32(id int, def float32) float32 {
	return math.Float32frombits(t.u32(id, math.Float32bits(def)))
}

func (t table) u64(id int, def uint64) uint64 {
	p := t.field(id)
	if p < 0 {
		return def
	}
	return t.r.u64(p, "scalar field")
}

// sub returns the table stored in field id.
func (t table) sub(id int, what string) (table, bool) {
	p := t.field(id)
	if p < 0 {
		return table{}, false
	}
	sub := t.r.table(t.r.deref(p, what), what)
	return sub, t.r.err == nil
}

// vector returns the start and length of the vector in field id, having
// checked that its n elements of elemSize bytes lie inside the file.
func (t table) vector(id int, elemSize int64, what string) (start, n int64) {
	p := t.field(id)
	if p < 0 {
		return 0, 0
	}
	v := t.r.deref(p, what)
	n = int64(t.r.u32(v, what+" length"))
	if !t.r.ok(v+4, n*elemSize, what) {
		return 0, 0
	}
	return v + 4, n
}

func (t table) bytes(id int, what string) []byte {
	s, n := t.vector(id, 1, what)
	return t.r.b[s : s+n : s+n]
}

func (t table) str(id int, what string) string { return string(t.bytes(id, what)) }

func (t table) int32s(id int, what string) []int32 {
	s, n := t.vector(id, 4, what)
	out := make([]int32, n)
	for i := range out {
		out[i] = int32(binary.LittleEndian.Uint32(t.r.b[s+4*int64(i):]))
	}
	return out
}

func (t table) float32s(id int, what string) []float32 {
	s, n := t.vector(id, 4, what)
	out := make([]float32, n)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.r.b[s+4*int64(i):]))
	}
	return out
}

func (t table) int64s(id int, what string) []int64 {
	s, n := t.vector(id, 8, what)
	out := make([]int64, n)
	for i := range out {
		out[i] = int64(binary.LittleEndian.Uint64(t.r.b[s+8*int64(i):]))
	}
	return out
}

// tables returns the tables of a vector of tables.
func (t table) tables(id int, what string) []table {
	s, n := t.vector(id, 4, what)
	out := make([]table, 0, n)
	for i := range n {
		e := s + 4*i
		out = append(out, t.r.table(t.r.deref(e, what), what))
		if t.r.err != nil {
			return nil
		}
	}
	return out
}
