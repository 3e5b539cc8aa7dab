//go:build !unix

package main

import "syscall"

// smallReceiveBuffer leaves the socket as it is where the buffer cannot be
// set this way.
func smallReceiveBuffer(_, _ string, _ syscall.RawConn) error { return nil }
