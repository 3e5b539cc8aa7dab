// Command train trains a translation or caption model on the shared corpora and writes
// the best checkpoint (by dev BLEU) where the server embeds it.
//
//	go run -tags openblas ./cmd/train -model en-de
//	go run -tags openblas ./cmd/train -model en-de -resume
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"time"

	"attention/internal/openblas"
	"attention/model"
	"attention/model/caption"
	"attention/model/checkpoint"
	"attention/model/nn"
	"attention/model/segment"
	"attention/model/train"
	"attention/model/translate"
	"attention/model/vocab"
)

// Pair is a training pair as a map key.
type Pair struct{ Src, Tgt string }

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "train:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		name       = flag.String("model", "en-de", "which model: en-de, en-fr (see -domains) or caption (Flickr8k)")
		data       = flag.String("data", "../shared/data", "the shared data directory")
		noAtt      = flag.Bool("no-attention", false, "train the baseline without attention (fixed context vector)")
		out        = flag.String("out", "", "where to write the best model (default model/trained/NAME.ckpt)")
		runDir     = flag.String("run", "", "directory for resumable state (default runs/NAME)")
		resume     = flag.Bool("resume", false, "continue from the run directory's state")
		initFrom   = flag.String("init", "", "start from this model file's weights (e.g. the shipped model) with a fresh optimiser")
		epochs     = flag.Int("epochs", 12, "most epochs")
		patience   = flag.Int("patience", 2, "stop after this many epochs without a better dev BLEU")
		minEpochs  = flag.Int("min-epochs", 4, "no learning-rate halving or early stop before this many epochs")
		resetLR    = flag.Bool("reset-lr", false, "with -resume: train at -lr instead of the saved learning rate")
		budget     = flag.Duration("budget", 0, "stop after this much training time (0: no limit)")
		batch      = flag.Int("batch", 64, "batch size")
		lr         = flag.Float64("lr", 1e-3, "Adam learning rate (halved after an epoch without improvement)")
		dropout    = flag.Float64("dropout", 0.3, "dropout on embeddings and the pre-output layer")
		minCount   = flag.Int("min-count", 2, "keep words seen at least this often")
		maxLen     = flag.Int("max-len", 50, "skip training pairs longer than this many words")
		seed       = flag.Uint64("seed", 1, "random seed")
		saveEvery  = flag.Duration("save-every", 5*time.Minute, "resumable checkpoint period")
		decHidden  = flag.Int("dec-hidden", 256, "decoder LSTM size")
		cpuProf    = flag.String("cpuprofile", "", "write a CPU profile here")
		graphs     = flag.Int("graphs", 4, "unrolled graphs (batch shapes) kept in memory, per worker")
		workers    = flag.Int("workers", 1, "translation: data-parallel workers (local SGD; one core each)")
		syncEvery  = flag.Int("sync-every", nn.ShapeRun, "translation, with -workers: batches each worker takes between averages")
		memLimit   = flag.Int("mem-gb", 5, "soft memory limit in GiB")
		heapProf   = flag.String("memprofile", "", "write a heap profile here at the end")
		restart    = flag.Duration("restart-after", 0, "save and exit with status 3 after this long, to be resumed in a fresh process (see scripts/train.sh)")
		features   = flag.String("features", filepath.Join("runs", "features", "flickr8k.ckpt"), "caption: the region-feature cache from cmd/features")
		capHidden  = flag.Int("cap-hidden", 512, "caption: decoder LSTM size")
		lambda     = flag.Float64("lambda", 1, "caption: weight of the doubly stochastic attention regulariser")
		tauWord    = flag.Bool("tau-per-word", true, "caption: regulariser target (caption length)/regions instead of the paper's 1")
		sup        = flag.Float64("sup", 0, "caption: weight μ of the attention supervision (pull each object word's attention onto the object's pixels; needs -seg)")
		segMaps    = flag.String("seg", filepath.Join("runs", "seg", "flickr8k.seg"), "caption, with -sup: the class maps from cmd/segment")
		constStart = flag.Bool("const-start", false, "caption: the decoder's start state from biases alone, so the image reaches it only through attention")
		average    = flag.Float64("average", 0, "caption: score and save a moving average of the weights with this decay per step (e.g. 0.999; 0: the weights themselves)")
		devBeam    = flag.Int("dev-beam", 3, "caption: beam width of the dev score that picks the best model (greedy swings with caption length)")
		domains    = flag.String("domains", "both", "translation: training data: multi30k (photo descriptions), tatoeba (everyday sentences) or both")
		m30kRepeat = flag.Int("m30k-repeat", 2, "translation, with -domains both: times each Multi30k pair is seen per epoch")
		numbers    = flag.Bool("copy-numbers", true, "translation: numbers become one placeholder word in training and are copied from the source")
		names      = flag.Bool("copy-names", true, "translation: names the target keeps as written become one placeholder word in training and are copied from the source")
		remapInit  = flag.Bool("init-remap", false, "with -init: build the vocabularies from this run's data and carry the weights over word by word")
	)
	flag.Parse()
	if *cpuProf != "" {
		f, err := os.Create(*cpuProf)
		if err != nil {
			return err
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	debug.SetMemoryLimit(int64(*memLimit) << 30)
	fmt.Fprintf(os.Stderr, "matrix products: %s\n", openblas.Name())
	if w := openblas.Warning(); w != "" {
		fmt.Fprintf(os.Stderr, "warning: %s\n", w)
	}
	id := *name
	if *noAtt {
		id += "-noatt"
	}
	if *out == "" {
		*out = filepath.Join("model", "trained", "weights", id+".ckpt")
	}
	if *runDir == "" {
		*runDir = filepath.Join("runs", id)
	}
	var lr0, d0 = *lr, *dropout
	if *name == "caption" {
		return trainCaption(*data, *features, *segMaps, *out, *runDir, id, !*noAtt, *constStart, *capHidden, *minCount, train.CaptionOptions{
			Batch: *batch, LR: lr0, Clip: 5, Dropout: d0, Reg: train.Reg{Lambda: *lambda, TauPerWord: *tauWord, Sup: *sup}, DevBeam: *devBeam, Average: *average,
			MaxEpochs: *epochs, Patience: *patience, MinEpochs: *minEpochs, ResetLR: *resetLR, Seed: *seed, Budget: *budget, SaveEvery: *saveEvery,
			RestartAfter: *restart, Resume: *resume, Graphs: max(*graphs, 1), Init: *initFrom})
	}
	tgtLang := map[string]string{"en-de": "de", "en-fr": "fr"}[*name]
	if tgtLang == "" {
		return fmt.Errorf("unknown -model %q: want en-de, en-fr or caption", *name)
	}
	corpus, err := translate.LoadCorpus(*data, tgtLang, *domains, *m30kRepeat)
	if err != nil {
		return err
	}
	cfg := translate.Config{SrcLang: "en", TgtLang: tgtLang, Emb: 256, EncHidden: 256, DecHidden: *decHidden, Att: 256, PreOut: 256, Numbers: *numbers, Names: *names}
	title := map[string]string{"de": "English → German", "fr": "English → French"}[tgtLang] +
		map[string]string{"both": " (photo descriptions and everyday sentences)", "multi30k": " (Multi30k)", "tatoeba": " (Tatoeba)"}[*domains]
	fmt.Fprintf(os.Stderr, "training pairs by domain: %v (Multi30k repeated %d times)\n", corpus.Domains, *m30kRepeat)
	cfg.Attention = !*noAtt
	if *noAtt {
		title += ", no attention (Show and Tell)"
	}
	// Vocabularies from the distinct pairs: repeating a domain must not
	// lower its words' count threshold.
	var srcSents, tgtSents [][]string
	seen := map[Pair]bool{}
	lx := translate.NewLexicon(corpus.Train, cfg.SrcLang, cfg.TgtLang)
	if cfg.Names {
		cfg.KeptNames = lx.Kept()
	}
	for _, p := range corpus.Train {
		k := Pair{p.Src, p.Refs[0]}
		if seen[k] {
			continue
		}
		seen[k] = true
		s, t := cfg.PairTokens(vocab.Tokenize(p.Src, cfg.SrcLang), vocab.Tokenize(p.Refs[0], cfg.TgtLang), lx)
		srcSents, tgtSents = append(srcSents, s), append(tgtSents, t)
	}
	src, tgt := vocab.Build(srcSents, *minCount), vocab.Build(tgtSents, *minCount)
	cfg.SrcVocab, cfg.TgtVocab = src.Len(), tgt.Len()
	if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "vocabularies (min count %d): %d source, %d target words\n", *minCount, src.Len(), tgt.Len())
	res, err := train.Translation(cfg, src, tgt, corpus.Train, corpus.Dev, train.TranslateOptions{
		Batch: *batch, LR: *lr, Clip: 5, Dropout: *dropout, MaxEpochs: *epochs, Patience: *patience, MinEpochs: *minEpochs, ResetLR: *resetLR,
		MaxLen: *maxLen, Seed: *seed, Budget: *budget, SaveEvery: *saveEvery, Dir: *runDir, Out: *out, Resume: *resume, Graphs: max(*graphs, 1), Init: *initFrom, RestartAfter: *restart,
		Workers: *workers, SyncEvery: *syncEvery, Remap: *remapInit, Lexicon: lx,
		Meta: map[string]any{"title": title, "id": id, "trained_on": trainedOn(*domains, corpus.Domains)},
	})
	if *heapProf != "" {
		f, err := os.Create(*heapProf)
		if err == nil {
			pprof.WriteHeapProfile(f)
			f.Close()
		}
	}
	if errors.Is(err, train.ErrRestart) {
		os.Exit(3)
	}
	if err != nil {
		return err
	}
	fmt.Printf("done: %.2f epochs in %s, %.0f target tok/s, best dev BLEU (greedy) %.2f, model %s\n",
		res.Epochs, res.Elapsed.Round(time.Second), res.TokPerS, res.BestBLEU, *out)
	return nil
}

