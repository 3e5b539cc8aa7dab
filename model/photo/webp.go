package photo

import (
	"encoding/binary"
	"fmt"
)

// errWebPHeaders says a WebP file's headers disagree about its size.
var errWebPHeaders = fmt.Errorf("%w: its WebP headers disagree about its size", ErrCorrupt)

// webpSize reads the size of a WebP image from every header that states
// one: the VP8X canvas, if there is one, and the VP8 or VP8L bitstream's
// own frame header, which is what the decoder allocates for. A file whose
// headers disagree is refused: image.DecodeConfig reads only the first,
// and a 1x1 canvas over an 8000x8000 bitstream would pass the pixel limit
// and then be decoded in full.
func webpSize(data []byte) (w, h int, err error) {
	if len(data) < 12 || string(data[:4]) != "RIFF" || string(data[8:12]) != "WEBP" {
		return 0, 0, ErrCorrupt
	}
	canvasW, canvasH, frames := 0, 0, 0
	for p := 12; p+8 <= len(data); {
		id, size := string(data[p:p+4]), int(binary.LittleEndian.Uint32(data[p+4:p+8]))
		body := data[p+8:]
		if size < len(body) { // else a cut-short last chunk: read what is there
			body = body[:size]
		}
		var fw, fh int
		switch id {
		case "VP8X":
			if len(body) < 10 {
				return 0, 0, ErrCorrupt
			}
			canvasW = 1 + int(uint32(body[4])|uint32(body[5])<<8|uint32(body[6])<<16)
			canvasH = 1 + int(uint32(body[7])|uint32(body[8])<<8|uint32(body[9])<<16)
		case "VP8 ":
			// 3-byte frame tag, start code 9d 01 2a, then 14-bit sizes.
			if len(body) < 10 || body[3] != 0x9d || body[4] != 0x01 || body[5] != 0x2a {
				return 0, 0, ErrCorrupt
			}
			fw = int(binary.LittleEndian.Uint16(body[6:8]) & 0x3fff)
			fh = int(binary.LittleEndian.Uint16(body[8:10]) & 0x3fff)
		case "VP8L":
			// Signature 0x2f, then 14-bit width-1 and height-1.
			if len(body) < 5 || body[0] != 0x2f {
				return 0, 0, ErrCorrupt
			}
			bits := binary.LittleEndian.Uint32(body[1:5])
			fw, fh = 1+int(bits&0x3fff), 1+int((bits>>14)&0x3fff)
		case "ANIM", "ANMF":
			return 0, 0, fmt.Errorf("%w: animated WebP is not supported", ErrNotImage)
		}
		if fw > 0 || fh > 0 {
			frames++
			if frames > 1 || (w != 0 && (fw != w || fh != h)) {
				return 0, 0, errWebPHeaders
			}
			w, h = fw, fh
		}
		p += 8 + size + size%2 // chunks are padded to an even size
	}
	if frames == 0 {
		return 0, 0, ErrCorrupt
	}
	if canvasW != 0 && (canvasW != w || canvasH != h) {
		return 0, 0, errWebPHeaders
	}
	return w, h, nil
}
