package fetch

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"attention/internal/testenv"
	"attention/model/mobilenet"
)

func TestFetch(t *testing.T) {
	real, err := os.ReadFile(filepath.Join(testenv.SharedData(t), "weights", mobilenet.WeightsFile))
	if err != nil {
		t.Fatal(err)
	}
	var hits atomic.Int32
	body := real
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Write(body)
	}))
	defer srv.Close()
	ctx := context.Background()
	cache := t.TempDir()

	// Downloaded once, verified, then served from the cache.
	for i := 0; i < 2; i++ {
		data, path, err := Fetch(ctx, Source{CacheDir: cache, URL: srv.URL})
		if err != nil || len(data) != len(real) || path != filepath.Join(cache, mobilenet.WeightsFile) {
			t.Fatalf("fetch %d: %d bytes at %s, %v", i, len(data), path, err)
		}
	}
	if hits.Load() != 1 {
		t.Fatalf("downloaded %d times, want once", hits.Load())
	}

	// A file with the wrong checksum is refused, downloaded or local.
	body = append([]byte("x"), real...)
	_, _, err = Fetch(ctx, Source{CacheDir: t.TempDir(), URL: srv.URL})
	if !errors.Is(err, ErrNoWeights) || !strings.Contains(err.Error(), "refusing") {
		t.Fatalf("tampered download: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "bad.tflite")
	os.WriteFile(bad, body, 0o644)
	if _, _, err := Fetch(ctx, Source{Path: bad}); err == nil || !strings.Contains(err.Error(), "refusing") {
		t.Fatalf("tampered local file: %v", err)
	}

	// Offline with nothing cached: the error says what to do.
	_, _, err = Fetch(ctx, Source{CacheDir: t.TempDir(), Offline: true})
	if !errors.Is(err, ErrNoWeights) || !strings.Contains(err.Error(), "-encoder-weights") {
		t.Fatalf("offline: %v", err)
	}
	// An explicit path is used as is.
	if _, path, err := Fetch(ctx, Source{Path: filepath.Join(testenv.SharedData(t), "weights", mobilenet.WeightsFile)}); err != nil || !strings.HasSuffix(path, mobilenet.WeightsFile) {
		t.Fatalf("explicit path: %s %v", path, err)
	}
}
