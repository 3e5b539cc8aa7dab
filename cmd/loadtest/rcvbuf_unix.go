//go:build unix

package main

import "syscall"

// smallReceiveBuffer sets a socket's receive buffer before it connects, so
// the window it offers is small from the start (as on a phone on a poor
// link): a client that stops reading is found out within a few sentences.
func smallReceiveBuffer(_, _ string, c syscall.RawConn) error {
	var err error
	c.Control(func(fd uintptr) {
		err = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
	})
	return err
}
