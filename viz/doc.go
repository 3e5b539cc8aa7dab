// Package viz turns attention weights into pictures: colour maps and their
// legend, heat layers that the page stacks over a photo, photo overlays, the
// per-word strip of a caption, and alignment grids for translation.
//
// Everything here is a pure function of plain data (float32 slices, labels,
// an image.Image) so that it can be tested with golden images and reused by
// any front end; it knows nothing of HTTP or of the models.
//
// The functions are safe for concurrent use. Errors caused by bad arguments
// wrap ErrInput.
package viz
