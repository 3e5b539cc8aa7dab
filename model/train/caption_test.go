package train

import (
	"bytes"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"attention/model/caption"
	"attention/model/vocab"
)

// A toy task trains end to end: each image lights up two of four regions,
// and its caption names them in reading order ("the dog and the road").
// Attention must find them.
func TestCaptionToyTask(t *testing.T) {
	names := []string{"sky", "tree", "dog", "road"}
	words, _ := vocab.New(append([]string{"<pad>", "<unk>", "<s>", "</s>", "the", "and"}, names...))
	c := caption.Config{Rows: 2, Cols: 2, Feat: 4, Proj: 8, Emb: 8, Hidden: 16, Att: 8, Vocab: words.Len(), Attention: true}
	rng := rand.New(rand.NewPCG(5, 5))
	makeImage := func() caption.Image {
		a, b := rng.IntN(4), rng.IntN(4)
		for b == a {
			b = rng.IntN(4)
		}
		if b < a {
			a, b = b, a
		}
		feat := make([]float32, 4*4)
		for _, r := range []int{a, b} {
			feat[r*4+r] = 1 // region r carries feature r
		}
		return caption.Image{Feat: feat, Refs: [][]string{{"the", names[a], "and", "the", names[b]}}}
	}
	var train []caption.Example
	var dev []caption.Image
	for i := 0; i < 400; i++ {
		img := makeImage()
		train = append(train, caption.Example{Feat: img.Feat, Words: words.IDs(img.Refs[0])})
	}
	for i := 0; i < 30; i++ {
		dev = append(dev, makeImage())
	}
	var log bytes.Buffer
	dir := t.TempDir()
	o := CaptionOptions{Batch: 16, LR: 2e-2, Clip: 5, Reg: Reg{Lambda: 0.1, TauPerWord: true}, MaxEpochs: 8, Patience: 8,
		Seed: 1, SaveEvery: time.Hour, Dir: filepath.Join(dir, "run"), Out: filepath.Join(dir, "toy.ckpt"), Log: &log}
	res, err := Caption(c, words, train, dev, o)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	t.Logf("best dev BLEU-4 %.1f after %.1f epochs", res.Best, res.Epochs)
	if res.Best < 50 {
		t.Fatalf("toy captions not learnt: BLEU-4 %.1f\n%s", res.Best, log.String())
	}
}
