package segment

import (
	"fmt"
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"attention/internal/testenv"

	"github.com/disintegration/imaging"
	"golang.org/x/image/bmp"
)

func modelBytes(t testing.TB) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testenv.SharedData(t), "weights", "deeplabv3_mnv2_pascal_quant.tflite"))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

var nets sync.Map // size -> *Net, compiled once for all tests

func net(t testing.TB, size int) *Net {
	t.Helper()
	if n, ok := nets.Load(size); ok {
		return n.(*Net)
	}
	n, err := LoadSize(modelBytes(t), size)
	if err != nil {
		t.Fatal(err)
	}
	nets.Store(size, n)
	return n
}

func readImage(t testing.TB, path string, decode func(f *os.File) (image.Image, error)) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

func decodeBMP(f *os.File) (image.Image, error)  { return bmp.Decode(f) }
func decodeJPEG(f *os.File) (image.Image, error) { return jpeg.Decode(f) }

// compare returns the fraction of equal pixels and the IoU of each class
// present in either map (-1 for the others).
func compare(got, want []uint8) (agree float64, iou [len(Classes)]float64) {
	var inter, union [len(Classes)]int
	same := 0
	for i, g := range got {
		w := want[i]
		if g == w {
			same++
			inter[g]++
			union[g]++
			continue
		}
		if int(g) < len(Classes) {
			union[g]++
		}
		if int(w) < len(Classes) {
			union[w]++
		}
	}
	for c := range iou {
		iou[c] = -1
		if union[c] > 0 {
			iou[c] = float64(inter[c]) / float64(union[c])
		}
	}
	return float64(same) / float64(len(got)), iou
}

func TestClasses(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(testenv.SharedData(t), "weights", "pascal_voc_segmentation_labels.txt"))
	if err != nil {
		t.Fatal(err)
	}
	// The file ends with a note after a blank line.
	names, _, _ := strings.Cut(string(data), "\n\n")
	if got := strings.Fields(names); len(got) != len(Classes) {
		t.Fatalf("%d labels in the file, %d in Classes", len(got), len(Classes))
	} else {
		for i, name := range got {
			if Classes[i] != name {
				t.Errorf("class %d is %q, the file says %q", i, Classes[i], name)
			}
		}
	}
	if Classes[Dog] != "dog" || Classes[Person] != "person" || Classes[Background] != "background" {
		t.Error("class id constants do not match Classes")
	}
}

// The publisher's own test (libcoral's model-correctness test) wants
// common/(2N-common) > 0.95 against the mask, 97.44% of pixels agreeing:
// TFLite itself (LiteRT 2.5.3 on XNNPack) gets 97.86% on this photo, so
// the mask is not the CPU runtime's output, and 99% is beyond a faithful
// port. This package's map agrees with TFLite's on 99.88% of pixels.
const (
	minAgreement = 0.975
	minBirdIoU   = 0.89
)

// TestSegmentationCheck runs the publisher's check: the bird photo must
// give the publisher's class map.
func TestSegmentationCheck(t *testing.T) {
	dir := filepath.Join(testenv.SharedData(t), "segmentation-check")
	photo := readImage(t, filepath.Join(dir, "bird_segmentation.bmp"), decodeBMP)
	mask, ok := readImage(t, filepath.Join(dir, "bird_segmentation_mask.bmp"), decodeBMP).(*image.Paletted)
	if !ok {
		t.Fatal("the mask is not a palettised BMP")
	}
	if b := mask.Bounds(); b.Dx() != NativeSize || b.Dy() != NativeSize || photo.Bounds() != b {
		t.Fatalf("photo %v and mask %v, want %dx%d", photo.Bounds(), b, NativeSize, NativeSize)
	}
	want := make([]uint8, 0, NativeSize*NativeSize) // palette indices are the class ids
	for y := range NativeSize {
		want = append(want, mask.Pix[y*mask.Stride:y*mask.Stride+NativeSize]...)
	}

	n := net(t, NativeSize)
	start := time.Now()
	got, w, h, err := n.Segment(photo)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("513x513 segmentation in %v", time.Since(start).Round(time.Millisecond))
	if w != NativeSize || h != NativeSize || len(got) != w*h {
		t.Fatalf("map %dx%d (%d values), want %dx%d", w, h, len(got), NativeSize, NativeSize)
	}
	agree, iou := compare(got, want)
	coral := agree / (2 - agree)
	t.Logf("pixel agreement with the publisher's map: %.4f (libcoral's IoU %.4f)", agree, coral)
	for c, v := range iou {
		if v >= 0 {
			t.Logf("IoU %-11s %.4f", Classes[c], v)
		}
	}
	if agree < minAgreement || coral <= 0.95 {
		t.Errorf("pixel agreement %.4f (libcoral's IoU %.4f), want >= %.3f (> 0.95)", agree, coral, minAgreement)
	}
	if iou[3] < minBirdIoU {
		t.Errorf("bird IoU %.4f, want >= %.2f", iou[3], minBirdIoU)
	}
}

