package viz

import (
	"image"
	"image/color"
)

// Outline draws the border of one class in a class map (w x h class ids,
// row-major) as a transparent layer of width x height: a light line with a
// dark edge on each side, so that it reads on any photo. A pixel is on the
// border when it is of the class and one of its four neighbours is not.
func Outline(classes []uint8, w, h int, id uint8, width, height int) (*image.NRGBA, error) {
	if err := checkSize("outline", width, height); err != nil {
		return nil, err
	}
	if w <= 0 || h <= 0 || len(classes) != w*h {
		return nil, inputErr("outline: %d class ids for a %dx%d map", len(classes), w, h)
	}
	// The class as a mask at the layer's size (nearest pixel).
	in := make([]bool, width*height)
	for y := 0; y < height; y++ {
		sy := (2*y + 1) * h / (2 * height)
		for x := 0; x < width; x++ {
			in[y*width+x] = classes[sy*w+(2*x+1)*w/(2*width)] == id
		}
	}
	at := func(x, y int) bool { return x >= 0 && y >= 0 && x < width && y < height && in[y*width+x] }
	edge := func(x, y int) bool {
		return at(x, y) && (!at(x-1, y) || !at(x+1, y) || !at(x, y-1) || !at(x, y+1))
	}
	img := image.NewNRGBA(image.Rect(0, 0, width, height))
	light, dark := color.NRGBA{255, 255, 255, 255}, color.NRGBA{0, 0, 0, 200}
	line := max(1, width/160) // half the line's width
	for y := 0; y < height; y++ {
		for x := 0; x < width; x++ {
			if !edge(x, y) {
				continue
			}
			for dy := -line - 1; dy <= line+1; dy++ {
				for dx := -line - 1; dx <= line+1; dx++ {
					px, py := x+dx, y+dy
					if px < 0 || py < 0 || px >= width || py >= height {
						continue
					}
					if max(abs(dx), abs(dy)) <= line {
						img.SetNRGBA(px, py, light)
					} else if img.NRGBAAt(px, py).A == 0 {
						img.SetNRGBA(px, py, dark)
					}
				}
			}
		}
	}
	return img, nil
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}
