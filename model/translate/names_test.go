package translate

import (
	"strings"
	"testing"

	"attention/model"
	"attention/model/vocab"
)

func toks(s string) []string { return strings.Fields(s) }

// Training pairs: names the target keeps (or respells slightly) become the
// name placeholder on both sides, translated names stay words, and a
// spelled-out number the source writes in digits becomes the number
// placeholder.
func TestPairTokens(t *testing.T) {
	lx := &Lexicon{lower: map[string]bool{"the": true, "a": true}, kept: map[string]bool{"Tom": true, "Mary": true, "Tokyo": true, "Anna": true}}
	c := Config{TgtLang: "de", Numbers: true, Names: true, KeptNames: lx.Kept()}
	for _, tc := range []struct{ src, tgt, wantSrc, wantTgt string }{
		{"Tom and Mary went to Tokyo .", "Tom und Maria fuhren nach Tokio .",
			"<name> and <name> went to <name> .", "<name> und <name> fuhren nach <name> ."},
		{"3 boys play with Anna .", "Drei Jungen spielen mit Anna .",
			"<num> boys play with <name> .", "<num> Jungen spielen mit <name> ."},
		{"The man speaks English .", "Der Mann spricht Englisch .",
			"The man speaks English .", "Der Mann spricht Englisch ."},
		{"I saw Tom 's dog .", "Ich sah Toms Hund .", // a genitive is not a respelling
			"I saw <name> 's dog .", "Ich sah Toms Hund ."},
		{"A dog has 1 ball .", "Ein Hund hat einen Ball .",
			"A dog has <num> ball .", "Ein Hund hat einen Ball ."},
	} {
		s, g := c.PairTokens(toks(tc.src), toks(tc.tgt), lx)
		if strings.Join(s, " ") != tc.wantSrc || strings.Join(g, " ") != tc.wantTgt {
			t.Errorf("%q / %q:\n got %q / %q\nwant %q / %q", tc.src, tc.tgt, strings.Join(s, " "), strings.Join(g, " "), tc.wantSrc, tc.wantTgt)
		}
	}
	// Without Names, names stay words (numbers are still masked).
	s, g := Config{TgtLang: "de", Numbers: true}.PairTokens(toks("Tom has 3 cats ."), toks("Tom hat drei Katzen ."), lx)
	if strings.Join(s, " ") != "Tom has <num> cats ." || strings.Join(g, " ") != "Tom hat <num> Katzen ." {
		t.Errorf("numbers only: %q / %q", s, g)
	}
}

// Typed text: only names the vocabulary does not know become the
// placeholder, and the decoder copies the name it attends to most.
func TestCopyNames(t *testing.T) {
	src, _ := vocab.New([]string{"<pad>", "<unk>", "<s>", "</s>", vocab.Name, vocab.Num, "Tom", "Mary", "and", "met", "the", "."})
	tgt, _ := vocab.New([]string{"<pad>", "<unk>", "<s>", "</s>", vocab.Name, vocab.Num, "Tom", "und", "trafen"})
	m := &Model{Cfg: Config{Numbers: true, Names: true, KeptNames: []string{"Mary"}}, Src: src, Tgt: tgt}
	words := toks("Tom and Sarah met Jonas .")
	got := m.Cfg.SourceTokens(words, src)
	if strings.Join(got, " ") != "Tom and <name> met <name> ." {
		t.Fatalf("source tokens %q", got)
	}
	d := decoder{e: &Encoded{m: m, words: words, ids: src.IDs(got)}}
	att := []float32{0.5, 0.05, 0.1, 0.05, 0.25, 0.05} // Tom most, then Jonas
	if got, _ := d.Copy(tgt.ID(vocab.Name), att, nil); got != "Jonas" {
		t.Errorf("name placeholder copied %q, want Jonas (the name read as a placeholder attended to most)", got)
	}
	if got, _ := d.Copy(tgt.ID("Tom"), att, nil); got != "" {
		t.Errorf("a known name was replaced by %q", got)
	}
	// A name training kept is read as one even when the vocabulary has it.
	if got := m.Cfg.SourceTokens(toks("Tom met Mary ."), src); got[2] != vocab.Name || got[0] != "Tom" {
		t.Errorf("source tokens %q", got)
	}
	// The first word is a name only when it is not a known word in lower case.
	if got := m.Cfg.SourceTokens(toks("The Zorblax ."), src); got[0] != "The" || got[1] != vocab.Name {
		t.Errorf("source tokens %q", got)
	}
}

// The lexicon keeps the names the targets write as the source does, in
// at least a tenth of their sentences.
func TestNewLexicon(t *testing.T) {
	var pairs []Pair
	for range 8 {
		pairs = append(pairs, Pair{Src: "Mary is here.", Refs: []string{"Maria ist hier."}}, Pair{Src: "I speak English.", Refs: []string{"Ich spreche Englisch."}})
	}
	pairs = append(pairs, Pair{Src: "Mary is here.", Refs: []string{"Mary ist hier."}}, Pair{Src: "Where is the cat?", Refs: []string{"Wo ist die Katze?"}})
	lx := NewLexicon(pairs, "en", "de")
	if !lx.kept["Mary"] || lx.kept["English"] || lx.kept["Where"] || !lx.known("the") || lx.known("mary") {
		t.Errorf("kept %v, lower-case words %v", lx.kept, lx.lower)
	}
	s, g := Config{TgtLang: "de", Names: true, KeptNames: lx.Kept()}.PairTokens(toks("Mary is here ."), toks("Maria ist hier ."), lx)
	if s[0] != vocab.Name || g[0] != vocab.Name {
		t.Errorf("%q / %q: want Mary and its respelling as the name placeholder", s, g)
	}
}

func TestEditDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{{"Mary", "Maria", 2}, {"Tokyo", "Tokio", 1}, {"Anna", "Anna", 0}, {"Paul", "Peter", 3}, {"Zürich", "Zurich", 1}} {
		if got := editDistance(tc.a, tc.b, 2); min(got, 3) != tc.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

// A name already copied is passed over, and a name right after a copy
// takes the next source word when that is a name too: "Kids Food Basket"
// comes out whole, not "Food Food Food".
func TestCopyNamesInOrder(t *testing.T) {
	src, _ := vocab.New([]string{"<pad>", "<unk>", "<s>", "</s>", vocab.Name, vocab.Num, "a", "check", "for", "."})
	tgt, _ := vocab.New([]string{"<pad>", "<unk>", "<s>", "</s>", vocab.Name, vocab.Num, "für"})
	m := &Model{Cfg: Config{Numbers: true, Names: true}, Src: src, Tgt: tgt}
	words := toks("a check for Kids Food Basket .")
	d := decoder{e: &Encoded{m: m, words: words, ids: src.IDs(m.Cfg.SourceTokens(words, src))}}
	name := tgt.ID(vocab.Name)
	att := []float32{0, 0, 0.05, 0.2, 0.6, 0.1, 0.05} // "Food" most, every time
	var prev []model.Step
	var out []string
	for range 3 {
		w, from := d.Copy(name, att, prev)
		out = append(out, w)
		prev = append(prev, model.Step{Token: w, Copied: true, CopiedFrom: from})
	}
	if strings.Join(out, " ") != "Food Basket Kids" {
		t.Errorf("three name placeholders copied %q, want each name once (Food, then the next one, Basket, then Kids)", out)
	}
	// With nothing before it, the most attended name.
	if w, from := d.Copy(name, att, nil); w != "Food" || from != 4 {
		t.Errorf("first copy %q from %d, want Food from 4", w, from)
	}
}
