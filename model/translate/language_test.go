package translate

import (
	"errors"
	"strings"
	"testing"

	"attention/model/vocab"
)

func TestCheckLanguage(t *testing.T) {
	src, err := vocab.New([]string{"<pad>", "<unk>", "<s>", "</s>", "the", "dog", "runs", "a", "man", ".", "Anna"})
	if err != nil {
		t.Fatal(err)
	}
	m := &Model{Src: src}
	for _, tc := range []struct {
		text string
		want string // "" accepts; else a part of the refusal
	}{
		{"The dog runs.", ""},
		{"A man runs with Zorblax.", ""}, // one unknown name of four words
		{"The 25 dog runs 30 km.", ""},   // numbers do not count: 1 of 4 words unknown
		{"나는 배가 고파요", "Korean (Hangul)"}, // what a Korean class might type
		{"Я голоден", "Cyrillic"},
		{"blorf wibble xqzt the", "3 of the 4 words"},
		{"The man runs with Peter, Zoltan and Berlinda.", ""}, // names are copied, not counted (else 5 of 8)
	} {
		err := m.checkLanguage(vocab.Tokenize(tc.text, "en"))
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%q refused: %v", tc.text, err)
		case tc.want != "" && (!errors.Is(err, ErrNotEnglish) || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%q: error %v, want ErrNotEnglish naming %q", tc.text, err, tc.want)
		}
	}
}
