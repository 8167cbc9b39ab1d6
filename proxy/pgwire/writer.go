package pgwire

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"net"
	"time"

	"github.com/jackc/pgproto3/v2"
)

// Writer batching. Messages accumulate until Flush, so a whole protocol
// exchange (RowDescription, rows, CommandComplete, ReadyForQuery) costs one
// write instead of pgproto3's one syscall per message. Past flushAt bytes
// the buffer is written early so relaying a large result stays bounded in
// memory; a raw body at least that large skips the copy altogether.
const (
	flushAt       = 64 << 10
	keepWriteBuf  = 1 << 20
	initialBufCap = 4 << 10
)

// Writer encodes messages into a buffer and writes them on Flush. It is not
// safe for concurrent use. A failed write is sticky: the stream may hold
// half a message, so every later call returns the same error.
type Writer struct {
	dst    io.Writer
	buf    []byte
	err    error
	pool   *BufferPool // set: buf is borrowed per burst (UsePool)
	lent   *[]byte     // what the pool lent buf in, given back in reset
	writes uint64      // writes to dst so far (see Mark)
}

// Mark is a point in the output (see Rewind).
type Mark struct {
	writes uint64
	n      int
}

// Mark returns the current point in the output.
func (w *Writer) Mark() Mark { return Mark{w.writes, len(w.buf)} }

// Rewind drops what was buffered since m and reports true, unless some
// of it was written already (or a write failed): a statement that failed
// before any of its answer left the proxy can then be retried.
func (w *Writer) Rewind(m Mark) bool {
	if w.err != nil || w.writes != m.writes || len(w.buf) < m.n {
		return false
	}
	w.buf = w.buf[:m.n]
	return true
}

// NewWriter writes to w (normally the net.Conn).
func NewWriter(w io.Writer) *Writer {
	return &Writer{dst: w, buf: make([]byte, 0, initialBufCap)}
}

// Send appends msg's encoding. Nothing is written before Flush unless the
// buffer passes 64 KiB.
func (w *Writer) Send(msg pgproto3.Message) error {
	if w.err != nil {
		return w.err
	}
	if w.buf == nil && w.pool != nil {
		w.borrow()
	}
	n := len(w.buf)
	b, err := msg.Encode(w.buf)
	if err != nil {
		w.buf = w.buf[:n]
		return fmt.Errorf("pgwire: encode %T: %w", msg, err)
	}
	w.buf = b
	return w.maybeFlush()
}

// WriteRaw appends a message given as type and body, as ReadRaw returned
// them: rows are relayed without being decoded and encoded again.
func (w *Writer) WriteRaw(typ byte, body []byte) error {
	if w.err != nil {
		return w.err
	}
	if len(body) > math.MaxInt32-4 {
		return fmt.Errorf("%w: %s body of %d bytes", ErrTooLarge, typeName(typ), len(body))
	}
	if w.buf == nil && w.pool != nil {
		w.borrow()
	}
	if len(body) >= flushAt {
		// Large: write what is buffered, the header and the body in one
		// vectored write rather than copying the body.
		var hdr [5]byte
		hdr[0] = typ
		binary.BigEndian.PutUint32(hdr[1:], uint32(len(body)+4))
		bufs := net.Buffers{w.buf, hdr[:], body}
		_, err := bufs.WriteTo(w.dst)
		w.writes++
		w.reset()
		if err != nil {
			w.err = fmt.Errorf("pgwire: write: %w", err)
		}
		return w.err
	}
	w.buf = binary.BigEndian.AppendUint32(append(w.buf, typ), uint32(len(body)+4))
	w.buf = append(w.buf, body...)
	return w.maybeFlush()
}

// Flush writes everything buffered.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	if len(w.buf) == 0 {
		return nil
	}
	_, err := w.dst.Write(w.buf)
	w.writes++
	w.reset()
	if err != nil {
		w.err = fmt.Errorf("pgwire: write: %w", err)
	}
	return w.err
}

// borrow takes a buffer from the pool.
func (w *Writer) borrow() {
	w.lent = w.pool.getWrite()
	w.buf = *w.lent
}

// Buffered reports the bytes waiting for Flush.
func (w *Writer) Buffered() int { return len(w.buf) }

func (w *Writer) maybeFlush() error {
	if len(w.buf) < flushAt {
		return nil
	}
	return w.Flush()
}

// reset empties the buffer, dropping it if one big burst grew it, or
// giving it back to the pool.
func (w *Writer) reset() {
	if w.pool != nil {
		if w.lent != nil {
			*w.lent = w.buf // it may have grown
			w.pool.putWrite(w.lent)
		}
		w.buf, w.lent = nil, nil
		return
	}
	if cap(w.buf) > keepWriteBuf {
		w.buf = make([]byte, 0, initialBufCap)
		return
	}
	w.buf = w.buf[:0]
}

// writeDeadliner is what a net.Conn offers for ctx deadlines.
type writeDeadliner interface{ SetWriteDeadline(time.Time) error }

// writeDeadline returns the destination's SetWriteDeadline, or nil.
func (w *Writer) writeDeadline() func(time.Time) error {
	if d, ok := w.dst.(writeDeadliner); ok {
		return d.SetWriteDeadline
	}
	return nil
}
