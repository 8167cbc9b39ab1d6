//go:build !unix

package netcheck

import "net"

// Gone cannot peek on this platform: it reports false.
func Gone(net.Conn) bool { return false }

// Dead cannot peek on this platform: it reports false.
func Dead(net.Conn) bool { return false }
