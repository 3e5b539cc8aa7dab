package vocab

import (
	"strings"
	"testing"
	"unicode"
)

// FuzzTokenize: tokens are never empty and never hold spaces or control
// characters, whatever the input, and detokenising never panics.
func FuzzTokenize(f *testing.F) {
	for _, s := range []string{"Hello, world!", "l'homme d'aujourd'hui", "don't", "😀 \u200fשלום\u200e", "a\x00b", "\xff\xfe", "'''", "-a-", "T-shirt's"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, lang := range []string{"en", "fr", "de"} {
			toks := Tokenize(s, lang)
			for _, tok := range toks {
				if tok == "" || strings.IndexFunc(tok, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }) >= 0 {
					t.Fatalf("%s: bad token %q from %q", lang, tok, s)
				}
			}
			Detokenize(toks, lang)
		}
	})
}
