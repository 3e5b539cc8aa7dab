// Package testenv decides what a test does when something it needs is
// missing: skip on a newcomer's clone, fail in CI.
package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// RequireVar, when set to 1 (as .ci/run does), turns every skip for a
// missing dependency into a failure.
const RequireVar = "ATTN_REQUIRE_ALL"

func missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv(RequireVar) == "1" {
		t.Fatalf("%s=1 but: "+format, append([]any{RequireVar}, args...)...)
	}
	t.Skipf(format, args...)
}

// SharedData returns the path of ../shared/data (relative to the module
// root), or skips the test when it is absent.
func SharedData(t testing.TB) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "..", "shared", "data")
	if _, err := os.Stat(filepath.Join(dir, "README.md")); err != nil {
		missing(t, "shared data not found at %s (it sits beside the project checkout)", dir)
	}
	return dir
}

// Chromium returns the path of a Chromium binary, or skips the test.
func Chromium(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	missing(t, "no chromium on PATH (apt-get install -y chromium)")
	return ""
}

// AxeVar names the axe-core script (axe.min.js from the npm package
// axe-core) that the accessibility tests run in the browser; .ci/run
// installs it with npm and sets it.
const AxeVar = "ATTN_AXE"

// Axe returns the axe-core script, or skips the test when it is not there.
func Axe(t testing.TB) string {
	t.Helper()
	path := os.Getenv(AxeVar)
	if path == "" {
		missing(t, "%s is not set (npm install axe-core, then %s=node_modules/axe-core/axe.min.js)", AxeVar, AxeVar)
		return ""
	}
	b, err := os.ReadFile(path)
	if err != nil {
		missing(t, "axe-core: %v", err)
		return ""
	}
	return string(b)
}
