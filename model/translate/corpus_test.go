package translate

import (
	"testing"

	"attention/internal/testenv"
)

// Both domains for en-de: Multi30k's splits as published, and a Tatoeba
// split made like en-fr's: no held-out English sentence is trained on, and
// every translation of one is a reference.
func TestLoadCorpusBothDomains(t *testing.T) {
	c, err := LoadCorpus(testenv.SharedData(t), "de", "both", 2)
	if err != nil {
		t.Fatal(err)
	}
	if c.Domains["multi30k"] != 29000 || c.Domains["tatoeba"] < 150000 {
		t.Fatalf("training pairs by domain %v", c.Domains)
	}
	if len(c.Train) != 2*29000+c.Domains["tatoeba"] {
		t.Fatalf("%d training pairs, want Multi30k twice and Tatoeba once", len(c.Train))
	}
	names := []string{}
	for _, h := range append(c.Dev, c.Test...) {
		names = append(names, h.Name)
	}
	if len(names) != 4 || names[0] != "val" || names[1] != "tatoeba-dev" || names[2] != "test_2016_flickr" || names[3] != "tatoeba-test" {
		t.Fatalf("held-out sets %v", names)
	}
	train := map[string]bool{}
	for _, p := range c.Train {
		train[p.Src] = true
	}
	multi := 0
	for _, h := range []Held{c.Dev[1], c.Test[1]} {
		if len(h.Pairs) != TatoebaDev {
			t.Errorf("%s: %d sentences, want %d", h.Name, len(h.Pairs), TatoebaDev)
		}
		for _, p := range h.Pairs {
			if train[p.Src] {
				t.Fatalf("%s sentence %q is also a training sentence", h.Name, p.Src)
			}
			if len(p.Refs) > 1 {
				multi++
			}
		}
	}
	if multi == 0 {
		t.Error("no held-out Tatoeba sentence has more than one reference")
	}
	if _, err := LoadCorpus(testenv.SharedData(t), "de", "news", 1); err == nil {
		t.Error("an unknown domain was accepted")
	}
}
