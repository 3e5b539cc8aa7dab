// Package templates holds the pages, as templ components with typed props.
package templates

// ModelOption is one model in the page's model picker.
type ModelOption struct {
	ID        string
	Title     string
	SrcLang   string
	TgtLang   string
	Attention bool
	Metric    Metric // its first score that is not on a dev split

	TrainedOn string // what it learned from, e.g. "photo descriptions and everyday sentences"
	// Baseline is the id of the same model trained without attention,
	// when the server has it ("" otherwise).
	Baseline string
}

// Metric is a model's score as the picker writes it: "BLEU 34.5 on
// test_2016_flickr (beam 5)".
type Metric struct {
	Name, Value, Split string
}

// TranslateProps are the translation page's inputs.
type TranslateProps struct {
	Models   []ModelOption
	MaxChars int      // longest text accepted
	Examples []string // sentences offered as one-click examples
}

// CaptionProps are the caption page's inputs.
type CaptionProps struct {
	Models      []ModelOption
	Unavailable string // why captioning is off, and what to do; "" when on
	MaxMB       int    // largest upload, in megabytes
	MaxMP       int    // most pixels, in megapixels
	Examples    []Example
	// Objects: the server can outline the object a word names (it has a
	// segmentation network); the "where is the object?" check is offered.
	Objects bool
}

// Example is a photo offered as a one-click example.
type Example struct {
	Src     string // under /static/
	Alt     string // the catalogue key of its description
	Credit  string
	Licence string
}

// JoinProps are the join page's inputs.
type JoinProps struct {
	Code    string // what was typed
	Error   string // the catalogue key of why it did not work ("" if it did or was not tried)
	Enabled bool   // the server runs classes
}
