package web

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A decode that ran out of time is the server being busy, not a fault; a
// client that left is answered with nothing and logged as information.
func TestTimeoutsAndCancellations(t *testing.T) {
	var logs bytes.Buffer
	s := New(Config{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	answer := func(err error) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		c := s.echo.NewContext(httptest.NewRequest(http.MethodPost, "/api/v1/translate", nil), rec)
		s.handleError(err, c)
		return rec
	}
	rec := answer(fmt.Errorf("decoding: %w", context.DeadlineExceeded))
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), `"busy"`) {
		t.Errorf("deadline: %d %s, want 503 busy", rec.Code, rec.Body)
	}
	rec = answer(fmt.Errorf("decoding: %w", context.Canceled))
	if rec.Body.Len() != 0 {
		t.Errorf("cancelled: answered %d %s, want nothing", rec.Code, rec.Body)
	}
	if strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "request cancelled") {
		t.Errorf("log %q: want the cancellation at INFO and no ERROR", logs.String())
	}
}
