// Package model holds what captioning and translation have in common: a
// source that attention ranges over, and a stream of decoding steps.
//
// Everything outside model/ sees a model only through these types.
package model

import (
	"context"
	"errors"
	"image"
	"iter"
)

// Kinds of bad input a model reports in an InputError: the server maps
// each kind to a response once, without knowing the model.
var (
	ErrInvalidInput = errors.New("invalid input")
	ErrInputTooLong = errors.New("input too long")
)

// InputError is bad input of a Kind (ErrInvalidInput, ErrInputTooLong);
// its message is for the user and says what to do.
type InputError struct {
	Kind error
	Msg  string
}

func (e *InputError) Error() string { return e.Msg }
func (e *InputError) Unwrap() error { return e.Kind }

// Source is what a model attends to: a list of tokens (text) or a grid of
// Rows x Cols image regions.
type Source struct {
	Kind    string   `json:"kind"`              // "text" or "image"
	Tokens  []string `json:"tokens,omitempty"`  // text: the source words, in order
	Unknown []bool   `json:"unknown,omitempty"` // text: true where a word is outside the vocabulary
	Rows    int      `json:"rows,omitempty"`    // image: region grid height
	Cols    int      `json:"cols,omitempty"`    // image: region grid width
}

// Len is the number of positions attention ranges over.
func (s Source) Len() int {
	if s.Kind == "image" {
		return s.Rows * s.Cols
	}
	return len(s.Tokens)
}

// Alt is one candidate word at a step, with its probability.
type Alt struct {
	Token string  `json:"token"`
	ID    int     `json:"id"` // its vocabulary id, to force it (Options.Force)
	Prob  float32 `json:"prob"`
}

// Step is one decoded word.
type Step struct {
	Index   int     `json:"index"`
	TokenID int     `json:"token_id"`
	Token   string  `json:"token"`
	Prob    float32 `json:"prob"`
	Unknown bool    `json:"unknown,omitempty"` // the model wrote its unknown-word token
	Copied  bool    `json:"copied,omitempty"`  // Token is the source word copied through the attention (for <unk> or a number)
	Forced  bool    `json:"forced,omitempty"`  // the word was imposed (Options.Force), not chosen by the model
	// CopiedFrom is the source position a Copied token came from.
	CopiedFrom int       `json:"copied_from,omitempty"`
	TopK       []Alt     `json:"top_k"`
	Attention  []float32 `json:"attention"` // one weight per source position, summing to 1
	// Entropy of the attention weights in nats; exp(Entropy) is how many
	// source positions the step looked at "effectively" (1 for one
	// position, all of them for uniform attention).
	Entropy float32 `json:"entropy"`
	// Coverage is the attention each source position has received so far,
	// this step included: the column sums of the grid up to this row.
	Coverage []float32 `json:"coverage"`
}

// Options control one decode.
type Options struct {
	Beam   int // beam width; 1 is greedy
	MaxLen int // most words to write
	TopK   int // alternatives reported per step
	// LenAlpha is the exponent of beam search's length normalisation (GNMT:
	// a finished hypothesis scores log p / ((5+n)/6)^α); larger favours
	// longer outputs. 0 means DefaultLenAlpha.
	LenAlpha float64
	// FlatAttention replaces a caption model's attention weights by
	// uniform ones: what the decoder writes when it cannot choose where
	// to look (evaluation measures how much that costs).
	FlatAttention bool
	// Force imposes the first words by vocabulary id (a step's TokenID, or
	// an alternative's ID): the decoder writes them whatever it would have
	// chosen, then goes on by itself. "What if the model had written this
	// word here?"
	Force []int
	// Override sets one step's attention by hand: "what if the model had
	// looked there?" The step reads the context made with its weights; the
	// steps after it look where they like again.
	Override *Override
	// Tree, with a beam wider than 1, receives the search as it grows:
	// after every step the hypotheses kept, then the winner.
	Tree func(TreeLevel)
	// NoUnknown never writes the unknown-word token. A caption has no
	// source word to copy in its place, so "<unk>" can only stand for a
	// word the model was not taught.
	NoUnknown bool
}

// DefaultLenAlpha is GNMT's length-normalisation exponent.
const DefaultLenAlpha = 0.6

// MaxWords is the most words a decode writes (Options.MaxLen's limit).
const MaxWords = 100

// Normalize fills defaults and clamps to safe ranges.
func (o Options) Normalize() Options {
	if o.Beam < 1 {
		o.Beam = 1
	}
	if o.Beam > MaxBeam {
		o.Beam = MaxBeam
	}
	if o.MaxLen <= 0 || o.MaxLen > MaxWords {
		o.MaxLen = MaxWords
	}
	if o.TopK <= 0 {
		o.TopK = 5
	}
	if o.TopK > 10 {
		o.TopK = 10
	}
	if o.LenAlpha <= 0 || o.LenAlpha > 3 {
		o.LenAlpha = DefaultLenAlpha
	}
	return o
}

// MaxBeam is the widest beam a caller may ask for.
const MaxBeam = 10

// Metric is one measured number in a model card.
type Metric struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	Split string  `json:"split"`
	Note  string  `json:"note,omitempty"`
}

// Info describes a servable model.
type Info struct {
	ID        string   `json:"id"`
	Kind      string   `json:"kind"` // "translation" or "caption"
	Title     string   `json:"title"`
	SrcLang   string   `json:"src_lang,omitempty"`
	TgtLang   string   `json:"tgt_lang"`
	Attention bool     `json:"attention"`
	Params    int      `json:"params"`
	Metrics   []Metric `json:"metrics"`
	// TrainedOn says what the model learned from, for the page: the kind
	// of text or photos, and how many.
	TrainedOn string `json:"trained_on,omitempty"`
}

// Translator turns text into a source and decodes it step by step.
type Translator interface {
	Info() Info
	Prepare(text string) (Prepared, error)
}

// Prepared is an encoded source, ready to decode.
type Prepared interface {
	Source() Source
	// Decode yields steps as they are made; it stops when ctx is cancelled.
	Decode(ctx context.Context, opts Options) iter.Seq2[Step, error]
}

// Captioner turns a photo into a grid of regions and decodes a caption
// about it step by step.
type Captioner interface {
	Info() Info
	// Prepare crops img, any upright photo, to the centre square the
	// model sees (photo.Square at CropSize; a photo that size already is
	// used as it is) and encodes it.
	Prepare(img image.Image) (Prepared, error)
	// CropSize is the side of the square the photo is cropped to.
	CropSize() int
}

// Vocabulary is a model whose output words can be listed: OutputWords()[id]
// is the word with that id (the ids Options.Force takes).
type Vocabulary interface {
	OutputWords() []string
}

// Segmenter finds objects in a photo: a class id per pixel (w x h,
// row-major), the ids of the PASCAL VOC classes in ObjectClasses order.
type Segmenter interface {
	Segment(img image.Image) (classes []uint8, w, h int, err error)
}
