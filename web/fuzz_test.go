package web

import (
	"bytes"
	"testing"
	"unicode/utf8"

	"attention/model/photo"
)

// parseMessage reads one message from bytes, as the websocket reader does.
func parseMessage(data []byte, mem *budget) (*message, *Error) {
	var sc scanner
	sc.reset(bytes.NewReader(data))
	p := parser{photoMem: mem, photoLimit: photo.DefaultLimits().MaxBytes}
	m, err := p.parse(&sc)
	if err != nil {
		e, _ := asError(err)
		return m, e
	}
	return m, nil
}

// FuzzParseMessage: any bytes give either a valid message or an error
// payload with a code and a message, never a panic; a photo's memory is
// always given back.
func FuzzParseMessage(f *testing.F) {
	for _, s := range []string{
		`{"type":"translate","v":1,"payload":{"id":"a","text":"hi","model":"en-de","beam":3}}`,
		`{"type":"cancel","v":1,"payload":{"id":"a"}}`,
		`{"type":"caption","v":1,"payload":{"id":"b","image":"data:image/png;base64,iVBORw0KGgo=","beam":1}}`,
		`{"payload":{"id":"b","image":"iVBORw0KGgo=","beam":1},"v":1,"type":"caption"}`,
		`{"type":"caption","v":1,"payload":{"image":"data:text/plain,hi"}}`, `{"type":"caption","v":1,"payload":{"image":"!!"}}`,
		`{"type":"caption","v":1,"payload":{"image":"aGk\/"}}`, `{"type":"caption","v":1,"payload":{"image":"aGk\n"}}`,
		`{"type":"translate","v":2}`, `{"type":"x","v":1}`, `[]`, `null`, `{"v":1e999}`, "\xff\xfe", `{"type":"translate","v":1,"payload":"str"}`,
		` { "type" : "translate" , "v" : 1 , "payload" : { "text" : "a \" b" , "model" : "m" } } `,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		mem := &budget{max: 64 << 20}
		m, e := parseMessage(data, mem)
		if e != nil {
			if e.Code == "" || e.Message == "" {
				t.Fatalf("error without code or message: %+v (type %q)", e, m.typ)
			}
			if mem.used != 0 {
				t.Fatalf("a refused message holds %d bytes of photo memory", mem.used)
			}
			return
		}
		switch m.typ {
		case MsgTranslate:
			if !utf8.ValidString(m.translate.Text) {
				t.Fatalf("invalid text passed through: %q", m.translate.Text)
			}
		case MsgCaption:
			if m.caption.photo.Len() > photo.DefaultLimits().MaxBytes || int64(len(m.caption.photo.Bytes())) != m.caption.photo.Len() {
				t.Fatalf("caption accepted with %d bytes", m.caption.photo.Len())
			}
		case MsgCancel:
		default:
			t.Fatalf("accepted unknown type %q", m.typ)
		}
		m.done()
		if mem.used != 0 {
			t.Fatalf("%d bytes of photo memory left held", mem.used)
		}
	})
}
