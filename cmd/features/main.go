// Command features runs every Flickr8k image of the standard splits through
// the MobileNetV2 encoder once and caches the region features (float16) for
// caption training and evaluation.
//
//	go run ./cmd/features                     # writes runs/features/flickr8k.ckpt
package main

import (
	"flag"
	"fmt"
	_ "image/jpeg"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"attention/model/caption"
	"attention/model/checkpoint"
	"attention/model/mobilenet"
	"attention/model/photo"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "features:", err)
		os.Exit(1)
	}
}

func run() error {
	data := flag.String("data", "../shared/data", "the shared data directory")
	out := flag.String("out", filepath.Join("runs", "features", "flickr8k.ckpt"), "cache file to write")
	workers := flag.Int("workers", runtime.GOMAXPROCS(0), "images encoded at once")
	limit := flag.Int("n", 0, "encode only the first n images (0: all), for a quick check")
	side := flag.Int("side", 224, "the encoder's input side: 224 gives a 7x7 region grid, 448 a 14x14 one (the 224x224 photos are upsampled)")
	flag.Parse()

	weights, err := os.ReadFile(filepath.Join(*data, "weights", "mobilenet_v2_1.0_224_quant.tflite"))
	if err != nil {
		return err
	}
	enc, err := mobilenet.LoadAt(weights, *side)
	if err != nil {
		return err
	}
	fl, err := caption.LoadFlickr8k(filepath.Join(*data, "flickr8k"))
	if err != nil {
		return err
	}
	names := append(append(append([]string(nil), fl.Train...), fl.Dev...), fl.Test...)
	if *limit > 0 && *limit < len(names) {
		names = names[:*limit]
	}
	// Probe the grid size on the first image.
	first, err := photo.Open(filepath.Join(*data, "flickr8k", "images", names[0]), photo.DefaultLimits())
	if err != nil {
		return err
	}
	_, rows, cols, depth, err := enc.Regions(first)
	if err != nil {
		return err
	}
	n := rows * cols * depth
	feats := &caption.Features{Rows: rows, Cols: cols, Depth: depth, Data: make([]float32, len(names)*n)}
	bar := progressbar.NewOptions(len(names), progressbar.OptionSetDescription("encoding"), progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(true), progressbar.OptionThrottle(time.Second), progressbar.OptionSetWidth(30))
	start := time.Now()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	next := make(chan int)
	for w := 0; w < *workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				img, err := photo.Open(filepath.Join(*data, "flickr8k", "images", names[i]), photo.DefaultLimits())
				var f []float32
				if err == nil {
					f, _, _, _, err = enc.Regions(img)
				}
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = fmt.Errorf("%s: %w", names[i], err)
				}
				mu.Unlock()
				copy(feats.Data[i*n:(i+1)*n], f)
				bar.Add(1)
			}
		}()
	}
	for i := range names {
		next <- i
	}
	close(next)
	wg.Wait()
	bar.Finish()
	if firstErr != nil {
		return firstErr
	}
	if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
		return err
	}
	if err := checkpoint.Save(*out, feats.ToFile(names)); err != nil {
		return err
	}
	el := time.Since(start)
	fmt.Printf("\n%d images, %dx%dx%d features each, in %s (%.0f ms/image with %d workers): %s\n",
		len(names), rows, cols, depth, el.Round(time.Second), el.Seconds()*1000/float64(len(names)), *workers, *out)
	return nil
}
