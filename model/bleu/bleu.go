// Package bleu computes corpus BLEU the way sacreBLEU does by default:
// 13a tokenisation, up to 4-grams, brevity penalty against the closest
// reference length, and "exp" smoothing of zero n-gram counts.
package bleu

import (
	"fmt"
	"math"
	"regexp"
	"strings"
)

// Score is a corpus BLEU result.
type Score struct {
	BLEU       float64    // 0..100
	Precisions [4]float64 // percent
	BP         float64
	HypLen     int
	RefLen     int
}

func (s Score) String() string {
	return fmt.Sprintf("BLEU = %.2f %.1f/%.1f/%.1f/%.1f (BP = %.3f ratio = %.3f hyp_len = %d ref_len = %d)",
		s.BLEU, s.Precisions[0], s.Precisions[1], s.Precisions[2], s.Precisions[3], s.BP, float64(s.HypLen)/float64(s.RefLen), s.HypLen, s.RefLen)
}

var (
	reSymbols  = regexp.MustCompile(`([\{-\~\[-\x60 -\&\(-\+\:-\@\/])`)
	rePeriodL  = regexp.MustCompile(`([^0-9])([\.,])`)
	rePeriodR  = regexp.MustCompile(`([\.,])([^0-9])`)
	reDigitDsh = regexp.MustCompile(`([0-9])(-)`)
)

// Tokenize13a is sacreBLEU's default tokeniser (mteval-v13a).
func Tokenize13a(line string) []string {
	line = strings.ReplaceAll(line, "<skipped>", "")
	line = strings.ReplaceAll(line, "-\n", "")
	line = strings.ReplaceAll(line, "\n", " ")
	if strings.Contains(line, "&") {
		line = strings.NewReplacer("&quot;", `"`, "&amp;", "&", "&lt;", "<", "&gt;", ">").Replace(line)
	}
	line = " " + line + " "
	line = reSymbols.ReplaceAllString(line, " $1 ")
	line = rePeriodL.ReplaceAllString(line, "$1 $2 ")
	line = rePeriodR.ReplaceAllString(line, " $1 $2")
	line = reDigitDsh.ReplaceAllString(line, "$1 $2 ")
	return strings.Fields(line)
}

// Stats accumulates n-gram statistics over a corpus.
type Stats struct {
	Match, Total [4]int
	HypLen       int
	RefLen       int
}

// Add adds one segment: hyp and refs already tokenised.
func (s *Stats) Add(hyp []string, refs ...[]string) {
	s.HypLen += len(hyp)
	best := -1
	for _, r := range refs { // closest reference length, the shorter on ties
		if best < 0 || abs(len(r)-len(hyp)) < abs(best-len(hyp)) || (abs(len(r)-len(hyp)) == abs(best-len(hyp)) && len(r) < best) {
			best = len(r)
		}
	}
	s.RefLen += max(best, 0)
	for n := 1; n <= 4; n++ {
		maxRef := map[string]int{}
		for _, r := range refs {
			for g, c := range ngrams(r, n) {
				maxRef[g] = max(maxRef[g], c)
			}
		}
		for g, c := range ngrams(hyp, n) {
			s.Match[n-1] += min(c, maxRef[g])
		}
		s.Total[n-1] += max(len(hyp)-n+1, 0)
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func ngrams(toks []string, n int) map[string]int {
	m := map[string]int{}
	for i := 0; i+n <= len(toks); i++ {
		m[strings.Join(toks[i:i+n], "\x00")]++
	}
	return m
}

// Score computes BLEU from the statistics.
func (s *Stats) Score() Score {
	var sc Score
	sc.HypLen, sc.RefLen = s.HypLen, s.RefLen
	if s.HypLen == 0 || s.Match == [4]int{} {
		return sc // sacreBLEU stops early at zero when no n-gram matches at all
	}
	logSum := 0.0
	k := 1.0
	for n := 0; n < 4; n++ {
		var p float64
		switch {
		case s.Total[n] == 0:
			p = 0
		case s.Match[n] == 0:
			k *= 2
			p = 100 / (k * float64(s.Total[n]))
		default:
			p = 100 * float64(s.Match[n]) / float64(s.Total[n])
		}
		sc.Precisions[n] = p
		if p == 0 {
			return sc
		}
		logSum += math.Log(p / 100)
	}
	sc.BP = 1
	if s.HypLen < s.RefLen {
		sc.BP = math.Exp(1 - float64(s.RefLen)/float64(s.HypLen))
	}
	sc.BLEU = 100 * sc.BP * math.Exp(logSum/4)
	return sc
}

// Corpus scores detokenised hypotheses against references, sacreBLEU style:
// refs[k][i] is the k-th reference of segment i.
func Corpus(hyps []string, refs ...[]string) Score {
	var s Stats
	for i, h := range hyps {
		rs := make([][]string, len(refs))
		for k := range refs {
			rs[k] = Tokenize13a(refs[k][i])
		}
		s.Add(Tokenize13a(h), rs...)
	}
	return s.Score()
}

// CorpusMulti scores hypotheses where segment i has its own list of
// references refs[i] (any number, at least one).
func CorpusMulti(hyps []string, refs [][]string) Score {
	var s Stats
	for i, h := range hyps {
		rs := make([][]string, len(refs[i]))
		for k, r := range refs[i] {
			rs[k] = Tokenize13a(r)
		}
		s.Add(Tokenize13a(h), rs...)
	}
	return s.Score()
}
