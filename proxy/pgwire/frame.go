package pgwire

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"syscall"
	"time"
)

// Message size limits, as the length field counts them (itself included).
const (
	// DefaultMaxMessage bounds a message from a client when NewReader is
	// given no maximum.
	DefaultMaxMessage = 64 << 20
	// MaxBackendMessage is PostgreSQL's own ceiling (MaxAllocSize); a
	// server never sends more, so it is the limit BackendLogin uses:
	// refusing a legitimate 100 MB row would break the application.
	MaxBackendMessage = 0x3fffffff
	// maxAuthMessage is PostgreSQL's PG_MAX_AUTH_TOKEN_LENGTH: nobody
	// unauthenticated gets to make us buffer more than this.
	maxAuthMessage = 65535
)

// Buffer sizes. 8 KiB matches PostgreSQL's own socket buffers; a body
// buffer that grew past keepBody for one large message is dropped rather
// than kept for the life of the connection.
const (
	readBufSize = 8 << 10
	keepBody    = 1 << 20
	// growStep is the first allocation for a body whose bytes have not
	// arrived yet: memory then doubles only as data really comes in, so a
	// peer announcing 1 GiB and sending nothing costs us nothing.
	growStep = 64 << 10
)

// Phase says which message types a Reader accepts before anything is
// decoded.
type Phase uint8

const (
	// PhaseClientQuery: an authenticated client. Q P B D E C S H X d c f
	// are returned; F (FunctionCall) is skipped and reported with
	// ErrUnsupported so the stream stays in step. The default.
	PhaseClientQuery Phase = iota
	// PhaseClientAuth: a client answering an authentication request: only
	// p (and X, a client giving up), at most 64 KiB.
	PhaseClientAuth
	// PhaseBackend: a PostgreSQL server; every backend message type.
	PhaseBackend
)

// Reader reads length-prefixed messages (type byte + int32 length that
// counts itself) and refuses bad lengths and out-of-phase types before
// reading or decoding a body. It is not safe for concurrent use.
type Reader struct {
	br    *bufio.Reader
	src   io.Reader // what br reads from: its deadlines are set from a ctx
	max   int
	phase Phase
	hdr   [5]byte
	buf   []byte
	pool  *BufferPool // set: no buffer is held while waiting (UsePool)
	// The pooled buffer reads through in, which fillIdle switches to the
	// raw socket while it waits (rawread.go).
	in       rawSource
	raw      syscall.RawConn
	rawTried bool
	rawFill  func(fd uintptr) bool
	rawErr   error
}

// NewReader reads from r (wrapped in a bufio.Reader unless it is one).
// max bounds a message's length field; <= 0 means DefaultMaxMessage.
// Pass the net.Conn itself rather than a bufio.Reader over it when the
// context-aware functions (ServerAuth) must be able to set deadlines.
func NewReader(r io.Reader, max int) *Reader {
	if max <= 0 {
		max = DefaultMaxMessage
	}
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, readBufSize)
	}
	return &Reader{br: br, src: r, max: max}
}

// NextType returns the type of the next message when some of it has
// already arrived (the peer sent it with the last one), without reading
// it; ok is false when nothing is buffered.
func (r *Reader) NextType() (typ byte, ok bool) {
	if r.br == nil || r.br.Buffered() == 0 {
		return 0, false
	}
	b, err := r.br.Peek(1)
	if err != nil {
		return 0, false
	}
	return b[0], true
}

// SetPhase chooses the message types ReadRaw accepts.
func (r *Reader) SetPhase(p Phase) { r.phase = p }

// SetMax changes the maximum message length; <= 0 means DefaultMaxMessage.
func (r *Reader) SetMax(max int) {
	if max <= 0 {
		max = DefaultMaxMessage
	}
	r.max = max
}

