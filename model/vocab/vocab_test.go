package vocab

import (
	"bytes"
	"reflect"
	"testing"
)

func TestTokenize(t *testing.T) {
	cases := []struct {
		lang, in string
		want     []string
	}{
		{"en", "Two young, White males are outside.", []string{"Two", "young", ",", "White", "males", "are", "outside", "."}},
		{"en", "I don't know Tom's T-shirt!", []string{"I", "do", "n't", "know", "Tom", "'s", "T-shirt", "!"}},
		{"fr", "J'espère le revoir.", []string{"J'", "espère", "le", "revoir", "."}},
		{"fr", "Comment êtes-vous entré ?", []string{"Comment", "êtes-vous", "entré", "?"}},
		{"fr", "aujourd'hui, qu'il", []string{"aujourd'hui", ",", "qu'", "il"}},
		{"de", "Ein Mann (mit Hut) läuft.", []string{"Ein", "Mann", "(", "mit", "Hut", ")", "läuft", "."}},
		{"en", "  \t\x00 ", nil},
		{"en", "smile 😀 now", []string{"smile", "😀", "now"}},
		{"en", "zero\u200bwidth \u200e\ufeffmarks", []string{"zero", "width", "marks"}},
	}
	for _, c := range cases {
		got := Tokenize(c.in, c.lang)
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("Tokenize(%q, %s) = %q, want %q", c.in, c.lang, got, c.want)
		}
	}
}

func TestDetokenizeRoundTrip(t *testing.T) {
	cases := []struct{ lang, text string }{
		{"en", "I don't know Tom's T-shirt!"},
		{"de", "Ein Mann (mit Hut) läuft."},
		{"fr", "J'espère le revoir, aujourd'hui ?"},
	}
	for _, c := range cases {
		if got := Detokenize(Tokenize(c.text, c.lang), c.lang); got != c.text {
			t.Errorf("round trip %q -> %q", c.text, got)
		}
	}
}

func TestVocab(t *testing.T) {
	v := Build([][]string{{"a", "b", "a"}, {"c", "a", "b"}}, 2)
	if v.Len() != 6 || v.Word(4) != "a" || v.Word(5) != "b" || v.ID("c") != Unk {
		t.Fatalf("unexpected vocab %q", v.Words())
	}
	var buf bytes.Buffer
	if _, err := v.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	w, err := Read(&buf)
	if err != nil || !reflect.DeepEqual(w.Words(), v.Words()) {
		t.Fatalf("read back %q, %v", w.Words(), err)
	}
	if _, err := New([]string{"a", "b", "c", "d"}); err == nil {
		t.Fatal("want an error for a list without reserved tokens")
	}
}
