package translate

import (
	"slices"
	"strings"

	"attention/model/vocab"
)

// numberWords are the spelled-out numbers a target sentence may write for
// a source number (2 to 12; "1" is left alone, as "ein" and "un" are also
// articles). In training, a target that spells out a number the source
// writes in digits gets the digits, so the number placeholder is copied
// rather than a number word guessed.
var numberWords = map[string]map[string]string{
	"de": {"2": "zwei", "3": "drei", "4": "vier", "5": "fünf", "6": "sechs", "7": "sieben", "8": "acht", "9": "neun",
		"10": "zehn", "11": "elf", "12": "zwölf"},
	"fr": {"2": "deux", "3": "trois", "4": "quatre", "5": "cinq", "6": "six", "7": "sept", "8": "huit", "9": "neuf",
		"10": "dix", "11": "onze", "12": "douze"},
}

// nameAt reports whether words[i] may be a proper name: capitalised, not
// "I", and either after the first word or, as the first word, not a word
// the model knows in lower case ("The" is not a name, "Tom" is).
func nameAt(words []string, i int, known func(string) bool) bool {
	w := words[i]
	if w == "I" || !startsUpper(w) || !hasLetter(w) {
		return false
	}
	return i > 0 || !known(strings.ToLower(w))
}

// Lexicon is what training needs to know about the words of a corpus:
// which occur in lower case in the sources, and which names the targets
// keep as written.
type Lexicon struct {
	lower map[string]bool
	kept  map[string]bool
}

// NewLexicon reads pairs (first reference). A name (see nameAt) counts as
// kept when at least a tenth of the targets of the sentences that have it
// write it as the source does: "Tom" and "Mary" (German and French
// translations often write "Maria", "Marie") are kept, "English" (German
// "Englisch") is not.
func NewLexicon(pairs []Pair, srcLang, tgtLang string) *Lexicon {
	lx := &Lexicon{lower: map[string]bool{}, kept: map[string]bool{}}
	srcs, tgts := make([][]string, len(pairs)), make([][]string, len(pairs))
	for i, p := range pairs {
		srcs[i], tgts[i] = vocab.Tokenize(p.Src, srcLang), vocab.Tokenize(p.Refs[0], tgtLang)
		for _, w := range srcs[i] {
			if !startsUpper(w) {
				lx.lower[w] = true
			}
		}
	}
	seen, same := map[string]int{}, map[string]int{}
	for i, src := range srcs {
		for j, w := range src {
			if nameAt(src, j, lx.known) {
				seen[w]++
				if slices.Contains(tgts[i], w) {
					same[w]++
				}
			}
		}
	}
	for w, n := range seen {
		if same[w] > 0 && 10*same[w] >= n {
			lx.kept[w] = true
		}
	}
	return lx
}

func (lx *Lexicon) known(w string) bool { return lx.lower[w] }

// Kept lists the names the corpus keeps as written, sorted: a model's
// Config.KeptNames.
func (lx *Lexicon) Kept() []string {
	out := make([]string, 0, len(lx.kept))
	for w := range lx.kept {
		out = append(out, w)
	}
	slices.Sort(out)
	return out
}

// keeps reports whether w is one of c.KeptNames.
func (c Config) keeps(w string) bool {
	_, ok := slices.BinarySearch(c.KeptNames, w)
	return ok
}

// PairTokens are a training pair's tokens as the model learns them.
// With Numbers, a number word in tgt that spells a number src writes in
// digits becomes those digits, and every number becomes vocab.Num. With
// Names, a name in src that the corpus keeps as written (c.KeptNames, from
// NewLexicon) becomes vocab.Name, and so does the same name in tgt, as
// written or in a spelling at most two letters away ("Maria" for "Mary":
// the target is given the source's spelling). Names the corpus translates
// stay words.
func (c Config) PairTokens(src, tgt []string, lx *Lexicon) ([]string, []string) {
	src, tgt = slices.Clone(src), slices.Clone(tgt)
	if c.Numbers {
		spelled := numberWords[c.TgtLang]
		for _, w := range src {
			word, ok := spelled[w]
			if !ok || slices.Contains(tgt, w) {
				continue
			}
			for j, t := range tgt {
				if strings.ToLower(t) == word {
					tgt[j] = w
					break
				}
			}
		}
	}
	if c.Names {
		names := map[string]bool{}
		for i, w := range src {
			if !nameAt(src, i, lx.known) || !c.keeps(w) {
				continue
			}
			src[i] = vocab.Name
			if !names[w] && !slices.Contains(tgt, w) {
				for j, t := range tgt {
					if nearName(w, t) {
						tgt[j] = w
						break
					}
				}
			}
			names[w] = true
		}
		for i, w := range tgt {
			if names[w] {
				tgt[i] = vocab.Name
			}
		}
	}
	if c.Numbers {
		src, tgt = vocab.MaskNumbers(src), vocab.MaskNumbers(tgt)
	}
	return src, tgt
}

// SourceTokens are the tokens the model reads for typed words: numbers
// become vocab.Num, and with Names every name (see nameAt) that training
// kept as written (c.KeptNames) or that the source vocabulary does not
// know becomes vocab.Name, to be copied as written.
func (c Config) SourceTokens(words []string, src *vocab.Vocab) []string {
	out := c.Tokens(words)
	if !c.Names {
		return out
	}
	known := func(w string) bool { return src.Has(w) }
	for i, w := range words {
		if nameAt(words, i, known) && (c.keeps(w) || !src.Has(w)) {
			out[i] = vocab.Name
		}
	}
	return out
}

// nearName reports whether target word t is source name s in another
// spelling: capitalised, the same first letter, both at least four
// letters, at most two edits apart, and not s with a genitive "s".
func nearName(s, t string) bool {
	if !startsUpper(t) || len(s) < 4 || len(t) < 4 || s[0] != t[0] || t == s+"s" {
		return false
	}
	return editDistance(s, t, 2) <= 2
}

// editDistance is the Levenshtein distance between a and b (over runes),
// or limit+1 once it is certain to exceed limit.
func editDistance(a, b string, limit int) int {
	x, y := []rune(a), []rune(b)
	if d := len(x) - len(y); d > limit || -d > limit {
		return limit + 1
	}
	prev, cur := make([]int, len(y)+1), make([]int, len(y)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(x); i++ {
		cur[0] = i
		for j := 1; j <= len(y); j++ {
			sub := prev[j-1]
			if x[i-1] != y[j-1] {
				sub++
			}
			cur[j] = min(sub, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(y)]
}
