// Command web serves the app: go run ./cmd/web [-addr :8080].
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"attention/model"
	"attention/model/trained"
	"attention/web"
)

func main() {
	m := &Main{}
	flag.StringVar(&m.Addr, "addr", ":8080", "address to listen on")
	flag.StringVar(&m.ModelDir, "model-dir", "", "load translation models (*.ckpt) from this directory instead of the embedded ones")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := m.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "web:", err)
		os.Exit(1)
	}
	slog.Info("listening", "addr", m.URL())
	<-ctx.Done()
	if err := m.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "web: shutdown:", err)
		os.Exit(1)
	}
}

// Main is the running program, so tests can start the real server on :0.
type Main struct {
	Addr     string
	ModelDir string
	Logger   *slog.Logger

	ln  net.Listener
	srv *http.Server
}

// Run loads the models and starts serving; it returns once listening.
func (m *Main) Run(ctx context.Context) error {
	if m.Logger == nil {
		m.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	models, err := trained.Translators(m.ModelDir)
	if err != nil {
		return err
	}
	var ts []model.Translator
	for _, t := range models {
		ts = append(ts, t)
	}
	if len(ts) == 0 {
		m.Logger.Warn("no translation models found", "dir", m.ModelDir)
	}
	handler := web.New(web.Config{Translators: ts, Logger: m.Logger})
	m.ln, err = net.Listen("tcp", m.Addr)
	if err != nil {
		return err
	}
	m.srv = &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    32 << 10,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	go func() {
		if err := m.srv.Serve(m.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.Logger.Error("serve", "err", err)
		}
	}()
	return nil
}

// URL is the address the server listens on.
func (m *Main) URL() string { return "http://" + m.ln.Addr().String() }

// Close stops the server, letting requests in flight finish for a while.
func (m *Main) Close() error {
	if m.srv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return m.srv.Shutdown(ctx)
}