func trainCaption(data, features, segPath, out, runDir, id string, attention, constStart bool, hidden, minCount int, o train.CaptionOptions) error {
	if !attention && constStart {
		return errors.New("-no-attention with -const-start: the model would never see the photo (without attention it sees it only through the start state)")
	}
	fl, err := caption.LoadFlickr8k(filepath.Join(data, "flickr8k"))
	if err != nil {
		return err
	}
	cf, err := checkpoint.Load(features)
	if err != nil {
		return fmt.Errorf("%w (make the cache with: go run ./cmd/features)", err)
	}
	feats, err := caption.FeaturesFromFile(cf)
	if err != nil {
		return err
	}
	var sents [][]string
	for _, name := range fl.Train {
		sents = append(sents, fl.Captions[name]...)
	}
	words := vocab.Build(sents, minCount)
	cfg := caption.Config{Rows: feats.Rows, Cols: feats.Cols, Feat: feats.Depth, Proj: 512, Emb: 256, Hidden: hidden, Att: 256,
		Vocab: words.Len(), Attention: attention, ConstStart: constStart}
	var seg *segment.Maps
	if o.Reg.Sup > 0 {
		if seg, err = segment.LoadMaps(segPath); err != nil {
			return fmt.Errorf("%w (make it with: go run ./cmd/segment)", err)
		}
	}
	var supervised, objectWords int
	var examples []caption.Example
	for _, name := range fl.Train {
		f, ok := feats.Of(name)
		if !ok {
			return fmt.Errorf("%s: no features for %s", features, name)
		}
		for _, c := range fl.Captions[name] {
			ex := caption.Example{Feat: f, Words: words.IDs(c)}
			if seg != nil {
				var n int
				ex.Target, n = objectTargets(seg, name, c, cfg.Rows, cfg.Cols)
				supervised += n
				for _, w := range c {
					if model.ObjectClass(w) != "" {
						objectWords++
					}
				}
			}
			examples = append(examples, ex)
		}
	}
	if seg != nil {
		fmt.Fprintf(os.Stderr, "attention supervision (μ %g): %d of %d object words in the training captions name an object found in their photo\n", o.Reg.Sup, supervised, objectWords)
	}
	var dev []caption.Image
	for _, name := range fl.Dev {
		f, ok := feats.Of(name)
		if !ok {
			return fmt.Errorf("%s: no features for %s", features, name)
		}
		dev = append(dev, caption.Image{Name: name, Feat: f, Refs: fl.Captions[name]})
	}
	title := "Image captions (Flickr8k)"
	if o.Reg.Sup > 0 {
		title += ", attention supervised"
	}
	if !attention {
		title += ", no attention (Show and Tell)"
	}
	about := fmt.Sprintf("Flickr8k: %s photos with 5 captions each", commas(len(fl.Train)))
	if o.Reg.Sup > 0 {
		about += "; attention pulled onto the objects that words name (PASCAL VOC masks from DeepLabV3)"
	}
	o.Dir, o.Out, o.Meta = runDir, out, map[string]any{"title": title, "id": id, "trained_on": about}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	res, err := train.Caption(cfg, words, examples, dev, o)
	if errors.Is(err, train.ErrRestart) {
		os.Exit(3)
	}
	if err != nil {
		return err
	}
	fmt.Printf("done: %.2f epochs in %s, %.0f words/s, best dev BLEU-4 (beam %d) %.2f, model %s\n",
		res.Epochs, res.Elapsed.Round(time.Second), res.TokPerS, max(o.DevBeam, 1), res.Best, out)
	return nil
}

// objectTargets gives each word of a caption that names an object found in
// the photo the object's share of every region (nil for the other words),
// and counts them.
func objectTargets(seg *segment.Maps, name string, words []string, rows, cols int) ([][]float32, int) {
	m, ok := seg.Of[name]
	if !ok {
		return nil, 0
	}
	out := make([][]float32, len(words))
	n := 0
	for t, w := range words {
		if _, shares, _, ok := model.NamedObject(w, m, seg.Side, seg.Side, rows, cols); ok {
			out[t] = shares
			n++
		}
	}
	return out, n
}

// trainedOn says, for the page, what a translation model learned from.
func trainedOn(domains string, pairs map[string]int) string {
	count := func(d string) string { return commas(pairs[d]) }
	switch domains {
	case "multi30k":
		return "photo descriptions only (Multi30k, " + count("multi30k") + " pairs)"
	case "tatoeba":
		return "everyday sentences only (Tatoeba, " + count("tatoeba") + " pairs)"
	}
	return "photo descriptions and everyday sentences (Multi30k and Tatoeba: " + count("multi30k") + " + " + count("tatoeba") + " pairs)"
}

// commas writes n with thousands separators.
func commas(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
