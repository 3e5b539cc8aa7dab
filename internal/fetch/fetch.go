// Package fetch finds the image encoder's weights for a command: an
// explicit file, a cached copy, or a verified download. The model layer
// only reads bytes; getting them is the command's job.
package fetch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"

	"attention/model/mobilenet"
)

// maxWeights bounds a download: larger than any MobileNetV2 file.
const maxWeights = 64 << 20

// ErrNoWeights says the encoder is unavailable and what to do about it.
var ErrNoWeights = errors.New("the image encoder's weights are not available")

// Source says where to find the weights.
type Source struct {
	Path     string // an explicit local copy (-encoder-weights); never downloaded
	CacheDir string // where a downloaded copy is kept (default: the user cache dir)
	URL      string // default mobilenet.WeightsURL
	Client   *http.Client
	Offline  bool // do not download
}

// Fetch returns the verified weights: the explicit file, else the cached
// copy, else a download into the cache. Any copy whose SHA-256 differs
// from mobilenet.WeightsSHA256 is refused.
func Fetch(ctx context.Context, s Source) ([]byte, string, error) {
	if s.Path != "" {
		data, err := os.ReadFile(s.Path)
		if err != nil {
			return nil, "", fmt.Errorf("%w: %v", ErrNoWeights, err)
		}
		if err := verify(data); err != nil {
			return nil, "", fmt.Errorf("%s: %w", s.Path, err)
		}
		return data, s.Path, nil
	}
	dir := s.CacheDir
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return nil, "", fmt.Errorf("%w: no cache directory (%v); pass -encoder-weights PATH", ErrNoWeights, err)
		}
		dir = filepath.Join(base, "attention-made-visible")
	}
	path := filepath.Join(dir, mobilenet.WeightsFile)
	if data, err := os.ReadFile(path); err == nil {
		if verify(data) == nil {
			return data, path, nil
		}
		os.Remove(path) // a damaged copy: fetch it again
	}
	if s.Offline {
		return nil, "", fmt.Errorf("%w: not in %s and downloads are off; download %s (SHA-256 %s) and pass -encoder-weights PATH", ErrNoWeights, dir, mobilenet.WeightsURL, mobilenet.WeightsSHA256)
	}
	url := s.URL
	if url == "" {
		url = mobilenet.WeightsURL
	}
	client := s.Client
	if client == nil {
		client = http.DefaultClient
	}
	data, err := download(ctx, client, url)
	if err != nil {
		return nil, "", fmt.Errorf("%w: downloading %s: %v; download it yourself and pass -encoder-weights PATH", ErrNoWeights, url, err)
	}
	if err := verify(data); err != nil {
		return nil, "", fmt.Errorf("%w: %s: %v", ErrNoWeights, url, err)
	}
	if err := os.MkdirAll(dir, 0o755); err == nil {
		tmp := path + ".tmp"
		if os.WriteFile(tmp, data, 0o644) == nil {
			os.Rename(tmp, path)
		}
	}
	return data, path, nil
}

func download(ctx context.Context, c *http.Client, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %s", resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxWeights+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxWeights {
		return nil, errors.New("larger than any MobileNetV2 file")
	}
	return data, nil
}

func verify(data []byte) error {
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != mobilenet.WeightsSHA256 {
		return fmt.Errorf("SHA-256 is %s, want %s: refusing this file", got, mobilenet.WeightsSHA256)
	}
	return nil
}
