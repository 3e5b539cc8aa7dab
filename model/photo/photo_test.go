package photo

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/disintegration/imaging"
)

func solid(w, h int, c color.Color) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, c)
		}
	}
	return img
}

func encodePNG(t *testing.T, img image.Image) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodeJPEG(t *testing.T, img image.Image) []byte {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// withOrientation inserts an EXIF APP1 segment with the given orientation
// tag right after the JPEG's start-of-image marker.
func withOrientation(jpg []byte, o uint16) []byte {
	var tiff bytes.Buffer
	tiff.WriteString("II*\x00")
	binary.Write(&tiff, binary.LittleEndian, uint32(8)) // first IFD
	binary.Write(&tiff, binary.LittleEndian, uint16(1)) // one entry
	binary.Write(&tiff, binary.LittleEndian, uint16(0x0112))
	binary.Write(&tiff, binary.LittleEndian, uint16(3)) // SHORT
	binary.Write(&tiff, binary.LittleEndian, uint32(1))
	binary.Write(&tiff, binary.LittleEndian, uint16(o))
	binary.Write(&tiff, binary.LittleEndian, uint16(0))
	binary.Write(&tiff, binary.LittleEndian, uint32(0)) // no next IFD
	payload := append([]byte("Exif\x00\x00"), tiff.Bytes()...)
	seg := []byte{0xFF, 0xE1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(len(payload)+2))
	out := append([]byte{0xFF, 0xD8}, seg...)
	out = append(out, payload...)
	return append(out, jpg[2:]...)
}

// pngHeaderOnly claims w x h pixels in a few dozen bytes: a decompression bomb.
func pngHeaderOnly(w, h uint32) []byte {
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr, w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 2
	chunk := func(typ string, data []byte) []byte {
		b := make([]byte, 4)
		binary.BigEndian.PutUint32(b, uint32(len(data)))
		b = append(append(b, typ...), data...)
		crc := make([]byte, 4)
		binary.BigEndian.PutUint32(crc, crc32.ChecksumIEEE(append([]byte(typ), data...)))
		return append(b, crc...)
	}
	return append(append([]byte("\x89PNG\r\n\x1a\n"), chunk("IHDR", ihdr)...), chunk("IEND", nil)...)
}

// tinyWebP is a 4x3 red lossless WebP (made with cwebp from a PNG).
const tinyWebP = "524946461c000000574542505650384c0f0000002f038000000710fd8ffe0722a2ff0100"

func TestDecodeFormats(t *testing.T) {
	red := color.NRGBA{255, 0, 0, 255}
	webp, _ := hex.DecodeString(tinyWebP)
	var anim bytes.Buffer
	pal := color.Palette{color.NRGBA{0, 0, 255, 255}, color.NRGBA{0, 255, 0, 255}}
	f1, f2 := image.NewPaletted(image.Rect(0, 0, 3, 3), pal), image.NewPaletted(image.Rect(0, 0, 3, 3), pal)
	for i := range f2.Pix {
		f2.Pix[i] = 1
	}
	gif.EncodeAll(&anim, &gif.GIF{Image: []*image.Paletted{f1, f2}, Delay: []int{10, 10}})
	deep := image.NewNRGBA64(image.Rect(0, 0, 5, 4))
	for i := range deep.Pix {
		deep.Pix[i] = 0xFF
	}
	cases := []struct {
		name   string
		data   []byte
		format string
		w, h   int
		first  color.NRGBA // top-left pixel after decoding (approximately for JPEG)
	}{
		{"png", encodePNG(t, solid(6, 4, red)), "png", 6, 4, red},
		{"16-bit png", encodePNG(t, deep), "png", 5, 4, color.NRGBA{255, 255, 255, 255}},
		{"jpeg", encodeJPEG(t, solid(8, 8, red)), "jpeg", 8, 8, red},
		{"webp", webp, "webp", 4, 3, red},
		{"animated gif: first frame", anim.Bytes(), "gif", 3, 3, color.NRGBA{0, 0, 255, 255}},
		{"1x1", encodePNG(t, solid(1, 1, red)), "png", 1, 1, red},
	}
	for _, c := range cases {
		img, info, err := Decode(bytes.NewReader(c.data), DefaultLimits())
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		b := img.Bounds()
		if info.Format != c.format || b.Dx() != c.w || b.Dy() != c.h {
			t.Errorf("%s: %s %dx%d, want %s %dx%d", c.name, info.Format, b.Dx(), b.Dy(), c.format, c.w, c.h)
		}
		got := color.NRGBAModel.Convert(img.At(b.Min.X, b.Min.Y)).(color.NRGBA)
		if d := diff(got, c.first); d > 8 {
			t.Errorf("%s: first pixel %v, want %v", c.name, got, c.first)
		}
		if sq := Square(img, 224); sq.Bounds().Dx() != 224 || sq.Bounds().Dy() != 224 {
			t.Errorf("%s: square is %v", c.name, sq.Bounds())
		}
	}
}

func diff(a, b color.NRGBA) int {
	d := 0
	for _, p := range [][2]uint8{{a.R, b.R}, {a.G, b.G}, {a.B, b.B}} {
		if p[0] > p[1] {
			d = max(d, int(p[0]-p[1]))
		} else {
			d = max(d, int(p[1]-p[0]))
		}
	}
	return d
}

// A phone photo taken in portrait is stored landscape with an EXIF
// orientation: it must come out upright.
func TestEXIFOrientation(t *testing.T) {
	jpg := withOrientation(encodeJPEG(t, solid(16, 8, color.NRGBA{0, 128, 255, 255})), 6) // rotate 90° clockwise
	img, info, err := Decode(bytes.NewReader(jpg), DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 8 || b.Dy() != 16 || info.Width != 16 {
		t.Fatalf("oriented image is %v (stored %dx%d), want 8x16", b, info.Width, info.Height)
	}
}

func TestBadUploads(t *testing.T) {
	jpg := encodeJPEG(t, solid(64, 64, color.NRGBA{10, 200, 30, 255}))
	cases := []struct {
		name string
		data []byte
		l    Limits
		want error
	}{
		{"zero bytes", nil, DefaultLimits(), ErrEmpty},
		{"text renamed .jpg", []byte("hello, this is not a picture\n"), DefaultLimits(), ErrNotImage},
		{"truncated jpeg", jpg[:len(jpg)/2], DefaultLimits(), ErrCorrupt},
		{"decompression bomb", pngHeaderOnly(100_000, 100_000), DefaultLimits(), ErrTooBig},
		{"zero width", pngHeaderOnly(0, 10), DefaultLimits(), ErrCorrupt},
		{"too large a file", jpg, Limits{MaxBytes: 100, MaxPixels: 1 << 30}, ErrTooLarge},
	}
	for _, c := range cases {
		_, _, err := Decode(bytes.NewReader(c.data), c.l)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
	}
}

// FuzzDecode: any bytes give an image or one of the package's errors,
// never a panic, within the limits.
func FuzzDecode(f *testing.F) {
	webp, _ := hex.DecodeString(tinyWebP)
	var b bytes.Buffer
	png.Encode(&b, solid(3, 2, color.NRGBA{1, 2, 3, 255}))
	for _, s := range [][]byte{webp, b.Bytes(), pngHeaderOnly(50_000, 50_000), []byte("GIF89a"), {0xFF, 0xD8, 0xFF}} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		img, _, err := Decode(bytes.NewReader(data), Limits{MaxBytes: 1 << 20, MaxPixels: 1 << 20})
		if err != nil {
			return
		}
		if b := img.Bounds(); b.Dx()*b.Dy() > 1<<20 || b.Empty() {
			t.Fatalf("decoded %v past the limits", b)
		}
		Square(img, 8)
	})
}

