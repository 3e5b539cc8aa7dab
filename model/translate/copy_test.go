package translate

import (
	"testing"

	"attention/model/vocab"
)

// The number placeholder copies the source number the step attends to
// most, even when a word got more attention; the unknown-word token copies
// the most attended word of any kind.
func TestCopyNumbers(t *testing.T) {
	tgt, err := vocab.New([]string{"<pad>", "<unk>", "<s>", "</s>", vocab.Num, "Jahre"})
	if err != nil {
		t.Fatal(err)
	}
	m := &Model{Cfg: Config{Numbers: true}, Tgt: tgt}
	words := []string{"Anna", "is", "25", "and", "7", "."}
	d := decoder{e: &Encoded{m: m, words: words}}
	num := tgt.ID(vocab.Num)
	att := []float32{0.5, 0.05, 0.1, 0.05, 0.25, 0.05}
	if got, _ := d.Copy(num, att, nil); got != "7" {
		t.Errorf("number placeholder copied %q, want 7 (the number attended to most)", got)
	}
	if got, _ := d.Copy(vocab.Unk, att, nil); got != "Anna" {
		t.Errorf("unknown word copied %q, want Anna", got)
	}
	if got, _ := d.Copy(tgt.ID("Jahre"), att, nil); got != "" {
		t.Errorf("an ordinary word was replaced by %q", got)
	}
	// No number in the source: the most attended word stands in.
	d = decoder{e: &Encoded{m: m, words: []string{"Hello", "."}}}
	if got, _ := d.Copy(num, []float32{0.9, 0.1}, nil); got != "Hello" {
		t.Errorf("with no source number, copied %q, want Hello", got)
	}
	// Training text: numbers become the placeholder, nothing else does.
	if got := m.Cfg.Tokens([]string{"I", "am", "25", "."}); got[2] != vocab.Num || got[0] != "I" {
		t.Errorf("masked tokens %q", got)
	}
	cases := CopyCases([]Pair{{Src: "Tom bought 3 apples in Berlin.", Refs: []string{"Tom kaufte 3 Äpfel in Berlin."}},
		{Src: "The English man waits.", Refs: []string{"Der Engländer wartet."}}}, "en", "de")
	if len(cases) != 1 || len(cases[0].Items) != 2 || cases[0].Items[0] != "3" || cases[0].Items[1] != "Berlin" {
		t.Errorf("copy cases %+v, want one with 3 and Berlin (Tom starts the sentence; English is translated)", cases)
	}
	var tally CopyTally
	tally.Add(cases[0], "Tom kaufte 3 Äpfel in München.", "de")
	if tally.Found != 1 || tally.Total != 2 || len(tally.Misses) != 1 || tally.Rate() != 50 {
		t.Errorf("tally %+v, want 1 of 2 kept and one miss", tally)
	}
}

// Carrying weights into new vocabularies: shared words keep their rows and
// output columns, new words keep their fresh ones.
func TestCopyFromRemaps(t *testing.T) {
	oldCfg := Config{Emb: 2, EncHidden: 2, DecHidden: 2, Att: 2, PreOut: 2, SrcVocab: 6, TgtVocab: 6, Attention: true}
	old := NewParams(oldCfg)
	for _, q := range old.List() {
		for i := range q.Data {
			q.Data[i] = float32(i + 1)
		}
	}
	oldSrc, _ := vocab.New([]string{"<pad>", "<unk>", "<s>", "</s>", "dog", "cat"})
	oldTgt, _ := vocab.New([]string{"<pad>", "<unk>", "<s>", "</s>", "Hund", "Katze"})
	newSrc, _ := vocab.New([]string{"<pad>", "<unk>", "<s>", "</s>", "cat", "bird", "dog"})
	newTgt, _ := vocab.New([]string{"<pad>", "<unk>", "<s>", "</s>", "Vogel", "Hund"})
	c := oldCfg
	c.SrcVocab, c.TgtVocab = newSrc.Len(), newTgt.Len()
	p := NewParams(c)
	if err := p.CopyFrom(old, Remap(newSrc, oldSrc), Remap(newTgt, oldTgt)); err != nil {
		t.Fatal(err)
	}
	row := func(q *Param, i int) []float32 { return q.Data[i*2 : i*2+2] }
	if got, want := row(p.SrcEmb, 6), row(old.SrcEmb, 4); got[0] != want[0] || got[1] != want[1] { // dog
		t.Errorf("dog's embedding %v, want %v", got, want)
	}
	if got := row(p.SrcEmb, 5); got[0] != 0 || got[1] != 0 { // bird: new, left as initialised (zero here)
		t.Errorf("bird's embedding %v was overwritten", got)
	}
	// OutW is (O, Vt): Hund is column 5 now, column 4 before.
	if p.OutW.Data[5] != old.OutW.Data[4] || p.OutW.Data[6+5] != old.OutW.Data[6+4] || p.OutB.Data[5] != old.OutB.Data[4] {
		t.Error("Hund's output column was not carried over")
	}
	if p.OutB.Data[4] >= old.OutB.Data[4] { // Vogel: new, a rare word's bias
		t.Errorf("new word's output bias %v is not below the old words'", p.OutB.Data[4])
	}
	if p.AttV.Data[1] != old.AttV.Data[1] {
		t.Error("a vocabulary-free weight was not copied")
	}
}
