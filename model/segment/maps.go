package segment

import (
	"encoding/gob"
	"fmt"
	"os"
)

// Maps are class maps of many photos, each Side x Side class ids
// (row-major), by photo name: a cache, made once, of what the network
// found in a data set's photos.
type Maps struct {
	Side int
	Of   map[string][]uint8
}

// mapsMagic heads a Maps file; a new layout gets a new magic.
const mapsMagic = "ATTNSEG1"

// Save writes m to path.
func (m *Maps) Save(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	enc := gob.NewEncoder(f)
	if err := enc.Encode(mapsMagic); err != nil {
		f.Close()
		return err
	}
	if err := enc.Encode(m); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// LoadMaps reads a file written by Save.
func LoadMaps(path string) (*Maps, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dec := gob.NewDecoder(f)
	var magic string
	if err := dec.Decode(&magic); err != nil || magic != mapsMagic {
		return nil, fmt.Errorf("%s: not a class-map cache of this version (remake it with: go run ./cmd/segment)", path)
	}
	var m Maps
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for name, c := range m.Of {
		if len(c) != m.Side*m.Side {
			return nil, fmt.Errorf("%s: %s has %d class ids, want %d", path, name, len(c), m.Side*m.Side)
		}
	}
	return &m, nil
}

// Shrink resamples a w x h class map to side x side by nearest pixel.
func Shrink(classes []uint8, w, h, side int) []uint8 {
	out := make([]uint8, side*side)
	for y := 0; y < side; y++ {
		sy := (2*y + 1) * h / (2 * side)
		for x := 0; x < side; x++ {
			out[y*side+x] = classes[sy*w+(2*x+1)*w/(2*side)]
		}
	}
	return out
}
