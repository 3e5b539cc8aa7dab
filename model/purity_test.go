package model_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The model layer computes: it reads bytes it is given and never serves,
// fetches or knows the web layer. No file under model/ (tests aside)
// imports net/http, echo, websockets, templates or the packages above it,
// and only model/train imports the training graph library.
func TestModelImportsStayPure(t *testing.T) {
	checked := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		checked++
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if strings.HasPrefix(p, "net/http") || strings.Contains(p, "labstack/echo") || strings.Contains(p, "gorilla/websocket") ||
				strings.Contains(p, "a-h/templ") || strings.HasPrefix(p, "attention/web") || strings.HasPrefix(p, "attention/cmd") ||
				strings.HasPrefix(p, "attention/templates") || p == "attention/internal/fetch" {
				t.Errorf("%s imports %s", path, p)
			}
			// Training's graph library and progress bar stay in model/train,
			// so that serving (which never imports it) does not link them.
			training := strings.HasPrefix(p, "gorgonia.org/") || strings.HasPrefix(p, "gonum.org/v1/gonum/lapack") ||
				strings.Contains(p, "schollz/progressbar")
			if training && !strings.HasPrefix(filepath.ToSlash(path), "train/") {
				t.Errorf("%s imports %s: training code belongs in model/train", path, p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 20 {
		t.Fatalf("checked only %d files: is the test running in model/?", checked)
	}
}
