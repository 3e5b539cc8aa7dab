package model

import (
	"math"
	"testing"
)

func TestRegionSharesAndLook(t *testing.T) {
	// A 4x4 map over a 2x2 grid: the object fills the top-left region and
	// half of the top-right one, 6 of 16 pixels.
	const o = 12
	classes := []uint8{
		o, o, o, 0,
		o, o, o, 0,
		0, 0, 0, 0,
		0, 0, 0, 0,
	}
	shares, area := RegionShares(classes, 4, 4, 2, 2, o)
	want := []float32{1, 0.5, 0, 0}
	for i := range want {
		if shares[i] != want[i] {
			t.Fatalf("shares %v, want %v", shares, want)
		}
	}
	if area != 6.0/16 {
		t.Fatalf("area %g, want 0.375", area)
	}
	// Attention 0.7 on the object's region, 0.2 on the half one: mass
	// 0.7 + 0.1 = 0.8, 2.13x the area; the peak is on the object.
	l := LookAt([]float32{0.7, 0.2, 0.05, 0.05}, shares, area)
	if math.Abs(l.Mass-0.8) > 1e-6 || !l.Pointed {
		t.Fatalf("look %+v, want mass 0.8, pointed", l)
	}
	// Uniform attention earns exactly the area.
	l = LookAt([]float32{0.25, 0.25, 0.25, 0.25}, shares, area)
	if math.Abs(l.Mass-area) > 1e-6 {
		t.Fatalf("uniform mass %g, want the area %g", l.Mass, area)
	}
	// A peak on the background misses.
	if l := LookAt([]float32{0.1, 0.1, 0.7, 0.1}, shares, area); l.Pointed || math.Abs(l.Mass-0.15) > 1e-6 {
		t.Fatalf("look %+v, want mass 0.15, not pointed", l)
	}
	// The same map through a word: "puppy" names the dog (id 12).
	dogs := make([]uint8, len(classes))
	for i, c := range classes {
		if c == o {
			dogs[i] = 12
		}
	}
	if class, sh, a, ok := NamedObject("puppy", dogs, 4, 4, 2, 2); !ok || class != "dog" || a != area || sh[1] != 0.5 {
		t.Fatalf("NamedObject(puppy) = %q %v %g %v", class, sh, a, ok)
	}
	if _, _, _, ok := NamedObject("man", dogs, 4, 4, 2, 2); ok {
		t.Fatal("a person was found in a map without one")
	}
	if _, _, _, ok := NamedObject("grass", dogs, 4, 4, 2, 2); ok {
		t.Fatal("grass names no PASCAL class")
	}
	if ObjectClass("puppy") != "dog" || ObjectClass("women") != "person" || ObjectClass("grass") != "" {
		t.Fatal("class words")
	}
}
