package web_test

import (
	"testing"

	"go.uber.org/goleak"
)

// Every test must leave no server goroutine behind: sessions, decodes and
// the websocket reader and writer all end when their connection does. The
// test client's own keep-alive loops are not the server's and may outlive
// a connection the server cut short (an over-limit upload).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"))
}
