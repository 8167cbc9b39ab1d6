package pgserver

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/shardgate/shardgate/router"
	"github.com/shardgate/shardgate/topology"
)

// binarySignature opens every COPY stream in binary format.
var binarySignature = []byte("PGCOPY\n\xff\r\n\x00")

// binaryTrailer ends one: a tuple with a field count of -1.
var binaryTrailer = []byte{0xff, 0xff}

// binarySplitter splits COPY data in binary format (pgx's CopyFrom sends
// it) by key: the client's header opens every shard's stream, each tuple
// (a 16-bit field count, then per field a 32-bit length, -1 for NULL,
// and the bytes) goes whole to the shard of its key field, decoded by the
// key column's type, and every shard's stream gets the trailer.
type binarySplitter struct {
	key     int
	keyOID  uint32
	keyType topology.KeyType
	db      *topology.DB
	out     [][]byte
	buf     []byte // input not yet consumed: a header or tuple cut by a message boundary
	started bool   // the header was read and copied to every shard
	ended   bool   // the trailer was read
	rows    int
}

var (
	errCopySignature = errors.New("COPY file signature not recognized")
	errCopyTruncated = errors.New("COPY data in binary format ends inside a row")
)

func (sp *binarySplitter) outputs() [][]byte { return sp.out }

func (sp *binarySplitter) feed(data []byte) error {
	if sp.ended {
		return nil // after the trailer: the server ignores what follows too
	}
	sp.buf = append(sp.buf, data...)
	pos := 0
	if !sp.started {
		n, err := sp.header(sp.buf)
		if err != nil || n == 0 {
			return err
		}
		pos, sp.started = n, true
	}
	for !sp.ended {
		n, err := sp.tuple(sp.buf[pos:])
		if err != nil {
			return err
		}
		if n == 0 {
			break
		}
		pos += n
	}
	if sp.ended {
		pos = len(sp.buf)
	}
	sp.buf = append(sp.buf[:0], sp.buf[pos:]...)
	return nil
}

// header reads the signature, flags and header extension; it returns
// their length, 0 while they are incomplete.
func (sp *binarySplitter) header(b []byte) (int, error) {
	if len(b) < len(binarySignature) {
		if !bytes.HasPrefix(binarySignature, b) {
			return 0, errCopySignature
		}
		return 0, nil
	}
	if !bytes.HasPrefix(b, binarySignature) {
		return 0, errCopySignature
	}
	const fixed = 11 + 4 + 4 // signature, flags, extension length
	if len(b) < fixed {
		return 0, nil
	}
	ext := binary.BigEndian.Uint32(b[15:19])
	if ext > 1<<20 {
		return 0, fmt.Errorf("COPY header extension of %d bytes", ext)
	}
	n := fixed + int(ext)
	if len(b) < n {
		return 0, nil
	}
	for i := range sp.out {
		sp.out[i] = append(sp.out[i], b[:n]...)
	}
	return n, nil
}

// tuple routes the tuple at the start of b; it returns its length, 0
// while it is incomplete.
func (sp *binarySplitter) tuple(b []byte) (int, error) {
	if len(b) < 2 {
		return 0, nil
	}
	fields := int16(binary.BigEndian.Uint16(b))
	if fields == -1 {
		sp.ended = true
		return 2, nil
	}
	sp.rows++
	if int(fields) <= sp.key {
		return 0, fmt.Errorf("COPY row %d: %d fields, the sharding key is field %d", sp.rows, fields, sp.key+1)
	}
	pos := 2
	var keyVal []byte
	for f := range int(fields) {
		if len(b) < pos+4 {
			return sp.incomplete()
		}
		size := int32(binary.BigEndian.Uint32(b[pos:]))
		pos += 4
		if size < -1 {
			return 0, fmt.Errorf("COPY row %d: field %d has length %d", sp.rows, f+1, size)
		}
		if size == -1 {
			if f == sp.key {
				return 0, fmt.Errorf("COPY row %d: the sharding key is NULL", sp.rows)
			}
			continue
		}
		if len(b) < pos+int(size) {
			return sp.incomplete()
		}
		if f == sp.key {
			keyVal = b[pos : pos+int(size)]
		}
		pos += int(size)
	}
	id, err := router.ParamKeyspaceID(sp.keyType, decodeParam(keyVal, 1, sp.keyOID))
	if err != nil {
		return 0, fmt.Errorf("COPY row %d: %w", sp.rows, err)
	}
	i := sp.db.ShardIndex(id)
	sp.out[i] = append(sp.out[i], b[:pos]...)
	return pos, nil
}

// incomplete: the tuple continues in the next message; it is read again
// from its start then.
func (sp *binarySplitter) incomplete() (int, error) {
	sp.rows--
	return 0, nil
}

// end closes every shard's stream with the trailer.
func (sp *binarySplitter) end() error {
	if len(sp.buf) > 0 {
		if !sp.started {
			return errCopySignature
		}
		return errCopyTruncated
	}
	if !sp.started {
		return nil // no data at all: each shard sees none either
	}
	for i := range sp.out {
		sp.out[i] = append(sp.out[i], binaryTrailer...)
	}
	return nil
}

// binaryJoin concatenates the binary COPY TO STDOUT streams of several
// shards into one valid stream: the first shard's header, every shard's
// tuples, the last shard's trailer. A shard's trailer is the last two
// bytes of its stream, so each shard but the last has its latest message
// held back until the next one (or its CopyDone) shows whether it ends
// the stream.
type binaryJoin struct {
	shards int
	head   []byte // a later shard's header, while it is incomplete
	skip   int    // header bytes of the current shard still to drop
	held   []byte // the current shard's latest data, not yet written
	shard  int    // the shard whose data is flowing
	w      func(body []byte)
}

func newBinaryJoin(shards int, write func(body []byte)) *binaryJoin {
	return &binaryJoin{shards: shards, w: write, shard: -1}
}

// data takes one CopyData body of shard i.
func (j *binaryJoin) data(i int, body []byte) error {
	if i != j.shard {
		j.shard, j.head, j.held = i, j.head[:0], j.held[:0]
		j.skip = -1 // unknown until the header's fixed part is read
		if i == 0 {
			j.skip = 0
		}
	}
	if j.skip != 0 {
		if j.skip < 0 { // a later shard: read its header to drop it
			j.head = append(j.head, body...)
			const fixed = 11 + 4 + 4
			if len(j.head) < fixed {
				return nil
			}
			if !bytes.HasPrefix(j.head, binarySignature) {
				return errCopySignature
			}
			j.skip = fixed + int(binary.BigEndian.Uint32(j.head[15:19]))
			body, j.head = j.head, nil
		}
		n := min(j.skip, len(body))
		body, j.skip = body[n:], j.skip-n
	}
	if i == j.shards-1 {
		j.w(body) // the last shard's trailer ends the joined stream
		return nil
	}
	if len(j.held) > 0 {
		j.w(j.held)
	}
	j.held = append(j.held[:0], body...)
	return nil
}

// done ends shard i's stream: its held data goes out without the trailer.
func (j *binaryJoin) done(i int) {
	if i != j.shard || i == j.shards-1 {
		return
	}
	if n := len(j.held) - len(binaryTrailer); n > 0 {
		j.w(j.held[:n])
	}
	j.held = j.held[:0]
}
