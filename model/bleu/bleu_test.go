package bleu

import (
	"math"
	"reflect"
	"testing"
)

// The example from sacreBLEU's README, with its published output:
// BLEU = 48.53 82.4/50.0/45.5/37.5 (BP = 0.943 ratio = 0.944 hyp_len = 17 ref_len = 18)
func TestSacreBLEUReadmeExample(t *testing.T) {
	refs := [][]string{
		{"The dog bit the man.", "It was not unexpected.", "The man bit him first."},
		{"The dog had bit the man.", "No one was surprised.", "The man had bitten the dog."},
	}
	sys := []string{"The dog bit the man.", "It wasn't surprising.", "The man had just bitten him."}
	s := Corpus(sys, refs...)
	if got := s.String(); got != "BLEU = 48.53 82.4/50.0/45.5/37.5 (BP = 0.943 ratio = 0.944 hyp_len = 17 ref_len = 18)" {
		t.Fatalf("got %s", got)
	}
}

// Worked by hand: hyp "the cat sat on mat" vs ref "the cat sat on the mat".
// 1-grams 5/5, 2-grams 3/4 (the cat, cat sat, sat on), 3-grams 2/3, 4-grams 1/2.
// BP = exp(1 - 6/5). BLEU = 100 * BP * (1 * 3/4 * 2/3 * 1/2)^(1/4).
func TestHandWorked(t *testing.T) {
	s := Corpus([]string{"the cat sat on mat"}, []string{"the cat sat on the mat"})
	want := 100 * math.Exp(1-6.0/5) * math.Pow(1*0.75*(2.0/3)*0.5, 0.25)
	if math.Abs(s.BLEU-want) > 1e-9 {
		t.Fatalf("BLEU %.6f, want %.6f", s.BLEU, want)
	}
	if s.Precisions != [4]float64{100, 75, 200.0 / 3, 50} {
		t.Fatalf("precisions %v", s.Precisions)
	}
	// Perfect match and nothing in common.
	if s := Corpus([]string{"a b c d e"}, []string{"a b c d e"}); math.Abs(s.BLEU-100) > 1e-9 {
		t.Fatalf("identical: %v", s.BLEU)
	}
	// Nothing in common: sacreBLEU stops early with 0 (no smoothing of an
	// all-zero match), precisions 0.
	if s := Corpus([]string{"x y z w"}, []string{"a b c d"}); s.BLEU != 0 || s.Precisions != [4]float64{} {
		t.Fatalf("disjoint: %v %v, want 0", s.BLEU, s.Precisions)
	}
	// An empty hypothesis: 0.
	if s := Corpus([]string{""}, []string{"a b c d"}); s.BLEU != 0 {
		t.Fatalf("empty: %v, want 0", s.BLEU)
	}
	// One unigram in common and nothing longer: exp smoothing of the
	// zero counts, 100 * (1/4 * 1/(2*3) * 1/(4*2) * 1/(8*1))^(1/4).
	want = 100 * math.Pow(0.25*(1.0/6)*(1.0/8)*(1.0/8), 0.25)
	if s := Corpus([]string{"a y z w"}, []string{"a b c d"}); math.Abs(s.BLEU-want) > 1e-9 {
		t.Fatalf("one unigram: %v, want %v", s.BLEU, want)
	}
	// Too short for any 4-gram: zero.
	if s := Corpus([]string{"a b"}, []string{"a b"}); s.BLEU != 0 {
		t.Fatalf("two words: %v", s.BLEU)
	}
	// exp smoothing: no 4-gram match. p4 = 1/(2*1) -> 50%.
	s = Corpus([]string{"a b c x"}, []string{"a b c d"})
	want = 100 * math.Pow(0.75*(2.0/3)*0.5*0.5, 0.25)
	if math.Abs(s.BLEU-want) > 1e-9 {
		t.Fatalf("smoothed BLEU %.6f, want %.6f", s.BLEU, want)
	}
}

func TestTokenize13a(t *testing.T) {
	cases := map[string][]string{
		"Hello, world!":           {"Hello", ",", "world", "!"},
		"It costs $3.50, ok?":     {"It", "costs", "$", "3.50", ",", "ok", "?"},
		"l'homme (grand) 1-2":     {"l'homme", "(", "grand", ")", "1", "-", "2"},
		"A &amp; B &quot;x&quot;": {"A", "&", "B", `"`, "x", `"`},
		"end.":                    {"end", "."},
	}
	for in, want := range cases {
		if got := Tokenize13a(in); !reflect.DeepEqual(got, want) {
			t.Errorf("Tokenize13a(%q) = %q, want %q", in, got, want)
		}
	}
}
