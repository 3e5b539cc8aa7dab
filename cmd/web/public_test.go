package main

import (
	"slices"
	"strings"
	"testing"
)

func TestPublicURL(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{"", "", ""},
		{"http://192.168.1.20:8080", "http://192.168.1.20:8080", ""},
		{"https://attention.example/", "https://attention.example", ""},
		{"192.168.1.20:8080", "", "http or https"},
		{"ftp://example.org", "", "http or https"},
		{"http://example.org/app", "", "no path"},
		{"http://", "", "a host"},
	} {
		got, err := publicURL(tc.in)
		if got != tc.want || (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("publicURL(%q) = %q, %v; want %q, an error saying %q", tc.in, got, err, tc.want, tc.err)
		}
	}
	m := &Main{Addr: ":8080", PublicURL: "http://attention.example:8080"}
	if hosts := m.allowedHosts(); !slices.Contains(hosts, "attention.example") {
		t.Errorf("allowed hosts %v leave out -public-url's host", hosts)
	}
}
