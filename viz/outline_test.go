package viz

import "testing"

func TestOutline(t *testing.T) {
	// A 4x4 map with a 2x2 object in the middle, drawn at 40x40.
	classes := []uint8{
		0, 0, 0, 0,
		0, 7, 7, 0,
		0, 7, 7, 0,
		0, 0, 0, 0,
	}
	img, err := Outline(classes, 4, 4, 7, 40, 40)
	if err != nil {
		t.Fatal(err)
	}
	if a := img.NRGBAAt(20, 20).A; a != 0 {
		t.Errorf("the object's inside is drawn (alpha %d): only its border should be", a)
	}
	if c := img.NRGBAAt(10, 20); c.A != 255 || c.R != 255 {
		t.Errorf("the left border at (10, 20) is %v, want the light line", c)
	}
	if a := img.NRGBAAt(2, 2).A; a != 0 {
		t.Errorf("the background far from the object is drawn (alpha %d)", a)
	}
	if _, err := Outline(classes, 3, 4, 7, 40, 40); err == nil {
		t.Error("a map of the wrong size was accepted")
	}
	if _, err := Outline(classes, 4, 4, 7, 0, 40); err == nil {
		t.Error("an empty layer was accepted")
	}
}
