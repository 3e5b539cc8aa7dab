package model

// classWords maps the caption words that name a PASCAL VOC object to its
// class (the segmentation network's names). A word is listed only where the
// class is what it names in Flickr8k's captions: "bike" is a bicycle more
// often than a motorbike there, and words for clothing, toys or parts of a
// scene are left out.
var classWords = map[string]string{}

func init() {
	for class, words := range map[string][]string{
		"person": {"man", "men", "woman", "women", "boy", "boys", "girl", "girls", "child", "children", "kid", "kids",
			"person", "people", "player", "players", "baby", "toddler", "lady", "ladies", "guy", "guys", "adult", "adults",
			"teenager", "teenagers", "teen", "teens", "crowd", "skier", "skiers", "snowboarder", "surfer", "surfers",
			"skateboarder", "skater", "climber", "swimmer", "runner", "runners", "dancer", "dancers", "worker", "workers",
			"rider", "riders", "cyclist", "cyclists", "bicyclist", "biker", "bikers", "gentleman", "youngster", "toddlers"},
		"dog":         {"dog", "dogs", "puppy", "puppies", "pup"},
		"bicycle":     {"bike", "bikes", "bicycle", "bicycles"},
		"motorbike":   {"motorcycle", "motorcycles", "motorbike", "dirtbike"},
		"horse":       {"horse", "horses", "pony"},
		"car":         {"car", "cars", "jeep", "van", "suv"},
		"bus":         {"bus", "buses"},
		"cat":         {"cat", "cats", "kitten"},
		"bird":        {"bird", "birds", "duck", "ducks", "seagull", "pigeon", "pigeons", "chicken", "goose"},
		"boat":        {"boat", "boats", "kayak", "canoe", "raft", "sailboat"},
		"sheep":       {"sheep", "lamb"},
		"cow":         {"cow", "cows", "cattle", "bull", "calf"},
		"aeroplane":   {"airplane", "plane", "jet"},
		"train":       {"train"},
		"chair":       {"chair", "chairs"},
		"sofa":        {"couch", "sofa"},
		"diningtable": {"table"},
		"bottle":      {"bottle", "bottles"},
		"tvmonitor":   {"television", "tv"},
	} {
		for _, w := range words {
			classWords[w] = class
		}
	}
}

// MinObjectArea is the least share of a photo that an object must cover
// for a word naming it to be scored or supervised: below it, a class map
// holds stray pixels rather than an object.
const MinObjectArea = 0.01

// ObjectClasses are the PASCAL VOC classes, index = class id (0 is the
// background), as a Segmenter numbers them.
var ObjectClasses = [...]string{
	"background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus",
	"car", "cat", "chair", "cow", "diningtable", "dog", "horse", "motorbike",
	"person", "pottedplant", "sheep", "sofa", "train", "tvmonitor",
}

// ObjectClassID is the id of a class name, or -1.
func ObjectClassID(name string) int {
	for i, c := range ObjectClasses {
		if c == name {
			return i
		}
	}
	return -1
}

// ObjectClass is the PASCAL VOC class a caption word names, or "".
func ObjectClass(word string) string { return classWords[word] }

// RegionShares is, for a class map (w x h class ids, row-major) laid over a
// rows x cols region grid, the share of each region's pixels (R) that are
// of class id, and the share of the whole map (the class's area).
func RegionShares(classes []uint8, w, h, rows, cols int, id uint8) (shares []float32, area float64) {
	shares = make([]float32, rows*cols)
	counts := make([]int, rows*cols)
	var hit int
	for y := 0; y < h; y++ {
		r := y * rows / h
		for x := 0; x < w; x++ {
			i := r*cols + x*cols/w
			counts[i]++
			if classes[y*w+x] == id {
				shares[i]++
				hit++
			}
		}
	}
	for i, n := range counts {
		if n > 0 {
			shares[i] /= float32(n)
		}
	}
	return shares, float64(hit) / float64(max(w*h, 1))
}

// NamedObject finds the object a caption word names in a class map (w x h
// class ids, row-major) laid over a rows x cols region grid: its class, each
// region's share of it, and its area. ok is false when the word names no
// PASCAL VOC class or the map holds less than MinObjectArea of it.
func NamedObject(word string, classes []uint8, w, h, rows, cols int) (class string, shares []float32, area float64, ok bool) {
	class = ObjectClass(word)
	id := ObjectClassID(class)
	if id <= 0 {
		return "", nil, 0, false
	}
	shares, area = RegionShares(classes, w, h, rows, cols, uint8(id))
	return class, shares, area, area >= MinObjectArea
}

// Look is where one word's attention fell relative to the object it names.
type Look struct {
	// Mass is the attention on the object's pixels (Σ_i α_i s_i, the
	// attention of each region spread evenly over its pixels); Area is
	// what uniform attention would put there.
	Mass, Area float64
	// Pointed: the most attended region is mostly the object (share at
	// least one half), or is the region where the object's share is
	// largest.
	Pointed bool
}

// LookAt scores attention att (R) against the object's region shares (R).
func LookAt(att, shares []float32, area float64) Look {
	var mass float64
	top, best := 0, 0
	for i, a := range att {
		mass += float64(a) * float64(shares[i])
		if a > att[top] {
			top = i
		}
		if shares[i] > shares[best] {
			best = i
		}
	}
	return Look{Mass: mass, Area: area, Pointed: shares[top] >= 0.5 || shares[top] == shares[best]}
}
