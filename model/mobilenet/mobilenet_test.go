package mobilenet

import (
	"bufio"
	"bytes"
	"image"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/disintegration/imaging"

	"attention/internal/testenv"
	"attention/model/photo"
)

var (
	loadOnce sync.Once
	loadEnc  *Encoder
	loadErr  error
)

func modelBytes(t testing.TB) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testenv.SharedData(t), "weights", "mobilenet_v2_1.0_224_quant.tflite"))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// encoder loads the model once for all tests.
func encoder(t testing.TB) *Encoder {
	t.Helper()
	data := modelBytes(t)
	loadOnce.Do(func() { loadEnc, loadErr = Load(data) })
	if loadErr != nil {
		t.Fatal(loadErr)
	}
	return loadEnc
}

func readJPEG(t testing.TB, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := jpeg.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

func TestReadModel(t *testing.T) {
	m, err := ReadModel(modelBytes(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Subgraphs) != 1 {
		t.Fatalf("%d subgraphs, want 1", len(m.Subgraphs))
	}
	sg := m.Subgraphs[0]
	if len(sg.Tensors) != 174 {
		t.Errorf("%d tensors, want 174", len(sg.Tensors))
	}
	in := sg.Tensors[sg.Inputs[0]]
	if !slices.Equal(in.Shape, []int32{1, 224, 224, 3}) || in.Type != Uint8 {
		t.Errorf("input %v %s, want [1 224 224 3] UINT8", in.Shape, in.Type)
	}
	if in.Quant == nil || in.Quant.Scale[0] != 1.0/128 || in.Quant.ZeroPoint0() != 128 {
		t.Errorf("input quantisation %+v, want scale 1/128, zero point 128", in.Quant)
	}
	out := sg.Tensors[sg.Outputs[0]]
	if !slices.Equal(out.Shape, []int32{1, 1001}) {
		t.Errorf("output shape %v, want [1 1001]", out.Shape)
	}
	count := map[BuiltinOp]int{}
	for _, op := range sg.Operators {
		count[m.Op(op)]++
	}
	t.Logf("%d tensors, %d operators: %v", len(sg.Tensors), len(sg.Operators), count)
	// MobileNetV2: 36 convolutions (with the logits), 17 depthwise
	// convolutions, 10 residual additions.
	want := map[BuiltinOp]int{OpConv2D: 36, OpDepthwiseConv2D: 17, OpAdd: 10, OpAveragePool2D: 1, OpReshape: 1, OpSoftmax: 1}
	for op, n := range want {
		if count[op] != n {
			t.Errorf("%d %s operators, want %d", count[op], op, n)
		}
	}
	// Every weight tensor of a convolution is a dequantisable uint8 constant.
	for _, op := range sg.Operators {
		if m.Op(op) != OpConv2D {
			continue
		}
		o := op.Options.(*Conv2DOptions)
		w := sg.Tensors[op.Inputs[1]]
		if w.Type != Uint8 || w.Quant == nil || len(m.Buffers[w.Buffer]) == 0 {
			t.Errorf("conv filter %s: type %s, quantisation %v, %d bytes", w.Name, w.Type, w.Quant, len(m.Buffers[w.Buffer]))
		}
		if o.StrideH < 1 || o.DilationH != 1 {
			t.Errorf("conv %s: options %+v", w.Name, o)
		}
	}
}

func TestReadModelErrors(t *testing.T) {
	data := modelBytes(t)
	// The file ends with a 22 kB zip of the labels (TFLite metadata) that
	// the flatbuffer does not reference, so cut before it.
	fb := bytes.LastIndex(data, []byte("PK\x03\x04"))
	if fb < 0 {
		t.Fatal("no zip after the flatbuffer")
	}
	for _, n := range []int{0, 7, 8, 100, 4096, len(data) / 2, fb - 1} {
		if _, err := ReadModel(data[:n]); err == nil {
			t.Errorf("file truncated to %d bytes: no error", n)
		} else if n == len(data)/2 {
			t.Logf("truncated to %d bytes: %v", n, err)
		}
		if _, err := Load(data[:n]); err == nil {
			t.Errorf("Load of file truncated to %d bytes: no error", n)
		}
	}
	labels, err := os.ReadFile(filepath.Join(testenv.SharedData(t), "weights", "imagenet_labels.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ReadModel(labels); err == nil || !strings.Contains(err.Error(), "not a TFLite model") {
		t.Errorf("labels file read as a model: err = %v", err)
	}
	// Right identifier, garbage offsets.
	junk := slices.Clone(data[:4096])
	for i := 8; i < len(junk); i++ {
		junk[i] = byte(i * 7)
	}
	junk[0], junk[1], junk[2], junk[3] = 0xff, 0xff, 0xff, 0x7f
	if _, err := ReadModel(junk); err == nil {
		t.Error("corrupt root offset: no error")
	}
	// Random damage to the tables at either end of the flatbuffer (the
	// middle is weight bytes) must give an error or a model, never a panic.
	r := rand.New(rand.NewPCG(1, 2))
	for range 300 {
		d := slices.Clone(data[:fb])
		for range 1 + r.IntN(4) {
			p := r.IntN(1 << 16)
			if r.IntN(2) == 0 {
				p = fb - 1 - p
			}
			d[p] = byte(r.IntN(256))
		}
		_, _ = ReadModel(d) // only a panic would fail
	}
}

// labels reads imagenet_labels.txt (index 0 = background).
func labels(t testing.TB, dir string) []string {
	data, err := os.ReadFile(filepath.Join(dir, "weights", "imagenet_labels.txt"))
	if err != nil {
		t.Fatal(err)
	}
	l := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(l) != 1001 {
		t.Fatalf("%d labels, want 1001", len(l))
	}
	return l
}

// dogImages returns the test-split images all five of whose captions
// mention a dog.
func dogImages(t testing.TB, dir string) []string {
	split, err := os.ReadFile(filepath.Join(dir, "flickr8k", "Flickr_8k.testImages.txt"))
	if err != nil {
		t.Fatal(err)
	}
	test := map[string]bool{}
	for _, name := range strings.Fields(string(split)) {
		test[name] = true
	}
	f, err := os.Open(filepath.Join(dir, "flickr8k", "Flickr8k.token.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	captions, dogs := map[string]int{}, map[string]int{}
	var order []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		id, caption, ok := strings.Cut(sc.Text(), "\t")
		name, _, _ := strings.Cut(id, "#")
		if !ok || !test[name] {
			continue
		}
		if captions[name] == 0 {
			order = append(order, name)
		}
		captions[name]++
		words := strings.FieldsFunc(strings.ToLower(caption), func(r rune) bool { return r < 'a' || r > 'z' })
		if slices.ContainsFunc(words, func(w string) bool { return w == "dog" || w == "dogs" || w == "puppy" }) {
			dogs[name]++
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, name := range order {
		if captions[name] == 5 && dogs[name] == 5 {
			out = append(out, name)
		}
	}
	return out
}

func TestDogsTop5(t *testing.T) {
	dir := testenv.SharedData(t)
	e := encoder(t)
	lab := labels(t, dir)
	// The dog breeds run from Chihuahua to Mexican hairless (151..268 in
	// the 1000-class indexing); the wolves follow.
	first, last := slices.Index(lab, "Chihuahua"), slices.Index(lab, "Mexican hairless")
	if first != 152 || last != 269 || !strings.HasPrefix(lab[270], "timber wolf") {
		t.Fatalf("dog breeds at %d..%d, want 152..269 before the timber wolf", first, last)
	}
	names := dogImages(t, dir)
	t.Logf("%d test images with a dog in all five captions", len(names))
	if len(names) < 20 {
		t.Fatalf("only %d dog images", len(names))
	}
	names = names[:min(len(names), 50)]
	hits := 0
	for _, name := range names {
		p, err := e.Classify(readJPEG(t, filepath.Join(dir, "flickr8k", "images", name)))
		if err != nil {
			t.Fatal(err)
		}
		if len(p) != 1001 {
			t.Fatalf("%d probabilities, want 1001", len(p))
		}
		top := topK(p, 5)
		dog := slices.ContainsFunc(top, func(i int) bool { return i >= first && i <= last })
		if dog {
			hits++
		}
		if testing.Verbose() {
			t.Logf("%s dog=%v top1 %q %.2f", name, dog, lab[top[0]], p[top[0]])
		}
	}
	frac := float64(hits) / float64(len(names))
	t.Logf("dog breed in top 5: %d/%d = %.2f", hits, len(names), frac)
	if frac < 0.8 {
		t.Errorf("dog breed in top 5 for %.2f of dog images, want >= 0.80", frac)
	}
}

func topK(p []float32, k int) []int {
	idx := make([]int, len(p))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case p[a] > p[b]:
			return -1
		case p[a] < p[b]:
			return 1
		}
		return 0
	})
	return idx[:k]
}

func firstDogImage(t testing.TB) image.Image {
	dir := testenv.SharedData(t)
	names := dogImages(t, dir)
	if len(names) == 0 {
		t.Fatal("no dog images")
	}
	return readJPEG(t, filepath.Join(dir, "flickr8k", "images", names[0]))
}

func TestRegions(t *testing.T) {
	e := encoder(t)
	img := firstDogImage(t)
	feat, rows, cols, depth, err := e.Regions(img)
	if err != nil {
		t.Fatal(err)
	}
	if rows != 7 || cols != 7 || depth != 1280 || len(feat) != 7*7*1280 {
		t.Fatalf("regions %dx%dx%d (%d values), want 7x7x1280", rows, cols, depth, len(feat))
	}
	// The map comes out of a ReLU6.
	var sum float64
	for i, v := range feat {
		if v < 0 || v > 6 || math.IsNaN(float64(v)) {
			t.Fatalf("feature %d = %v outside [0, 6]", i, v)
		}
		sum += float64(v)
	}
	if sum == 0 {
		t.Fatal("all features are zero")
	}
	// Same image, same answer: recycled buffers must not leak state.
	again, _, _, _, err := e.Regions(img)
	if err != nil || !slices.Equal(feat, again) {
		t.Fatalf("second run differs (err %v)", err)
	}

	// Any photo is cropped as the server crops it: a 300x200 one reads
	// the same as its centre square made by photo.Square.
	wide := imaging.Resize(img, 300, 200, imaging.Linear)
	if b := e.Fit(wide).Bounds(); b.Dx() != 224 || b.Dy() != 224 {
		t.Errorf("Fit gives %v, want 224x224", b)
	}
	fw, _, _, _, err := e.Regions(wide)
	if err != nil {
		t.Fatal(err)
	}
	fs, _, _, _, err := e.Regions(photo.Square(wide, 224))
	if err != nil || !slices.Equal(fw, fs) {
		t.Fatalf("a 300x200 photo and its square crop give different regions (err %v)", err)
	}
	// An NRGBA copy of the JPEG reads the same pixels as the YCbCr original.
	n := image.NewNRGBA(img.Bounds())
	for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y++ {
		for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x++ {
			n.Set(x, y, img.At(x, y))
		}
	}
	viaNRGBA, _, _, _, err := e.Regions(n)
	if err != nil || !slices.Equal(feat, viaNRGBA) {
		t.Errorf("NRGBA copy gives other features (err %v)", err)
	}
}

// The crew shares the large layers out in chunks; whichever goroutine
// computes a value computes it the same way, so the regions are the same
// bit for bit with one processor or several (and with a helper that
// arrives late or never).
func TestRegionsSameOnAnyProcessors(t *testing.T) {
	e := encoder(t)
	img := firstDogImage(t)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	var want []float32
	for _, procs := range []int{1, 2, 3, 4} {
		runtime.GOMAXPROCS(procs)
		for range 3 {
			feat, _, _, _, err := e.Regions(img)
			if err != nil {
				t.Fatal(err)
			}
			if want == nil {
				want = feat
			} else if !slices.Equal(feat, want) {
				t.Fatalf("GOMAXPROCS %d gives other regions than GOMAXPROCS 1", procs)
			}
		}
	}
}

func BenchmarkRegions(b *testing.B) {
	e := encoder(b)
	img := firstDogImage(b)
	for b.Loop() {
		if _, _, _, _, err := e.Regions(img); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/image")
}
