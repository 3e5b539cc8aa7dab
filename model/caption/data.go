package caption

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"attention/model/vocab"
)

// Flickr8k holds the captions of the standard splits.
type Flickr8k struct {
	Captions         map[string][][]string // image name -> five tokenised captions
	Train, Dev, Test []string              // image names
}

// Words tokenises a caption the way the caption models read and write it:
// lower-cased words, punctuation dropped.
func Words(caption string) []string {
	var out []string
	for _, t := range vocab.Tokenize(strings.ToLower(caption), "en") {
		if strings.IndexFunc(t, func(r rune) bool { return r >= 'a' && r <= 'z' || r >= '0' && r <= '9' }) >= 0 {
			out = append(out, t)
		}
	}
	return out
}

func lines(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			out = append(out, l)
		}
	}
	return out, sc.Err()
}

// LoadFlickr8k reads captions and splits from dir.
func LoadFlickr8k(dir string) (*Flickr8k, error) {
	d := &Flickr8k{Captions: map[string][][]string{}}
	caps, err := lines(filepath.Join(dir, "Flickr8k.token.txt"))
	if err != nil {
		return nil, err
	}
	for i, l := range caps {
		key, text, ok := strings.Cut(l, "\t")
		name, _, ok2 := strings.Cut(key, "#")
		if !ok || !ok2 {
			return nil, fmt.Errorf("Flickr8k.token.txt:%d: want IMAGE.jpg#N<TAB>caption", i+1)
		}
		d.Captions[name] = append(d.Captions[name], Words(text))
	}
	for _, s := range []struct {
		file string
		dst  *[]string
	}{{"Flickr_8k.trainImages.txt", &d.Train}, {"Flickr_8k.devImages.txt", &d.Dev}, {"Flickr_8k.testImages.txt", &d.Test}} {
		names, err := lines(filepath.Join(dir, s.file))
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			if len(d.Captions[n]) == 0 {
				return nil, fmt.Errorf("%s: %s has no captions", s.file, n)
			}
		}
		*s.dst = names
	}
	return d, nil
}

// Example is one caption of one image: the image's region features (R, F)
// and the caption's word ids (without <s> and </s>). Target, for a
// supervised model, holds per word either nil or the share of each region
// (R) covered by the object the word names.
type Example struct {
	Feat   []float32
	Words  []int
	Target [][]float32
}