// A sliver of a photo (one pixel wide, a million tall) squares in bounded
// time and memory: the crop comes before the resize.
func TestSquareOfASliver(t *testing.T) {
	for _, r := range []image.Rectangle{image.Rect(0, 0, 1, 1_000_000), image.Rect(0, 0, 1_000_000, 2), image.Rect(5, 7, 50, 20)} {
		sq := Square(image.NewGray(r), 224)
		if b := sq.Bounds(); b.Dx() != 224 || b.Dy() != 224 {
			t.Fatalf("%v: square is %v", r, b)
		}
	}
}

// lyingWebP is a VP8X canvas of canvas x canvas over a VP8L bitstream that
// says it is frame x frame, the bitstream cut short after its header.
func lyingWebP(canvas, frame int) []byte {
	var b bytes.Buffer
	chunk := func(id string, body []byte) {
		b.WriteString(id)
		binary.Write(&b, binary.LittleEndian, uint32(len(body)))
		b.Write(body)
		if len(body)%2 == 1 {
			b.WriteByte(0)
		}
	}
	vp8x := make([]byte, 10)
	c := uint32(canvas - 1)
	vp8x[4], vp8x[5], vp8x[6] = byte(c), byte(c>>8), byte(c>>16)
	vp8x[7], vp8x[8], vp8x[9] = byte(c), byte(c>>8), byte(c>>16)
	vp8l := make([]byte, 12)
	vp8l[0] = 0x2f
	f := uint32(frame-1) | uint32(frame-1)<<14
	binary.LittleEndian.PutUint32(vp8l[1:5], f)
	var body bytes.Buffer
	body.WriteString("WEBP")
	b.Reset()
	chunk("VP8X", vp8x)
	chunk("VP8L", vp8l)
	body.Write(b.Bytes())
	var file bytes.Buffer
	file.WriteString("RIFF")
	binary.Write(&file, binary.LittleEndian, uint32(body.Len()))
	file.Write(body.Bytes())
	return file.Bytes()
}

