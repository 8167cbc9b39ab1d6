package mysqlwire

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
)

// notFixedDecimals: a Column.Decimals at or above it means "no fixed
// number of decimals" (MariaDB sends 31, MySQL 8 sends 39).
const notFixedDecimals = 31

// fixedSize is the wire size of the fixed-width binary types (0: not
// fixed-width).
func fixedSize(t byte) int {
	switch t {
	case TypeTiny:
		return 1
	case TypeShort, TypeYear:
		return 2
	case TypeInt24, TypeLong, TypeFloat:
		return 4
	case TypeLongLong, TypeDouble:
		return 8
	}
	return 0
}

// appendBinaryAsText converts the binary value at the start of b, of
// column c's (non-lenenc) type, to text appended to dst; n is the number
// of bytes of b it took.
func appendBinaryAsText(dst, b []byte, c Column) (_ []byte, n int, err error) {
	if size := fixedSize(c.Type); size > 0 {
		if len(b) < size {
			return dst, 0, fmt.Errorf("%w: %d-byte value, %d left", ErrMalformed, size, len(b))
		}
		return appendNumberText(dst, b[:size], c), size, nil
	}
	if len(b) == 0 {
		return dst, 0, fmt.Errorf("%w: temporal value: no length byte", ErrMalformed)
	}
	l := int(b[0])
	if len(b) < 1+l {
		return dst, 0, fmt.Errorf("%w: temporal value of %d bytes, %d left", ErrMalformed, l, len(b)-1)
	}
	v := b[1 : 1+l]
	switch c.Type {
	case TypeTime, TypeTime2:
		if l != 0 && l != 8 && l != 12 {
			return dst, 0, fmt.Errorf("%w: TIME value of %d bytes", ErrMalformed, l)
		}
		var t timeVal
		if l > 0 {
			t = timeVal{neg: v[0] == 1, days: binary.LittleEndian.Uint32(v[1:]), h: v[5], m: v[6], s: v[7]}
		}
		if l == 12 {
			t.micro = binary.LittleEndian.Uint32(v[8:])
		}
		return t.appendText(dst, c.Decimals), 1 + l, nil
	}
	if l != 0 && l != 4 && l != 7 && l != 11 {
		return dst, 0, fmt.Errorf("%w: date/time value of %d bytes", ErrMalformed, l)
	}
	var d dateTime
	if l >= 4 {
		d.year, d.month, d.day = binary.LittleEndian.Uint16(v), v[2], v[3]
	}
	if l >= 7 {
		d.h, d.m, d.s = v[4], v[5], v[6]
	}
	if l == 11 {
		d.micro = binary.LittleEndian.Uint32(v[7:])
	}
	return d.appendText(dst, c), 1 + l, nil
}

// appendNumberText converts a fixed-width number of c's type.
func appendNumberText(dst, b []byte, c Column) []byte {
	unsigned := c.Flags&FlagUnsigned != 0
	start := len(dst)
	switch c.Type {
	case TypeFloat:
		f := math.Float32frombits(binary.LittleEndian.Uint32(b))
		return appendFloat(dst, float64(f), 32, c.Decimals)
	case TypeDouble:
		f := math.Float64frombits(binary.LittleEndian.Uint64(b))
		return appendFloat(dst, f, 64, c.Decimals)
	}
	var u uint64
	var i int64
	switch len(b) {
	case 1:
		u, i = uint64(b[0]), int64(int8(b[0]))
	case 2:
		x := binary.LittleEndian.Uint16(b)
		u, i = uint64(x), int64(int16(x))
	case 4:
		x := binary.LittleEndian.Uint32(b)
		u, i = uint64(x), int64(int32(x))
	default:
		u = binary.LittleEndian.Uint64(b)
		i = int64(u)
	}
	// YEAR is unsigned whatever its flags say.
	if unsigned || c.Type == TypeYear {
		dst = strconv.AppendUint(dst, u, 10)
	} else {
		dst = strconv.AppendInt(dst, i, 10)
	}
	if c.Flags&FlagZerofill != 0 {
		dst = zeroFill(dst, start, int(c.Length))
	}
	return dst
}

// zeroFill left-pads the digits dst[start:] with zeros to width.
func zeroFill(dst []byte, start, width int) []byte {
	n := len(dst) - start
	if n >= width || width > 255 {
		return dst
	}
	pad := width - n
	dst = append(dst, make([]byte, pad)...)
	copy(dst[start+pad:], dst[start:start+n])
	for i := start; i < start+pad; i++ {
		dst[i] = '0'
	}
	return dst
}

// appendTextAsBinary encodes text v as column c's (non-lenenc) type.
func appendTextAsBinary(dst, v []byte, c Column) ([]byte, error) {
	unsigned := c.Flags&FlagUnsigned != 0 || c.Type == TypeYear
	switch c.Type {
	case TypeFloat:
		f, err := strconv.ParseFloat(string(v), 32)
		if err != nil {
			return dst, fmt.Errorf("FLOAT value %q: %w", v, err)
		}
		return binary.LittleEndian.AppendUint32(dst, math.Float32bits(float32(f))), nil
	case TypeDouble:
		f, err := strconv.ParseFloat(string(v), 64)
		if err != nil {
			return dst, fmt.Errorf("DOUBLE value %q: %w", v, err)
		}
		return binary.LittleEndian.AppendUint64(dst, math.Float64bits(f)), nil
	case TypeTime, TypeTime2:
		t, ok := parseTime(v)
		if !ok {
			return dst, fmt.Errorf("TIME value %q", v)
		}
		return t.appendBinary(dst), nil
	case TypeDate, TypeNewDate, TypeDateTime, TypeTimestamp, TypeDateTime2, TypeTimestamp2:
		d, ok := parseDateTime(v)
		if !ok {
			return dst, fmt.Errorf("date/time value %q", v)
		}
		return d.appendBinary(dst), nil
	}
	size := fixedSize(c.Type)
	if size == 0 {
		return dst, fmt.Errorf("%w: column type 0x%02x", ErrUnsupported, c.Type)
	}
	bits := size * 8
	var x uint64
	if unsigned {
		u, ok := parseUint(v)
		if !ok || bits < 64 && u>>bits != 0 {
			return dst, fmt.Errorf("unsigned %d-bit integer value %q", bits, v)
		}
		x = u
	} else {
		i, ok := parseInt(v)
		if !ok || bits < 64 && (i < -1<<(bits-1) || i >= 1<<(bits-1)) {
			return dst, fmt.Errorf("%d-bit integer value %q", bits, v)
		}
		x = uint64(i)
	}
	for k := 0; k < size; k++ {
		dst = append(dst, byte(x>>(8*k)))
	}
	return dst, nil
}

// parseUint parses decimal digits (leading zeros allowed: ZEROFILL).
func parseUint(v []byte) (uint64, bool) {
	if len(v) == 0 {
		return 0, false
	}
	var u uint64
	for _, ch := range v {
		if ch < '0' || ch > '9' {
			return 0, false
		}
		d := uint64(ch - '0')
		if u > (math.MaxUint64-d)/10 {
			return 0, false
		}
		u = u*10 + d
	}
	return u, true
}

// parseInt parses an optionally signed decimal integer.
func parseInt(v []byte) (int64, bool) {
	neg := len(v) > 0 && v[0] == '-'
	if neg || len(v) > 0 && v[0] == '+' {
		v = v[1:]
	}
	u, ok := parseUint(v)
	switch {
	case !ok:
		return 0, false
	case neg && u <= 1<<63:
		return int64(-u), true
	case !neg && u < 1<<63:
		return int64(u), true
	}
	return 0, false
}
