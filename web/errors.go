package web

import (
	"errors"
	"fmt"
	"net/http"
)

// Error codes. One function, status, maps them to HTTP.
const (
	EInvalid     = "invalid"
	ENotFound    = "not_found"
	ETooLarge    = "too_large"
	EUnsupported = "unsupported"
	EBusy        = "busy"
	EUnavailable = "unavailable"
	ERateLimited = "rate_limited"
	EBadMessage  = "bad_message"
	EForbidden   = "forbidden"
	EInternal    = "internal"
)

// Error is an error a user may see: a code and a plain message.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Errorf makes a user-facing error.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// status maps an error code to its HTTP status.
func status(code string) int {
	switch code {
	case EInvalid, EBadMessage:
		return http.StatusBadRequest
	case ENotFound:
		return http.StatusNotFound
	case EForbidden:
		return http.StatusForbidden
	case ETooLarge:
		return http.StatusRequestEntityTooLarge
	case EUnsupported:
		return http.StatusUnsupportedMediaType
	case EBusy, EUnavailable:
		return http.StatusServiceUnavailable
	case ERateLimited:
		return http.StatusTooManyRequests
	}
	return http.StatusInternalServerError
}

// asError turns any error into a user-facing one; internal details are
// replaced by a generic message (the caller logs the original).
func asError(err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e, true
	}
	return &Error{Code: EInternal, Message: "something went wrong on the server; it has been logged"}, false
}
