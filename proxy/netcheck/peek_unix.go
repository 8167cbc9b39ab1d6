//go:build unix

// Package netcheck looks at a TCP socket without reading from it: has the
// peer closed it? The proxies use it to notice a client that left while
// its statement runs, and a pooled server connection that died while idle.
package netcheck

import (
	"errors"
	"net"
	"syscall"
)

// Gone blocks until the socket is readable (or its read deadline passes)
// and reports whether that is because the peer closed it. It peeks without
// consuming, so bytes a client sends ahead stay for the session to read.
func Gone(nc net.Conn) bool {
	return peek(nc, true) == closed
}

// Dead reports, without blocking, whether an idle connection's peer has
// closed it or sent something unasked (a server's goodbye error): either
// way it must not be used.
func Dead(nc net.Conn) bool {
	return peek(nc, false) != quiet
}

type state int

const (
	quiet  state = iota // nothing to read
	data                // bytes waiting
	closed              // EOF or a socket error
)

func peek(nc net.Conn, wait bool) state {
	if tc, ok := nc.(interface{ NetConn() net.Conn }); ok {
		// TLS: look at the socket under it. An idle TLS connection has no
		// record pending either, unless the peer said goodbye.
		nc = tc.NetConn()
	}
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return quiet
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return quiet
	}
	st := quiet
	var buf [1]byte
	err = rc.Read(func(fd uintptr) bool {
		n, _, err := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		switch {
		case errors.Is(err, syscall.EAGAIN), errors.Is(err, syscall.EINTR):
			return !wait // nothing yet: wait for readability, or report quiet
		case err != nil || n == 0:
			st = closed
		default:
			st = data
		}
		return true
	})
	if err != nil && wait {
		return quiet // deadline: the watch was called off
	}
	return st
}
