package mobilenet

import (
	"fmt"
	"os"
	"testing"
)

func TestZZDump(t *testing.T) {
	data, err := os.ReadFile("../../../shared/data/weights/deeplabv3_mnv2_pascal_quant.tflite")
	if err != nil {
		t.Fatal(err)
	}
	m, err := ReadModel(data)
	if err != nil {
		t.Fatal(err)
	}
	// raw option tags
	r := &fbReader{b: data}
	root := r.table(int64(r.u32(0, "root")), "model")
	sgs := root.tables(modelSubgraphs, "sg")
	ots := sgs[0].tables(subgraphOperators, "ops")
	sg := m.Subgraphs[0]
	fmt.Println("subgraphs", len(m.Subgraphs), "tensors", len(sg.Tensors), "ops", len(sg.Operators), "desc", m.Description)
	for _, c := range m.OperatorCodes {
		fmt.Printf("opcode %v custom=%q v%d\n", c.Builtin, c.Custom, c.Version)
	}
	desc := func(i int32) string {
		if i < 0 {
			return "-"
		}
		tt := sg.Tensors[i]
		q := ""
		if tt.Quant != nil {
			q = fmt.Sprintf(" q(%g,%v,n=%d)", tt.Quant.Scale[0], tt.Quant.ZeroPoint0(), len(tt.Quant.Scale))
		}
		c := ""
		if len(m.Buffers[tt.Buffer]) > 0 {
			c = " const"
			if tt.Type == Int32 && len(m.Buffers[tt.Buffer]) <= 16 {
				c += fmt.Sprintf("%v", m.Buffers[tt.Buffer])
			}
		}
		return fmt.Sprintf("%d:%s%v%s%s%s", i, tt.Name, tt.Shape, tt.Type, q, c)
	}
	for _, i := range sg.Inputs {
		fmt.Println("IN", desc(i))
	}
	for _, i := range sg.Outputs {
		fmt.Println("OUT", desc(i))
	}
	for i, op := range sg.Operators {
		tag := ots[i].u8(operatorOptionsType, 0)
		fmt.Printf("#%d %v tag=%d opts=%+v\n", i, m.Op(op), tag, op.Options)
		for _, x := range op.Inputs {
			fmt.Println("    in ", desc(x))
		}
		for _, x := range op.Outputs {
			fmt.Println("    out", desc(x))
		}
		if o, ok := ots[i].sub(operatorOptions, "o"); ok && op.Options == nil {
			fmt.Printf("    raw vtlen=%d fields:", o.vtLen)
			for f := 0; f < int(o.vtLen-4)/2; f++ {
				fmt.Printf(" f%d=%d", f, o.u8(f, 255))
			}
			fmt.Println()
		}
	}
}
