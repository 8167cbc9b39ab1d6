package mysqlwire

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
)

// DefaultMaxPacket is Conn.MaxPacket when NewConn returns: MySQL's own
// default max_allowed_packet.
const DefaultMaxPacket = 64 << 20

// Buffer sizes. 16 KiB holds the typical command, row and result packet,
// so those are returned straight from the read buffer without a copy. A
// payload that needed a larger reassembly buffer than keepBuf does not
// keep it for the life of the connection.
const (
	bufSize = 16 << 10
	keepBuf = 1 << 20
	// growStep is the first allocation for a payload that does not fit the
	// read buffer: memory then doubles only as bytes really arrive, so a
	// header announcing 16 MiB followed by nothing costs nothing.
	growStep = 64 << 10
)

// Conn frames MySQL packets over a net.Conn with buffered reads and writes
// and tracks the sequence id. It is not safe for concurrent use.
type Conn struct {
	// MaxPacket bounds a logical payload (all its physical packets) that
	// ReadPacket accepts; <= 0 means DefaultMaxPacket.
	MaxPacket int

	nc      net.Conn
	br      *bufio.Reader
	bw      *bufio.Writer
	out     countingWriter // what bw writes to: nc, counting writes (Mark)
	seq     uint8          // sequence id of the next packet written
	pending int            // bytes of the last payload still in br (returned by Peek)
	buf     []byte         // reassembly buffer for payloads larger than br
	hdr     [4]byte
}

// NewConn wraps nc. Nothing is read or written yet.
func NewConn(nc net.Conn) *Conn {
	c := &Conn{
		MaxPacket: DefaultMaxPacket,
		nc:        nc,
		br:        bufio.NewReaderSize(nc, bufSize),
	}
	c.out.w = nc
	c.bw = bufio.NewWriterSize(&c.out, bufSize)
	return c
}

// countingWriter counts the writes that reach the network.
type countingWriter struct {
	w      io.Writer
	writes uint64
}

func (cw *countingWriter) Write(p []byte) (int, error) {
	cw.writes++
	return cw.w.Write(p)
}

// Mark is a point in the output (see Rewind).
type Mark struct {
	writes   uint64
	buffered int
	seq      uint8
}

// Mark returns the current point in the output.
func (c *Conn) Mark() Mark { return Mark{c.out.writes, c.bw.Buffered(), c.seq} }

// Rewind drops the packets written since m and reports true, when none
// of them reached the network yet and nothing was buffered at m: a
// statement that failed before any of its answer left the proxy can then
// be answered anew (a retry elsewhere).
func (c *Conn) Rewind(m Mark) bool {
	if m.buffered != 0 || c.out.writes != m.writes {
		return false
	}
	c.bw.Reset(&c.out)
	c.seq = m.seq
	return true
}

// NetConn is the connection packets travel on (a *tls.Conn after a TLS
// handshake): for deadlines and addresses.
func (c *Conn) NetConn() net.Conn { return c.nc }

// ReadPacket returns the next payload; a payload split over several
// physical packets (0xffffff bytes each) is reassembled. The slice is
// valid until the next ReadPacket. The next WritePacket uses the received
// sequence id + 1, which is what a reply must carry.
//
// Errors: io.EOF when the peer closed between packets,
// io.ErrUnexpectedEOF inside one, ErrTooLarge beyond MaxPacket and
// ErrProtocol for a continuation packet out of sequence; after any error
// the stream is out of step and the connection must be closed.
func (c *Conn) ReadPacket() ([]byte, error) {
	if c.pending > 0 {
		// Peek guaranteed these bytes are buffered: Discard cannot fail.
		_, _ = c.br.Discard(c.pending)
		c.pending = 0
	}
	if cap(c.buf) > keepBuf {
		c.buf = nil
	}
	n, seq, err := c.readHeader()
	if err != nil {
		return nil, err
	}
	c.seq = seq + 1
	limit := c.MaxPacket
	if limit <= 0 {
		limit = DefaultMaxPacket
	}
	if n > limit {
		return nil, fmt.Errorf("%w: payload of %d bytes, limit %d", ErrTooLarge, n, limit)
	}
	if n < maxPayload && n <= c.br.Size() {
		// The common case: hand out the bytes in the read buffer itself.
		p, err := c.br.Peek(n)
		if err != nil {
			return nil, eofInside(err)
		}
		c.pending = n
		return p, nil
	}
	p, err := c.readInto(c.buf[:0], n)
	for err == nil && n == maxPayload {
		// A payload of exactly 0xffffff bytes continues in the next
		// packet, possibly an empty one.
		var s uint8
		if n, s, err = c.readHeader(); err != nil {
			break
		}
		if s != c.seq {
			err = fmt.Errorf("%w: continuation packet has sequence %d, want %d", ErrProtocol, s, c.seq)
			break
		}
		c.seq = s + 1
		if len(p)+n > limit {
			err = fmt.Errorf("%w: payload of more than %d bytes, limit %d", ErrTooLarge, len(p)+n, limit)
			break
		}
		p, err = c.readInto(p, n)
	}
	c.buf = p[:0]
	if err != nil {
		return nil, err
	}
	return p, nil
}

// readHeader reads a packet header: payload length and sequence id.
func (c *Conn) readHeader() (int, uint8, error) {
	if _, err := io.ReadFull(c.br, c.hdr[:]); err != nil {
		return 0, 0, err // io.EOF: clean close between packets
	}
	n := int(c.hdr[0]) | int(c.hdr[1])<<8 | int(c.hdr[2])<<16
	return n, c.hdr[3], nil
}

// readInto appends n payload bytes to p, growing p only as they arrive
// (see growStep).
func (c *Conn) readInto(p []byte, n int) ([]byte, error) {
	end := len(p) + n
	for len(p) < end {
		chunk := min(end-len(p), max(len(p), growStep))
		p = slices.Grow(p, chunk)
		m, err := io.ReadFull(c.br, p[len(p):len(p)+chunk])
		p = p[:len(p)+m]
		if err != nil {
			return p, eofInside(err)
		}
	}
	return p, nil
}

// WritePacket buffers payload as one logical packet with the current
// sequence id, split into physical packets at 0xffffff bytes as the
// protocol requires (with an empty last packet when the length is a
// multiple of 0xffffff). It does not flush.
func (c *Conn) WritePacket(payload []byte) error {
	for {
		n := min(len(payload), maxPayload)
		c.hdr = [4]byte{byte(n), byte(n >> 8), byte(n >> 16), c.seq}
		c.seq++
		if _, err := c.bw.Write(c.hdr[:]); err != nil {
			return err
		}
		if _, err := c.bw.Write(payload[:n]); err != nil {
			return err
		}
		if n < maxPayload {
			return nil
		}
		payload = payload[n:]
	}
}

// Flush sends what WritePacket buffered.
func (c *Conn) Flush() error { return c.bw.Flush() }

// Buffered is the number of bytes buffered for writing: a relay flushes
// when it passes ~64 KiB instead of after every row.
func (c *Conn) Buffered() int { return c.bw.Buffered() }

// ResetSequence makes the next packet written carry sequence id 0, as a
// command to a server must.
func (c *Conn) ResetSequence() { c.seq = 0 }

// Sequence is the sequence id the next WritePacket uses.
func (c *Conn) Sequence() uint8 { return c.seq }

// Close closes the network connection; buffered output is dropped.
func (c *Conn) Close() error { return c.nc.Close() }

// eofInside reports a close in the middle of a packet as such.
func eofInside(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
