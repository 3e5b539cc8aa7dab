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
	Pair  int      // for CopyCases, its index among the pairs
}

// CopyCases picks the held-out sentences that have numbers or names: source
// tokens that are all digits, or capitalised words that do not start the
// sentence (and are not "I"), which a reference translation contains as
// they are, so that a correct translation keeps them.
func CopyCases(pairs []Pair, srcLang, tgtLang string) []CopyCase {
	var out []CopyCase
	for i, p := range pairs {
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
			out = append(out, CopyCase{Src: p.Src, Items: items, Pair: i})
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
	{Src: "My name is Anna and I am 25 years old.", Items: []string{"Anna", "25"}},
	{Src: "I was born in 1990.", Items: []string{"1990"}},
	{Src: "Tom has 3 dogs and 2 cats.", Items: []string{"Tom", "3", "2"}},
	{Src: "The train leaves at 7.", Items: []string{"7"}},
	{Src: "Maria lives in Berlin with her brother Jonas.", Items: []string{"Maria", "Berlin", "Jonas"}},
	{Src: "We need 12 eggs for the cake.", Items: []string{"12"}},
	{Src: "Emma and Lukas are 8 years old.", Items: []string{"Emma", "Lukas", "8"}},
	{Src: "There are 365 days in a year.", Items: []string{"365"}},
	{Src: "Paul bought 4 apples.", Items: []string{"Paul", "4"}},
	{Src: "Room 214 is on the second floor.", Items: []string{"214"}},
	{Src: "Sarah is waiting for Peter.", Items: []string{"Sarah", "Peter"}},
	{Src: "A man in a red shirt holds 2 balloons.", Items: []string{"2"}},
}

// CopyTally counts the numbers and names that translations kept.
type CopyTally struct {
	Found, Total int
	Misses       []string // "source -> translation" for each sentence that lost one
}

// Add scores the translation out (detokenised, in lang) of case c.
func (t *CopyTally) Add(c CopyCase, out, lang string) {
	toks := vocab.Tokenize(out, lang)
	ok := true
	for _, it := range c.Items {
		t.Total++
		if slices.Contains(toks, it) {
			t.Found++
		} else {
			ok = false
		}
	}
	if !ok {
		t.Misses = append(t.Misses, c.Src+" -> "+out)
	}
}

// Rate is the share of items kept, in percent.
func (t *CopyTally) Rate() float64 { return 100 * float64(t.Found) / float64(max(t.Total, 1)) }

// CopyRate translates every case, as the server reads typed text, and
// tallies the items kept.
func CopyRate(m *Model, cases []CopyCase, opts model.Options) CopyTally {
	var t CopyTally
	for _, c := range cases {
		out, _ := m.Translate(c.Src, opts) // a refused sentence keeps nothing
		t.Add(c, out, m.Cfg.TgtLang)
	}
	return t
}
