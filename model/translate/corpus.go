package translate

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Pair is one sentence and its reference translations.
type Pair struct {
	Src  string
	Refs []string
}

func readLines(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var r *bufio.Scanner
	if strings.HasSuffix(path, ".gz") {
		gz, err := gzip.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		defer gz.Close()
		r = bufio.NewScanner(gz)
	} else {
		r = bufio.NewScanner(f)
	}
	r.Buffer(make([]byte, 1<<16), 1<<20)
	var lines []string
	for r.Scan() {
		lines = append(lines, strings.TrimRight(r.Text(), "\r"))
	}
	if err := r.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return lines, nil
}

// Multi30k reads one split (train, val, test_2016_flickr, ...) of the
// Multi30k corpus in dir, e.g. src "en", tgt "de".
func Multi30k(dir, split, src, tgt string) ([]Pair, error) {
	s, err := readLines(filepath.Join(dir, split+"."+src+".gz"))
	if err != nil {
		return nil, err
	}
	t, err := readLines(filepath.Join(dir, split+"."+tgt+".gz"))
	if err != nil {
		return nil, err
	}
	if len(s) != len(t) {
		return nil, fmt.Errorf("multi30k %s: %d %s lines but %d %s lines", split, len(s), src, len(t), tgt)
	}
	pairs := make([]Pair, len(s))
	for i := range s {
		pairs[i] = Pair{Src: s[i], Refs: []string{t[i]}}
	}
	return pairs, nil
}

// TatoebaSplit sizes: distinct English sentences held out for dev and test.
const (
	TatoebaDev  = 2000
	TatoebaTest = 2000
	TatoebaSeed = 20261126
)

// Tatoeba reads a manythings.org export (english TAB translation per line)
// and splits it by distinct English sentence, so that a held-out sentence
// never appears in training with another translation. The split is fixed by
// TatoebaSeed. Training pairs have one reference each; dev and test pairs
// carry every translation of their sentence as references.
func Tatoeba(path string) (train, dev, test []Pair, err error) {
	lines, err := readLines(path)
	if err != nil {
		return nil, nil, nil, err
	}
	refs := map[string][]string{}
	var order []string
	for i, l := range lines {
		if l == "" {
			continue
		}
		en, fr, ok := strings.Cut(l, "\t")
		if !ok {
			return nil, nil, nil, fmt.Errorf("%s:%d: no tab", path, i+1)
		}
		if _, seen := refs[en]; !seen {
			order = append(order, en)
		}
		refs[en] = append(refs[en], fr)
	}
	sort.Strings(order) // independent of file order
	rng := rand.New(rand.NewPCG(TatoebaSeed, 0))
	rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	for i, en := range order {
		switch {
		case i < TatoebaTest:
			test = append(test, Pair{Src: en, Refs: refs[en]})
		case i < TatoebaTest+TatoebaDev:
			dev = append(dev, Pair{Src: en, Refs: refs[en]})
		default:
			for _, fr := range refs[en] {
				train = append(train, Pair{Src: en, Refs: []string{fr}})
			}
		}
	}
	return train, dev, test, nil
}

// Held is one domain's held-out set.
type Held struct {
	Name  string // the split's name in metrics: test_2016_flickr, tatoeba-test, ...
	Pairs []Pair
}

// Corpus is one language pair's data over the domains it was asked for:
// Multi30k task 1 (descriptions of photos) and Tatoeba (everyday
// sentences).
type Corpus struct {
	Train     []Pair
	Dev, Test []Held // one per domain, Multi30k first
	// Domains counts the distinct training pairs of each domain.
	Domains map[string]int
}

// tatoebaFiles names the Tatoeba export of each target language.
var tatoebaFiles = map[string]string{"de": "deu-eng.txt.gz", "fr": "fra-eng.txt.gz"}

// LoadCorpus reads English -> tgt from the shared data directory. domains is
// "multi30k", "tatoeba" or "both". Multi30k's training pairs are repeated
// m30kRepeat times in Train: its sentences are longer and fewer, and the
// repetition keeps the smaller domain's share of the target words from
// drowning (with 2, Multi30k is about a third of them for en-de).
func LoadCorpus(data, tgt, domains string, m30kRepeat int) (Corpus, error) {
	c := Corpus{Domains: map[string]int{}}
	useM30k, useTatoeba := domains == "multi30k" || domains == "both", domains == "tatoeba" || domains == "both"
	if !useM30k && !useTatoeba {
		return c, fmt.Errorf("unknown domains %q: want multi30k, tatoeba or both", domains)
	}
	if useM30k {
		dir := filepath.Join(data, "multi30k")
		train, err := Multi30k(dir, "train", "en", tgt)
		if err != nil {
			return c, err
		}
		dev, err := Multi30k(dir, "val", "en", tgt)
		if err != nil {
			return c, err
		}
		test, err := Multi30k(dir, "test_2016_flickr", "en", tgt)
		if err != nil {
			return c, err
		}
		for range max(m30kRepeat, 1) {
			c.Train = append(c.Train, train...)
		}
		c.Domains["multi30k"] = len(train)
		c.Dev = append(c.Dev, Held{"val", dev})
		c.Test = append(c.Test, Held{"test_2016_flickr", test})
	}
	if useTatoeba {
		file, ok := tatoebaFiles[tgt]
		if !ok {
			return c, fmt.Errorf("no Tatoeba corpus for target language %q", tgt)
		}
		train, dev, test, err := Tatoeba(filepath.Join(data, "tatoeba", file))
		if err != nil {
			return c, err
		}
		c.Train = append(c.Train, train...)
		c.Domains["tatoeba"] = len(train)
		c.Dev = append(c.Dev, Held{"tatoeba-dev", dev})
		c.Test = append(c.Test, Held{"tatoeba-test", test})
	}
	return c, nil
}

// Example is one sentence pair as word ids (without <s> and </s>).
type Example struct {
	Src, Tgt []int
}
