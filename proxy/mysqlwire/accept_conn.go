package mysqlwire

import (
	"fmt"
	"net"
)

// Limits on what an unauthenticated client can make the handshake read.
const (
	maxHandshakePacket = 64 << 10 // a handshake response with every attribute fits
	maxHandshakeBytes  = 1 << 20  // the whole exchange, TLS handshake included
	sslRequestLen      = 32       // go-mysql's test for an SSLRequest
)

// handshakeConn sits under go-mysql's packet.Conn during the handshake.
//
// Without TLS, go-mysql reads through a 64 KiB bufio.Reader that it keeps
// to itself: bytes it buffered past the last handshake packet (a client
// that pipelines its first command) would be lost when our Conn takes
// over. So while plaintext MySQL packets pass, Read never returns bytes
// beyond the end of the current packet, and bufio cannot over-read.
// Framing also lets it refuse a header announcing more than 64 KiB before
// go-mysql allocates the announced size (it grows its buffer to the
// header's length up front, up to 16 MiB per packet).
//
// Once a client's 32-byte SSLRequest has passed on a server that offers
// TLS, the bytes are TLS records and are passed through; go-mysql's TLS
// path reads without a bufio.Reader, and the tls.Conn it creates keeps its
// own buffer, which we go on reading from. Either way the whole exchange
// is capped at 1 MiB.
//
// RemoteAddr is the client's host without the port during the handshake:
// go-mysql puts it in "Access denied for user 'u'@'host'", where MySQL
// shows no port.
type handshakeConn struct {
	net.Conn
	framed  bool // reads stop at packet boundaries (plaintext MySQL packets)
	tlsNext bool // an SSLRequest switches to pass-through
	done    bool // the handshake is over: no limits, real RemoteAddr
	hdr     [4]byte
	nhdr    int // header bytes of the current packet read so far
	size    int // payload length of the current packet
	left    int // payload bytes of the current packet still to read
	total   int
}

func newHandshakeConn(nc net.Conn, tlsOffered bool) *handshakeConn {
	return &handshakeConn{Conn: nc, framed: true, tlsNext: tlsOffered}
}

func (h *handshakeConn) Read(p []byte) (int, error) {
	if h.done {
		return h.Conn.Read(p)
	}
	if h.total >= maxHandshakeBytes {
		return 0, fmt.Errorf("%w: handshake exceeds %d bytes", ErrTooLarge, maxHandshakeBytes)
	}
	p = p[:min(len(p), maxHandshakeBytes-h.total)]
	if h.framed {
		if h.left == 0 {
			p = p[:min(len(p), len(h.hdr)-h.nhdr)]
		} else {
			p = p[:min(len(p), h.left)]
		}
	}
	n, err := h.Conn.Read(p)
	h.total += n
	if !h.framed {
		return n, err
	}
	if h.left == 0 {
		copy(h.hdr[h.nhdr:], p[:n])
		if h.nhdr += n; h.nhdr == len(h.hdr) {
			h.nhdr = 0
			h.size = int(h.hdr[0]) | int(h.hdr[1])<<8 | int(h.hdr[2])<<16
			if h.size > maxHandshakePacket {
				return 0, fmt.Errorf("%w: handshake packet of %d bytes", ErrTooLarge, h.size)
			}
			h.left = h.size
		}
		return n, err
	}
	if h.left -= n; h.left == 0 && h.tlsNext && h.size == sslRequestLen {
		h.framed = false
	}
	return n, err
}

// RemoteAddr hides the port while the handshake runs (see the type).
func (h *handshakeConn) RemoteAddr() net.Addr {
	a := h.Conn.RemoteAddr()
	if h.done || a == nil {
		return a
	}
	if host, _, err := net.SplitHostPort(a.String()); err == nil {
		return hostAddr{network: a.Network(), host: host}
	}
	return a
}

type hostAddr struct{ network, host string }

func (a hostAddr) Network() string { return a.network }
func (a hostAddr) String() string  { return a.host }