// sample returns m (n x n) sampled at the centres of a w x h grid of
// pixels, nearest neighbour: both maps cover the whole photo.
func sample(m []uint8, n, w, h int) []uint8 {
	out := make([]uint8, 0, w*h)
	for y := range h {
		sy := (2*y + 1) * n / (2 * h)
		for x := range w {
			out = append(out, m[sy*n+(2*x+1)*n/(2*w)])
		}
	}
	return out
}

// TestSmallerSizes compares the maps at smaller input sizes with the
// native one on Flickr8k test photos, at the photos' own resolution.
func TestSmallerSizes(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the network 24 times")
	}
	dir := testenv.SharedData(t)
	split, err := os.ReadFile(filepath.Join(dir, "flickr8k", "Flickr_8k.testImages.txt"))
	if err != nil {
		t.Fatal(err)
	}
	names := strings.Fields(string(split))[:8]
	photos := make([]image.Image, len(names))
	native := make([][]uint8, len(names))
	for i, name := range names {
		photos[i] = readImage(t, filepath.Join(dir, "flickr8k", "images", name), decodeJPEG)
		m, w, _, err := net(t, NativeSize).Segment(photos[i])
		if err != nil {
			t.Fatal(err)
		}
		b := photos[i].Bounds()
		native[i] = sample(m, w, b.Dx(), b.Dy())
	}
	for _, size := range []int{321, 257} {
		var sumAgree, sumFG float64
		for i, img := range photos {
			m, w, _, err := net(t, size).Segment(img)
			if err != nil {
				t.Fatal(err)
			}
			b := img.Bounds()
			got := sample(m, w, b.Dx(), b.Dy())
			agree, iou := compare(got, native[i])
			fg := foregroundIoU(got, native[i])
			sumAgree += agree
			sumFG += fg
			var present []string
			for c, v := range iou {
				if c != Background && v >= 0 {
					present = append(present, fmt.Sprintf("%s %.2f", Classes[c], v))
				}
			}
			t.Logf("%d: %s agreement %.4f, foreground IoU %.3f; class IoU: %s", size, names[i], agree, fg, strings.Join(present, ", "))
		}
		agree, fg := sumAgree/float64(len(photos)), sumFG/float64(len(photos))
		t.Logf("%d vs %d on %d photos: mean agreement %.4f, mean foreground IoU %.3f", size, NativeSize, len(photos), agree, fg)
		// Measured on these 8: 0.92 and 0.76 at both 321 and 257.
		if agree < 0.9 || fg < 0.7 {
			t.Errorf("%d: mean agreement %.4f, foreground IoU %.3f with the native map; want >= 0.9 and >= 0.7", size, agree, fg)
		}
	}
}

// foregroundIoU is the IoU of the non-background pixels of two maps, 1
// when neither has any.
func foregroundIoU(a, b []uint8) float64 {
	inter, union := 0, 0
	for i := range a {
		fa, fb := a[i] != Background, b[i] != Background
		if fa && fb {
			inter++
		}
		if fa || fb {
			union++
		}
	}
	if union == 0 {
		return 1
	}
	return float64(inter) / float64(union)
}

// One Net serves concurrent calls, each with its own buffers, and any
// image size: a photo that is not square is stretched.
func TestConcurrentSegment(t *testing.T) {
	dir := testenv.SharedData(t)
	photo := readImage(t, filepath.Join(dir, "segmentation-check", "bird_segmentation.bmp"), decodeBMP)
	wide := imaging.Resize(photo, 300, 200, imaging.Lanczos)
	n := net(t, 257)
	want := make([][]uint8, 2)
	for i, img := range []image.Image{photo, wide} {
		m, w, h, err := n.Segment(img)
		if err != nil || w != 257 || h != 257 || len(m) != w*h {
			t.Fatalf("%dx%d map (%d values): %v", w, h, len(m), err)
		}
		want[i] = m
	}
	var wg sync.WaitGroup
	for i, img := range []image.Image{photo, wide, photo, wide} {
		wg.Go(func() {
			m, _, _, err := n.Segment(img)
			if err != nil || !slices.Equal(m, want[i%2]) {
				t.Errorf("concurrent call %d differs (err %v)", i, err)
			}
		})
	}
	wg.Wait()
	if _, _, _, err := n.Segment(image.NewNRGBA(image.Rect(0, 0, 0, 0))); err == nil {
		t.Error("empty image: no error")
	}
	if _, err := LoadSize(modelBytes(t), 5); err == nil {
		t.Error("size 5: no error")
	}
	if _, err := Load([]byte("not a model")); err == nil {
		t.Error("garbage model: no error")
	}
}

func BenchmarkSegment(b *testing.B) {
	dir := filepath.Join(testenv.SharedData(b), "segmentation-check")
	photo := readImage(b, filepath.Join(dir, "bird_segmentation.bmp"), decodeBMP)
	for _, size := range []int{513, 321, 257} {
		n := net(b, size)
		b.Run(strconv.Itoa(size), func(b *testing.B) {
			for b.Loop() {
				if _, _, _, err := n.Segment(photo); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/image")
		})
	}
}
