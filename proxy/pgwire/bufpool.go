package pgwire

import (
	"bufio"
	"io"
	"sync"
)

// BufferPool lends read and write buffers to the Readers and Writers of
// client connections, which spend most of their life idle: an idle
// connection then holds no buffer (a few KB each would add up over
// thousands of idle clients). Safe for concurrent use.
type BufferPool struct {
	readers sync.Pool // *bufio.Reader of readBufSize
	writes  sync.Pool // *[]byte of cap <= keepPooledWrite
}

// keepPooledWrite is the largest write buffer returned to the pool.
const keepPooledWrite = flushAt * 2

// NewBufferPool returns an empty pool.
func NewBufferPool() *BufferPool { return &BufferPool{} }

func (p *BufferPool) getReader(src io.Reader) *bufio.Reader {
	if v := p.readers.Get(); v != nil {
		br := v.(*bufio.Reader)
		br.Reset(src)
		return br
	}
	return bufio.NewReaderSize(src, readBufSize)
}

func (p *BufferPool) putReader(br *bufio.Reader) {
	br.Reset(nil) // drop the reference to the connection
	p.readers.Put(br)
}

// getWrite lends a buffer. The Writer keeps the pointer it came in and
// gives that back, so lending and returning allocate nothing.
func (p *BufferPool) getWrite() *[]byte {
	if v := p.writes.Get(); v != nil {
		bp := v.(*[]byte)
		*bp = (*bp)[:0]
		return bp
	}
	b := make([]byte, 0, initialBufCap)
	return &b
}

func (p *BufferPool) putWrite(bp *[]byte) {
	if cap(*bp) > keepPooledWrite {
		return
	}
	*bp = (*bp)[:0]
	p.writes.Put(bp)
}

// NewPooledReader is NewReader with UsePool, allocating nothing until a
// message arrives.
func NewPooledReader(src io.Reader, max int, p *BufferPool) *Reader {
	if max <= 0 {
		max = DefaultMaxMessage
	}
	return &Reader{src: src, max: max, pool: p, in: rawSource{conn: src}}
}

// NewPooledWriter is NewWriter with UsePool, allocating nothing until a
// message is sent.
func NewPooledWriter(dst io.Writer, p *BufferPool) *Writer {
	return &Writer{dst: dst, pool: p}
}

// borrow gives a pooled Reader a buffer for reads outside ReadRaw.
func (r *Reader) borrow() {
	if r.br == nil && r.pool != nil {
		r.br = r.pool.getReader(&r.in)
	}
}

// UsePool makes the Reader give its buffer back whenever it has nothing
// buffered and must wait for the peer: the wait then holds no buffer
// (see idleHeader).
func (r *Reader) UsePool(p *BufferPool) {
	r.pool = p
	r.in.conn = r.src
	if r.br != nil && r.br.Buffered() == 0 {
		r.br = nil // the one NewReader made goes to the garbage collector
	}
}

// UsePool makes the Writer borrow its buffer on the first message and give
// it back on each Flush.
func (w *Writer) UsePool(p *BufferPool) {
	w.pool = p
	if len(w.buf) == 0 {
		w.buf = nil
	}
}

// idleHeader waits for the next message with no buffer held, then
// borrows a buffer for the header and the body: on a socket it fills the
// buffer with one read once the socket is readable (fillIdle); on any
// other source it reads the first header byte alone first.
func (r *Reader) idleHeader() error {
	if r.br != nil {
		r.pool.putReader(r.br)
		r.br = nil
	}
	if cap(r.buf) > initialBufCap {
		r.buf = nil
	}
	if ok, err := r.fillIdle(); ok {
		if err != nil {
			return err // io.EOF: the peer closed between messages
		}
	} else {
		if _, err := io.ReadFull(r.src, r.hdr[:1]); err != nil {
			return err
		}
		r.br = r.pool.getReader(&r.in)
		if _, err := io.ReadFull(r.br, r.hdr[1:]); err != nil {
			return eofInside(err)
		}
		return nil
	}
	if _, err := io.ReadFull(r.br, r.hdr[:]); err != nil {
		return eofInside(err)
	}
	return nil
}
