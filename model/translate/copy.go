package translate

import (
	"slices"
	"unicode"
	"unicode/utf8"

	"attention/model"
	"attention/model/vocab"
)

// CopyCase is a sentence whose numbers and names must come out as written.
type CopyCase struct {
	Src   string
	Items []string // tokens of Src that the translation must contain
}

// CopyCases picks the held-out sentences that have numbers or names: source
// tokens that are all digits, or capitalised words that do not start the
// sentence (and are not "I"), which a reference translation contains as
// they are, so that a correct translation keeps them.
func CopyCases(pairs []Pair, srcLang, tgtLang string) []CopyCase {
	var out []CopyCase
	for _, p := range pairs {
		words := vocab.Tokenize(p.Src, srcLang)
		var items []string
		for i, w := range words {
			if !(vocab.IsNumber(w) || (i > 0 && w != "I" && startsUpper(w))) || slices.Contains(items, w) {
				continue
			}
			for _, r := range p.Refs {
				if slices.Contains(vocab.Tokenize(r, tgtLang), w) {
					items = append(items, w)
					break
				}
			}
		}
		if len(items) > 0 {
			out = append(out, CopyCase{Src: p.Src, Items: items})
		}
	}
	return out
}

func startsUpper(w string) bool {
	r, _ := utf8.DecodeRuneInString(w)
	return unicode.IsUpper(r)
}

// EverydayCopyCases are sentences a class might type, with the numbers and
// names that must survive translation into either language.
var EverydayCopyCases = []CopyCase{
	{"My name is Anna and I am 25 years old.", []string{"Anna", "25"}},
	{"I was born in 1990.", []string{"1990"}},
	{"Tom has 3 dogs and 2 cats.", []string{"Tom", "3", "2"}},
	{"The train leaves at 7.", []string{"7"}},
	{"Maria lives in Berlin with her brother Jonas.", []string{"Maria", "Berlin", "Jonas"}},
	{"We need 12 eggs for the cake.", []string{"12"}},
	{"Emma and Lukas are 8 years old.", []string{"Emma", "Lukas", "8"}},
	{"There are 365 days in a year.", []string{"365"}},
	{"Paul bought 4 apples.", []string{"Paul", "4"}},
	{"Room 214 is on the second floor.", []string{"214"}},
	{"Sarah is waiting for Peter.", []string{"Sarah", "Peter"}},
	{"A man in a red shirt holds 2 balloons.", []string{"2"}},
}

// CopyRate translates every case and counts the items found among the
// output's tokens; misses lists the sentences that lost one.
func CopyRate(m *Model, cases []CopyCase, opts model.Options) (found, total int, misses []string) {
	for _, c := range cases {
		words := AsSentence(vocab.Tokenize(c.Src, m.Cfg.SrcLang))
		out := m.Translate(words, opts)
		ok := true
		for _, it := range c.Items {
			total++
			if slices.Contains(out, it) {
				found++
			} else {
				ok = false
			}
		}
		if !ok {
			misses = append(misses, c.Src+" -> "+vocab.Detokenize(out, m.Cfg.TgtLang))
		}
	}
	return found, total, misses
}
