package mysqlwire

import (
	"encoding/binary"
	"fmt"
)

// ReadLenEncInt decodes a length-encoded integer at the start of b: n is
// the number of bytes it took. 0xfb is NULL (null=true, n=1); 0xff is not
// a valid first byte (it starts an ERR packet).
func ReadLenEncInt(b []byte) (v uint64, null bool, n int, err error) {
	if len(b) == 0 {
		return 0, false, 0, fmt.Errorf("%w: length-encoded integer: no bytes", ErrMalformed)
	}
	switch b[0] {
	case 0xfb:
		return 0, true, 1, nil
	case 0xfc:
		n = 3
	case 0xfd:
		n = 4
	case 0xfe:
		n = 9
	case 0xff:
		return 0, false, 0, fmt.Errorf("%w: length-encoded integer starts with 0xff", ErrMalformed)
	default:
		return uint64(b[0]), false, 1, nil
	}
	if len(b) < n {
		return 0, false, 0, fmt.Errorf("%w: length-encoded integer needs %d bytes, has %d", ErrMalformed, n, len(b))
	}
	switch n {
	case 3:
		v = uint64(binary.LittleEndian.Uint16(b[1:]))
	case 4:
		v = uint64(b[1]) | uint64(b[2])<<8 | uint64(b[3])<<16
	default:
		v = binary.LittleEndian.Uint64(b[1:])
	}
	return v, false, n, nil
}

// AppendLenEncInt appends v length-encoded, in the shortest form.
func AppendLenEncInt(dst []byte, v uint64) []byte {
	switch {
	case v < 0xfb:
		return append(dst, byte(v))
	case v <= 0xffff:
		return append(dst, 0xfc, byte(v), byte(v>>8))
	case v <= 0xffffff:
		return append(dst, 0xfd, byte(v), byte(v>>8), byte(v>>16))
	}
	dst = append(dst, 0xfe)
	return binary.LittleEndian.AppendUint64(dst, v)
}

// ReadLenEncString decodes a length-encoded string at the start of b; s
// aliases b. NULL (0xfb) gives s=nil, null=true.
func ReadLenEncString(b []byte) (s []byte, null bool, n int, err error) {
	l, null, n, err := ReadLenEncInt(b)
	if err != nil || null {
		return nil, null, n, err
	}
	if l > uint64(len(b)-n) {
		return nil, false, 0, fmt.Errorf("%w: string of %d bytes, %d left", ErrMalformed, l, len(b)-n)
	}
	end := n + int(l)
	return b[n:end:end], false, end, nil
}

// AppendLenEncString appends s with its length-encoded length.
func AppendLenEncString(dst, s []byte) []byte {
	dst = AppendLenEncInt(dst, uint64(len(s)))
	return append(dst, s...)
}

// appendLenEncStr is AppendLenEncString for a string, without a copy.
func appendLenEncStr(dst []byte, s string) []byte {
	dst = AppendLenEncInt(dst, uint64(len(s)))
	return append(dst, s...)
}

// reader walks a payload; the first failure sticks (err) and every later
// read returns zero values, so a parser checks once at the end.
type reader struct {
	b    []byte
	pos  int
	err  error
	what string // the packet being parsed, for error messages
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s: %s", ErrMalformed, r.what, fmt.Sprintf(format, args...))
	}
}

func (r *reader) left() int { return len(r.b) - r.pos }

func (r *reader) bytes(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > r.left() {
		r.fail("need %d bytes at offset %d, have %d", n, r.pos, r.left())
		return nil
	}
	s := r.b[r.pos : r.pos+n : r.pos+n]
	r.pos += n
	return s
}

func (r *reader) u8() byte {
	if b := r.bytes(1); b != nil {
		return b[0]
	}
	return 0
}

func (r *reader) u16() uint16 {
	if b := r.bytes(2); b != nil {
		return binary.LittleEndian.Uint16(b)
	}
	return 0
}

func (r *reader) u32() uint32 {
	if b := r.bytes(4); b != nil {
		return binary.LittleEndian.Uint32(b)
	}
	return 0
}

func (r *reader) lenEncInt() uint64 {
	if r.err != nil {
		return 0
	}
	v, null, n, err := ReadLenEncInt(r.b[r.pos:])
	if err != nil {
		r.fail("%v", err)
		return 0
	}
	if null {
		r.fail("NULL where an integer is required at offset %d", r.pos)
		return 0
	}
	r.pos += n
	return v
}

// lenEncString reads a length-encoded string (NULL is refused).
func (r *reader) lenEncString() []byte {
	if r.err != nil {
		return nil
	}
	s, null, n, err := ReadLenEncString(r.b[r.pos:])
	if err != nil {
		r.fail("%v", err)
		return nil
	}
	if null {
		r.fail("NULL where a string is required at offset %d", r.pos)
		return nil
	}
	r.pos += n
	return s
}

// nulString reads up to a NUL byte and skips it.
func (r *reader) nulString() []byte {
	if r.err != nil {
		return nil
	}
	for i := r.pos; i < len(r.b); i++ {
		if r.b[i] == 0 {
			s := r.b[r.pos:i:i]
			r.pos = i + 1
			return s
		}
	}
	r.fail("unterminated string at offset %d", r.pos)
	return nil
}

// rest returns everything left.
func (r *reader) rest() []byte {
	if r.err != nil {
		return nil
	}
	s := r.b[r.pos:]
	r.pos = len(r.b)
	return s
}
