// Command segment runs the PASCAL VOC segmentation network over the
// Flickr8k photos once and caches their class maps, for measuring where
// caption attention lands (cmd/eval) and for training with attention
// supervision (cmd/train -sup).
//
//	go run ./cmd/segment -workers 2
package main

import (
	"flag"
	"fmt"
	_ "image/jpeg"
	"os"
	"path/filepath"
	"sync"
	"time"

	"attention/model/caption"
	"attention/model/photo"
	"attention/model/segment"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "segment:", err)
		os.Exit(1)
	}
}

// WeightsFile is the segmentation network in the shared data's weights.
const WeightsFile = "deeplabv3_mnv2_pascal_quant.tflite"

func run() error {
	var (
		data    = flag.String("data", "../shared/data", "the shared data directory")
		out     = flag.String("out", filepath.Join("runs", "seg", "flickr8k.seg"), "where to write the class maps")
		size    = flag.Int("size", 257, "the network's input side (257 or 513; 16k+1)")
		side    = flag.Int("side", 56, "side of the stored class maps (a multiple of 7 and 14)")
		workers = flag.Int("workers", 1, "photos segmented at once")
	)
	flag.Parse()
	fl, err := caption.LoadFlickr8k(filepath.Join(*data, "flickr8k"))
	if err != nil {
		return err
	}
	w, err := os.ReadFile(filepath.Join(*data, "weights", WeightsFile))
	if err != nil {
		return err
	}
	net, err := segment.LoadSize(w, *size)
	if err != nil {
		return err
	}
	names := append(append(append([]string(nil), fl.Train...), fl.Dev...), fl.Test...)
	maps := &segment.Maps{Side: *side, Of: make(map[string][]uint8, len(names))}
	var (
		mu    sync.Mutex
		wg    sync.WaitGroup
		first error
		done  int
	)
	start := time.Now()
	next := make(chan string)
	for range max(*workers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for name := range next {
				m, err := segmentFile(net, filepath.Join(*data, "flickr8k", "images", name), *side)
				mu.Lock()
				if err != nil && first == nil {
					first = fmt.Errorf("%s: %w", name, err)
				}
				maps.Of[name] = m
				done++
				if done%500 == 0 {
					fmt.Fprintf(os.Stderr, "%d/%d photos, %s\n", done, len(names), time.Since(start).Round(time.Second))
				}
				mu.Unlock()
			}
		}()
	}
	for _, n := range names {
		next <- n
	}
	close(next)
	wg.Wait()
	if first != nil {
		return first
	}
	if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
		return err
	}
	if err := maps.Save(*out); err != nil {
		return err
	}
	fmt.Printf("%d class maps (%dx%d, network input %d) in %s, %s\n", len(maps.Of), *side, *side, *size, *out, time.Since(start).Round(time.Second))
	return nil
}

func segmentFile(net *segment.Net, path string, side int) ([]uint8, error) {
	img, err := photo.Open(path, photo.DefaultLimits())
	if err != nil {
		return nil, err
	}
	classes, w, h, err := net.Segment(img)
	if err != nil {
		return nil, err
	}
	return segment.Shrink(classes, w, h, side), nil
}
