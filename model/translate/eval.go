package translate

import (
	"runtime"
	"sync"
	"sync/atomic"

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

// Evaluate translates every pair as the server would (Translate, through
// Prepare) and scores the detokenised output against its references with
// sacreBLEU-style corpus BLEU. A source Prepare refuses scores as an empty
// output; refused counts them. workers <= 0 uses every CPU.
func Evaluate(m *Model, pairs []Pair, opts model.Options, workers int) (score bleu.Score, hyps []string, refused int) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	hyps = make([]string, len(pairs))
	var nref atomic.Int64
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				out, err := m.Translate(pairs[i].Src, opts)
				if err != nil {
					nref.Add(1)
				}
				hyps[i] = out
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
	return bleu.CorpusMulti(hyps, refs), hyps, int(nref.Load())
}
