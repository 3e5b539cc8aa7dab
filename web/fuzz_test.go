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
		`{"type":"translate","v":2}`, `{"type":"x","v":1}`, `[]`, `null`, `{"v":1e999}`, "\xff\xfe", `{"type":"translate","v":1,"payload":"str"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		typ, req, e := parseMessage(data)
		if e != nil {
			if e.Code == "" || e.Message == "" || typ != "" {
				t.Fatalf("error without code or message: %+v (type %q)", e, typ)
			}
			return
		}
		if typ != MsgTranslate && typ != MsgCancel {
			t.Fatalf("accepted unknown type %q", typ)
		}
		if typ == MsgTranslate && !utf8.ValidString(req.Text) {
			t.Fatalf("invalid text passed through: %q", req.Text)
		}
	})
}
