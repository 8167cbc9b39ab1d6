package pgwire

import (
	"errors"
	"io"
	"syscall"
)

// rawSource is what a pooled Reader's buffer reads from: the connection,
// or, while fillIdle waits for the peer, the socket itself.
type rawSource struct {
	conn io.Reader
	fd   int
	raw  bool
}

// errAgain: the socket had nothing to read (EAGAIN).
var errAgain = errors.New("pgwire: nothing to read yet")

func (s *rawSource) Read(p []byte) (int, error) {
	if !s.raw {
		return s.conn.Read(p)
	}
	return readFD(s.fd, p)
}

// fillIdle waits for the peer's next message with no buffer held, then
// fills a borrowed buffer with a single read. Reading the first byte
// alone, then the rest, would cost a system call more per message.
// ok is false when the source is not a plain socket (TLS, a test pipe):
// the caller then reads the first byte alone.
func (r *Reader) fillIdle() (ok bool, err error) {
	if !r.rawTried {
		r.rawTried = true
		if sc, isSock := r.src.(syscall.Conn); isSock && rawReads {
			r.raw, _ = sc.SyscallConn()
			r.rawFill = r.fillFrom
		}
	}
	if r.raw == nil {
		return false, nil
	}
	r.rawErr = nil
	if err := r.raw.Read(r.rawFill); err != nil {
		return true, err // a deadline passed, or the connection was closed
	}
	return true, r.rawErr
}

// fillFrom is fillIdle's attempt on the socket: false (wait until it is
// readable, then try again) when there is nothing to read yet.
func (r *Reader) fillFrom(fd uintptr) bool {
	br := r.pool.getReader(&r.in)
	r.in.fd, r.in.raw = int(fd), true
	_, err := br.Peek(1)
	r.in.raw = false
	if err != nil {
		r.pool.putReader(br)
		r.rawErr = err
		return !errors.Is(err, errAgain)
	}
	r.br, r.rawErr = br, nil
	return true
}
