package web

import (
	"testing"
	"unicode/utf8"
)

// FuzzParseMessage: any bytes give either a valid message or an error
// payload with a code and a message, never a panic.
func FuzzParseMessage(f *testing.F) {
	for _, s := range []string{
		`{"type":"translate","v":1,"payload":{"id":"a","text":"hi","model":"en-de","beam":3}}`,
		`{"type":"cancel","v":1,"payload":{"id":"a"}}`,
		`{"type":"caption","v":1,"payload":{"id":"b","image":"data:image/png;base64,iVBORw0KGgo=","beam":1}}`,
		`{"type":"caption","v":1,"payload":{"image":"data:text/plain,hi"}}`, `{"type":"caption","v":1,"payload":{"image":"!!"}}`,
		`{"type":"translate","v":2}`, `{"type":"x","v":1}`, `[]`, `null`, `{"v":1e999}`, "\xff\xfe", `{"type":"translate","v":1,"payload":"str"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, e := parseMessage(data)
		if e != nil {
			if e.Code == "" || e.Message == "" || m.typ != "" {
				t.Fatalf("error without code or message: %+v (type %q)", e, m.typ)
			}
			return
		}
		switch m.typ {
		case MsgTranslate:
			if !utf8.ValidString(m.translate.Text) {
				t.Fatalf("invalid text passed through: %q", m.translate.Text)
			}
		case MsgCaption:
			if m.caption.data == nil || m.caption.Image != "" {
				t.Fatalf("caption accepted without its decoded image: %+v", m.caption)
			}
		case MsgCancel:
		default:
			t.Fatalf("accepted unknown type %q", m.typ)
		}
	})
}
