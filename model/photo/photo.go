// Package photo turns an uploaded file into an image the encoder can read:
// size and pixel limits checked before any pixel is decoded, the formats a
// phone produces, EXIF orientation honoured.
package photo

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	_ "image/gif" // GIF: the first frame
	_ "image/jpeg"
	_ "image/png"
	"io"
	"os"

	"github.com/disintegration/imaging"
	_ "golang.org/x/image/webp"
)

// Limits bound what is decoded.
type Limits struct {
	MaxBytes  int64 // file size
	MaxPixels int64 // width x height, read from the header
}

// DefaultLimits are 10 MB files and 40 megapixels: a phone's photo.
func DefaultLimits() Limits { return Limits{MaxBytes: 10 << 20, MaxPixels: 40_000_000} }

// Errors for the caller to map to 4xx responses. Each says what to do.
var (
	ErrEmpty    = errors.New("the file is empty")
	ErrTooLarge = errors.New("the file is too large")
	ErrTooBig   = errors.New("the image has too many pixels")
	ErrNotImage = errors.New("the file is not a JPEG, PNG, GIF or WebP image")
	ErrCorrupt  = errors.New("the image is damaged or cut short and cannot be read")
	ErrNoPixels = errors.New("the image has no pixels")
)

// Info describes a decoded upload.
type Info struct {
	Format        string
	Width, Height int // as stored, before orientation
}

// Decode reads at most l.MaxBytes from r and decodes the image, rotated
// upright by its EXIF orientation (a JPEG's, or a PNG's eXIf chunk).
func Decode(r io.Reader, l Limits) (image.Image, Info, error) {
	data, err := io.ReadAll(io.LimitReader(r, l.MaxBytes+1))
	if err != nil {
		return nil, Info{}, fmt.Errorf("reading the upload: %w", err)
	}
	if len(data) == 0 {
		return nil, Info{}, ErrEmpty
	}
	if int64(len(data)) > l.MaxBytes {
		return nil, Info{}, fmt.Errorf("%w: the limit is %d MB", ErrTooLarge, l.MaxBytes>>20)
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		if errors.Is(err, image.ErrFormat) {
			return nil, Info{}, ErrNotImage
		}
		return nil, Info{}, ErrCorrupt
	}
	switch format {
	case "jpeg", "png", "gif", "webp":
	default: // BMP and TIFF decoders are linked in (by imaging) but not offered
		return nil, Info{Format: format}, ErrNotImage
	}
	if format == "webp" {
		// Every header, not only the first: see webpSize.
		w, h, err := webpSize(data)
		if err != nil {
			return nil, Info{Format: format}, err
		}
		cfg.Width, cfg.Height = w, h
	}
	info := Info{Format: format, Width: cfg.Width, Height: cfg.Height}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, info, ErrNoPixels
	}
	// Checked before decoding: a small file can claim huge dimensions.
	if int64(cfg.Width)*int64(cfg.Height) > l.MaxPixels {
		return nil, info, fmt.Errorf("%w: %dx%d is over the limit of %d megapixels", ErrTooBig, cfg.Width, cfg.Height, l.MaxPixels/1_000_000)
	}
	img, err := imaging.Decode(bytes.NewReader(data), imaging.AutoOrientation(true))
	if err != nil {
		return nil, info, ErrCorrupt
	}
	if format == "png" {
		img = orient(img, pngOrientation(data))
	}
	return img, info, nil
}

// Open decodes the photo in a file as Decode does (the same limits and
// orientation), for the commands that read datasets: what they read is
// what an upload of the same file gives the server.
func Open(path string, l Limits) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, _, err := Decode(f, l)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return img, nil
}

// Square centre-crops img to a square (the whole short side is kept; the
// long side is cropped equally at both ends) and resizes it to size x size.
// It crops first: imaging.Fill resizes first when a side is under 100
// pixels, and a 1 x 40,000,000 image would then become 224 x 9e9. The
// crop is a view of the decoded pixels where the image type allows one
// (every type the standard decoders return): copying a 39 MP photo's
// square as NRGBA would cost 4 bytes a pixel more.
func Square(img image.Image, size int) *image.NRGBA {
	b := img.Bounds()
	s := min(b.Dx(), b.Dy())
	x0, y0 := b.Min.X+(b.Dx()-s)/2, b.Min.Y+(b.Dy()-s)/2
	r := image.Rect(x0, y0, x0+s, y0+s)
	if v, ok := img.(interface {
		SubImage(image.Rectangle) image.Image
	}); ok {
		return imaging.Resize(v.SubImage(r), size, size, imaging.Lanczos)
	}
	return imaging.Resize(imaging.Crop(img, r), size, size, imaging.Lanczos)
}
