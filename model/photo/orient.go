package photo

import (
	"encoding/binary"
	"image"

	"github.com/disintegration/imaging"
)

// Decode honours a JPEG's EXIF orientation (imaging does); a PNG can carry
// the same EXIF block in an eXIf chunk (phones write it when they save a
// screenshot or an edited photo as PNG), and it is honoured the same way.

// pngOrientation is the EXIF orientation (1-8) in a PNG's eXIf chunk, or
// 0 when there is none.
func pngOrientation(data []byte) int {
	const signature = "\x89PNG\r\n\x1a\n"
	if len(data) < len(signature) || string(data[:len(signature)]) != signature {
		return 0
	}
	p := data[len(signature):]
	for len(p) >= 12 {
		n := binary.BigEndian.Uint32(p)
		if uint64(n) > uint64(len(p)-12) {
			return 0
		}
		switch string(p[4:8]) {
		case "eXIf":
			return exifOrientation(p[8 : 8+n])
		case "IEND":
			return 0
		}
		p = p[12+n:]
	}
	return 0
}

// exifOrientation reads the orientation tag from IFD0 of a TIFF-format
// EXIF block.
func exifOrientation(b []byte) int {
	if len(b) < 8 {
		return 0
	}
	var bo binary.ByteOrder
	switch string(b[:4]) {
	case "II*\x00":
		bo = binary.LittleEndian
	case "MM\x00*":
		bo = binary.BigEndian
	default:
		return 0
	}
	off := uint64(bo.Uint32(b[4:]))
	if off+2 > uint64(len(b)) {
		return 0
	}
	entries := b[off+2:]
	for i := 0; i < int(bo.Uint16(b[off:])) && len(entries) >= 12; i++ {
		const orientationTag, short = 0x0112, 3
		if bo.Uint16(entries) == orientationTag && bo.Uint16(entries[2:]) == short {
			if v := int(bo.Uint16(entries[8:])); v >= 1 && v <= 8 {
				return v
			}
			return 0
		}
		entries = entries[12:]
	}
	return 0
}

// orient turns img upright by an EXIF orientation, as imaging does for
// JPEG.
func orient(img image.Image, o int) image.Image {
	switch o {
	case 2:
		return imaging.FlipH(img)
	case 3:
		return imaging.Rotate180(img)
	case 4:
		return imaging.FlipV(img)
	case 5:
		return imaging.Transpose(img)
	case 6:
		return imaging.Rotate270(img)
	case 7:
		return imaging.Transverse(img)
	case 8:
		return imaging.Rotate90(img)
	}
	return img
}
