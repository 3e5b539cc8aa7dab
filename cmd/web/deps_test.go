package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// The server does not link the trainer: gorgonia, gonum's LAPACK and the
// progress bar are training's (model/train), never the serving path's.
func TestServerDoesNotLinkTraining(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go tool is needed to list the server's dependencies: %v", err)
	}
	out, err := exec.Command(goTool, "list", "-deps", "attention/cmd/web").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 50 || !slices.Contains(deps, "attention/model/translate") {
		t.Fatalf("go list printed %d packages without the models: the check would show nothing", len(deps))
	}
	for _, p := range deps {
		if strings.HasPrefix(p, "gorgonia.org/") || strings.HasPrefix(p, "gonum.org/v1/gonum/lapack") ||
			strings.Contains(p, "schollz/progressbar") || p == "attention/model/train" {
			t.Errorf("cmd/web links %s", p)
		}
	}
}
