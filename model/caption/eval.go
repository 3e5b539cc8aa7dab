package caption

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"

	"attention/model"
	"attention/model/bleu"
)

// Image is one image's features and its reference captions.
type Image struct {
	Name string
	Feat []float32
	Refs [][]string
}

// Score is a caption evaluation.
type Score struct {
	BLEU bleu.Score // BLEU-4 on lower-cased words
	// Sharpness is the mean over words of the largest attention weight;
	// Content and Function split it by word kind (FunctionWord).
	Sharpness, Content, Function float64
	Entropy                      float64 // mean attention entropy per word, nats
}

func (s Score) String() string {
	return fmt.Sprintf("%s, attention sharpness %.3f (content words %.3f, function words %.3f), entropy %.2f",
		s.BLEU, s.Sharpness, s.Content, s.Function, s.Entropy)
}

// Decoded is one image's caption and each word's attention.
type Decoded struct {
	Words []string
	Att   [][]float32 // per word (R)
}

// functionWords are the words that name nothing in the photo.
var functionWords = map[string]bool{}

func init() {
	for _, w := range strings.Fields("a an the of in on at with and is are to its his her their while into through " +
		"for from by up down near next as over under front top it he she they them this that there some each other " +
		"out off onto behind around along across another") {
		functionWords[w] = true
	}
}

// FunctionWord reports whether a caption word is a function word
// (articles, prepositions, conjunctions, pronouns, "is"/"are").
func FunctionWord(w string) bool { return functionWords[w] }

// Evaluate captions every image and scores against its references.
func Evaluate(m *Model, imgs []Image, opts model.Options) (Score, []Decoded) {
	out := make([]Decoded, len(imgs))
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				e, err := m.Encode(imgs[i].Feat)
				if err != nil {
					continue
				}
				for st := range e.Decode(context.Background(), opts) {
					out[i].Words = append(out[i].Words, st.Token)
					out[i].Att = append(out[i].Att, st.Attention)
				}
			}
		}()
	}
	for i := range imgs {
		next <- i
	}
	close(next)
	wg.Wait()
	var s bleu.Stats
	var sum, ent [3]float64 // all, content, function
	var n [3]float64
	for i, img := range imgs {
		s.Add(out[i].Words, img.Refs...)
		for t, w := range out[i].Words {
			peak := float64(slices.Max(out[i].Att[t]))
			h := Entropy(out[i].Att[t])
			kind := 1
			if FunctionWord(w) {
				kind = 2
			}
			for _, k := range []int{0, kind} {
				sum[k] += peak
				ent[k] += h
				n[k]++
			}
		}
	}
	return Score{BLEU: s.Score(), Sharpness: sum[0] / max(n[0], 1), Content: sum[1] / max(n[1], 1),
		Function: sum[2] / max(n[2], 1), Entropy: ent[0] / max(n[0], 1)}, out
}
