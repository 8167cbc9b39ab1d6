//go:build unix

package myserver

import (
	"errors"
	"net"
	"syscall"
)

// clientGone blocks until the client socket is readable (or its read
// deadline passes) and reports whether that is because the client closed
// it. It peeks without consuming, so bytes a client sends ahead stay for
// the session to read.
func clientGone(nc net.Conn) bool {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	var gone bool
	var buf [1]byte
	err = rc.Read(func(fd uintptr) bool {
		n, _, err := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		if errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EINTR) {
			return false // not readable yet: wait
		}
		gone = err != nil || n == 0
		return true
	})
	return err == nil && gone
}