// A WebP whose canvas says 1x1 while its bitstream says 8000x8000 is
// refused before any pixel is decoded; image.DecodeConfig reads only the
// canvas, and decoding it took 770 MB.
func TestWebPHeadersThatDisagree(t *testing.T) {
	data := lyingWebP(1, 8000)
	if cfg, _, err := image.DecodeConfig(bytes.NewReader(data)); err != nil || cfg.Width != 1 {
		t.Fatalf("the test file is not what it should be: DecodeConfig says %+v, %v", cfg, err)
	}
	_, _, err := Decode(bytes.NewReader(data), DefaultLimits())
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "disagree") {
		t.Fatalf("got %v, want the headers' disagreement", err)
	}
	// Agreeing headers over the pixel limit are refused as too big.
	_, _, err = Decode(bytes.NewReader(lyingWebP(8000, 8000)), DefaultLimits())
	if !errors.Is(err, ErrTooBig) {
		t.Fatalf("8000x8000 WebP: got %v, want ErrTooBig", err)
	}
	// Agreeing and small: on to the decoder (this one is cut short).
	_, _, err = Decode(bytes.NewReader(lyingWebP(4, 4)), DefaultLimits())
	if !errors.Is(err, ErrCorrupt) || strings.Contains(err.Error(), "disagree") {
		t.Fatalf("4x4 WebP cut short: got %v, want a plain corrupt-file error", err)
	}
}

// Square reads the crop through a view of the decoded pixels: the same
// result as copying the crop first, for the types the decoders return.
func TestSquareViewMatchesCopy(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	fill := func(p []uint8) {
		for i := range p {
			p[i] = uint8(rng.IntN(256))
		}
	}
	ycc := image.NewYCbCr(image.Rect(5, 7, 305, 207), image.YCbCrSubsampleRatio420)
	fill(ycc.Y)
	fill(ycc.Cb)
	fill(ycc.Cr)
	gray := image.NewGray(image.Rect(0, 0, 120, 333))
	fill(gray.Pix)
	nrgba := image.NewNRGBA(image.Rect(-4, 0, 250, 90))
	fill(nrgba.Pix)
	for _, img := range []image.Image{ycc, gray, nrgba} {
		b := img.Bounds()
		s := min(b.Dx(), b.Dy())
		x0, y0 := b.Min.X+(b.Dx()-s)/2, b.Min.Y+(b.Dy()-s)/2
		want := imaging.Resize(imaging.Crop(img, image.Rect(x0, y0, x0+s, y0+s)), 64, 64, imaging.Lanczos)
		got := Square(img, 64)
		if !bytes.Equal(got.Pix, want.Pix) || got.Bounds() != want.Bounds() {
			t.Errorf("%T %v: the view's square differs from the copy's", img, b)
		}
	}
}

// A 24 MP photo squared: bytes allocated (compare with the copy's 4 bytes a
// pixel of its square: BenchmarkSquareCopy).
func BenchmarkSquareView(b *testing.B) {
	img := image.NewYCbCr(image.Rect(0, 0, 6000, 4000), image.YCbCrSubsampleRatio420)
	b.ReportAllocs()
	for b.Loop() {
		Square(img, 224)
	}
}

func BenchmarkSquareCopy(b *testing.B) {
	img := image.NewYCbCr(image.Rect(0, 0, 6000, 4000), image.YCbCrSubsampleRatio420)
	b.ReportAllocs()
	for b.Loop() {
		imaging.Resize(imaging.Crop(img, image.Rect(1000, 0, 5000, 4000)), 224, 224, imaging.Lanczos)
	}
}
