package translate

import (
	"runtime"
	"sync"

	"attention/model"
	"attention/model/bleu"
	"attention/model/vocab"
)

// Examples tokenises pairs (first reference) into word ids; lx is pairs'
// lexicon (nil: made here).
func Examples(pairs []Pair, c Config, src, tgt *vocab.Vocab, maxLen int, lx *Lexicon) []Example {
	var out []Example
	if lx == nil {
		lx = NewLexicon(pairs, c.SrcLang, c.TgtLang)
	}
	for _, p := range pairs {
		st, tt := c.PairTokens(vocab.Tokenize(p.Src, c.SrcLang), vocab.Tokenize(p.Refs[0], c.TgtLang), lx)
		s, t := src.IDs(st), tgt.IDs(tt)
		if len(s) == 0 || len(t) == 0 || (maxLen > 0 && (len(s) > maxLen || len(t) > maxLen)) {
			continue
		}
		out = append(out, Example{Src: s, Tgt: t})
	}
	return out
}

// Evaluate translates every pair and scores the detokenised output against
// its references with sacreBLEU-style corpus BLEU. workers <= 0 uses every CPU.
func Evaluate(m *Model, pairs []Pair, opts model.Options, workers int) (bleu.Score, []string) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	hyps := make([]string, len(pairs))
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				// As Prepare reads typed text: what the server translates.
				words := AsSentence(vocab.Tokenize(pairs[i].Src, m.Cfg.SrcLang))
				if len(words) == 0 {
					continue
				}
				hyps[i] = vocab.Detokenize(m.Translate(words, opts), m.Cfg.TgtLang)
			}
		}()
	}
	for i := range pairs {
		next <- i
	}
	close(next)
	wg.Wait()
	refs := make([][]string, len(pairs))
	for i, p := range pairs {
		refs[i] = p.Refs
	}
	return bleu.CorpusMulti(hyps, refs), hyps
}