// ReadRaw returns the next message. body aliases an internal buffer and is
// valid only until the next call. Errors: io.EOF when the peer closed
// between messages, io.ErrUnexpectedEOF inside one, ErrTooLarge and
// ErrProtocol (close the connection), ErrUnsupported for a FunctionCall
// (its body was skipped: answer with an error and carry on).
func (r *Reader) ReadRaw() (typ byte, body []byte, err error) {
	if cap(r.buf) > keepBody {
		r.buf = nil
	}
	if r.pool != nil && (r.br == nil || r.br.Buffered() == 0) {
		if err := r.idleHeader(); err != nil {
			return 0, nil, err
		}
	} else if _, err := io.ReadFull(r.br, r.hdr[:]); err != nil {
		return 0, nil, err // io.EOF: clean close; io.ErrUnexpectedEOF: torn header
	}
	typ = r.hdr[0]
	length := int64(int32(binary.BigEndian.Uint32(r.hdr[1:])))
	allowed, known := r.allowed(typ)
	if !known {
		return typ, nil, fmt.Errorf("%w: unexpected message type %s", ErrProtocol, typeName(typ))
	}
	if length < 4 {
		return typ, nil, fmt.Errorf("%w: message %s has invalid length %d", ErrProtocol, typeName(typ), length)
	}
	limit := int64(r.max)
	if r.phase == PhaseClientAuth {
		limit = min(limit, maxAuthMessage)
	}
	if length > limit {
		return typ, nil, fmt.Errorf("%w: message %s is %d bytes, limit %d", ErrTooLarge, typeName(typ), length, limit)
	}
	n := int(length - 4)
	if !allowed {
		// Known but refused (FunctionCall): skip it so the caller can
		// answer with an error and keep the session.
		if _, err := r.br.Discard(n); err != nil {
			return typ, nil, eofInside(err)
		}
		return typ, nil, fmt.Errorf("%w: %s messages", ErrUnsupported, typeName(typ))
	}
	body, err = r.readBody(n)
	if err != nil {
		return typ, nil, err
	}
	return typ, body, nil
}

// readBody reads n bytes into the reusable buffer, growing it only as the
// bytes arrive (see growStep).
func (r *Reader) readBody(n int) ([]byte, error) {
	if n <= cap(r.buf) {
		b := r.buf[:n]
		if _, err := io.ReadFull(r.br, b); err != nil {
			return nil, eofInside(err)
		}
		return b, nil
	}
	b := r.buf[:0]
	for len(b) < n {
		chunk := min(n-len(b), max(len(b), growStep))
		b = slices.Grow(b, chunk)
		m, err := io.ReadFull(r.br, b[len(b):len(b)+chunk])
		b = b[:len(b)+m]
		if err != nil {
			r.buf = b[:0]
			return nil, eofInside(err)
		}
	}
	r.buf = b[:0]
	return b, nil
}

// eofInside reports a close in the middle of a message as such.
func eofInside(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// allowed says whether typ may be returned in the current phase (allowed)
// and whether it is a message type of this direction at all (known).
func (r *Reader) allowed(typ byte) (allowed, known bool) {
	switch r.phase {
	case PhaseClientAuth:
		ok := typ == 'p' || typ == 'X'
		return ok, ok
	case PhaseBackend:
		ok := isBackendType(typ)
		return ok, ok
	default:
		switch typ {
		case 'Q', 'P', 'B', 'D', 'E', 'C', 'S', 'H', 'X', 'd', 'c', 'f':
			return true, true
		case 'F':
			return false, true
		}
		return false, false
	}
}

// isBackendType lists what a PostgreSQL 3.0 server sends.
func isBackendType(typ byte) bool {
	switch typ {
	case '1', '2', '3', 'A', 'c', 'C', 'd', 'D', 'E', 'G', 'H', 'I', 'K',
		'n', 'N', 'R', 's', 'S', 't', 'T', 'v', 'V', 'W', 'Z':
		return true
	}
	return false
}

// typeName prints a type byte readably even when it is not printable.
func typeName(typ byte) string {
	if typ >= 0x20 && typ < 0x7f {
		return fmt.Sprintf("'%c'", typ)
	}
	return fmt.Sprintf("0x%02x", typ)
}

// readDeadliner is what a net.Conn offers for ctx deadlines.
type readDeadliner interface{ SetReadDeadline(time.Time) error }

// readDeadline returns the source's SetReadDeadline, or nil.
func (r *Reader) readDeadline() func(time.Time) error {
	if d, ok := r.src.(readDeadliner); ok {
		return d.SetReadDeadline
	}
	return nil
}
