// Package vocab maps words to ids and back, and splits text into words.
package vocab

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"unicode"
)

// Reserved ids, the same in every vocabulary.
const (
	Pad = 0 // padding, never written
	Unk = 1 // a word outside the vocabulary
	BOS = 2 // start of sentence, fed to the decoder first
	EOS = 3 // end of sentence
)

var reserved = []string{"<pad>", "<unk>", "<s>", "</s>"}

// Vocab is a word list; a word's id is its index.
type Vocab struct {
	words []string
	ids   map[string]int
}

// New builds a vocabulary from a word list whose first entries are the
// reserved tokens.
func New(words []string) (*Vocab, error) {
	if len(words) < len(reserved) {
		return nil, fmt.Errorf("vocab: %d words, want at least the %d reserved ones", len(words), len(reserved))
	}
	for i, r := range reserved {
		if words[i] != r {
			return nil, fmt.Errorf("vocab: word %d is %q, want reserved token %q", i, words[i], r)
		}
	}
	v := &Vocab{words: words, ids: make(map[string]int, len(words))}
	for i, w := range words {
		if _, dup := v.ids[w]; dup {
			return nil, fmt.Errorf("vocab: word %q appears twice", w)
		}
		v.ids[w] = i
	}
	return v, nil
}

// Build keeps the words seen at least minCount times, most frequent first
// (ties in byte order, so the result is deterministic).
func Build(sentences [][]string, minCount int) *Vocab {
	counts := map[string]int{}
	for _, s := range sentences {
		for _, w := range s {
			counts[w]++
		}
	}
	var keep []string
	for w, n := range counts {
		if n >= minCount {
			keep = append(keep, w)
		}
	}
	sort.Slice(keep, func(i, j int) bool {
		if counts[keep[i]] != counts[keep[j]] {
			return counts[keep[i]] > counts[keep[j]]
		}
		return keep[i] < keep[j]
	})
	v, err := New(append(append([]string{}, reserved...), keep...))
	if err != nil {
		panic(err) // unreachable: the reserved tokens contain '<' which Tokenize never emits alone
	}
	return v
}

// Len is the number of words, reserved ones included.
func (v *Vocab) Len() int { return len(v.words) }

// ID returns a word's id, or Unk.
func (v *Vocab) ID(w string) int {
	if id, ok := v.ids[w]; ok {
		return id
	}
	return Unk
}

// Has reports whether w is in the vocabulary.
func (v *Vocab) Has(w string) bool { _, ok := v.ids[w]; return ok }

// Word returns the word with the given id.
func (v *Vocab) Word(id int) string {
	if id < 0 || id >= len(v.words) {
		return reserved[Unk]
	}
	return v.words[id]
}

// Words returns the word list (do not modify).
func (v *Vocab) Words() []string { return v.words }

// IDs maps words to ids.
func (v *Vocab) IDs(words []string) []int {
	ids := make([]int, len(words))
	for i, w := range words {
		ids[i] = v.ID(w)
	}
	return ids
}

// WriteTo writes one word per line.
func (v *Vocab) WriteTo(w io.Writer) (int64, error) {
	n, err := io.WriteString(w, strings.Join(v.words, "\n")+"\n")
	return int64(n), err
}

// Read reads a vocabulary written by WriteTo.
func Read(r io.Reader) (*Vocab, error) {
	var words []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for sc.Scan() {
		words = append(words, sc.Text())
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("vocab: %w", err)
	}
	return New(words)
}

// Num stands for every number in the training text of a model that copies
// numbers: the model learns where a number goes, and the decoder copies the
// source number it attends to. Tokenize never emits it (it splits '<').
const Num = "<num>"

// Name stands for a proper name in the text of a model that copies names
// (see translate.Config.Names); like Num, Tokenize never emits it.
const Name = "<name>"

// IsNumber reports whether a token is a number as Tokenize writes one: a
// run of digits ("25", "1990"; "3.5" is three tokens).
func IsNumber(w string) bool {
	if w == "" {
		return false
	}
	for _, r := range w {
		if !unicode.IsDigit(r) {
			return false
		}
	}
	return true
}

// MaskNumbers returns words with every number replaced by Num.
func MaskNumbers(words []string) []string {
	out := make([]string, len(words))
	for i, w := range words {
		if IsNumber(w) {
			w = Num
		}
		out[i] = w
	}
	return out
}

// Synthetic is a vocabulary of n entries with no data behind it (tests,
// benchmarks): the reserved tokens, then id i written in base 26 with
// letters ("e" for 4, "ba" for 26).
func Synthetic(n int) *Vocab {
	v := &Vocab{words: slices.Clone(reserved), ids: map[string]int{}}
	for i := len(v.words); i < n; i++ {
		w := ""
		for k := i; ; k /= 26 {
			w = string(rune('a'+k%26)) + w
			if k < 26 {
				break
			}
		}
		v.words = append(v.words, w)
	}
	for i, w := range v.words {
		v.ids[w] = i
	}
	return v
}
