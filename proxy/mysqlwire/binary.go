package mysqlwire

import "fmt"

// The binary protocol (COM_STMT_EXECUTE results) sends numbers and
// temporal values in fixed binary layouts. The merge code works on the
// text the text protocol would show, so binary rows are converted to that
// text on the way in (ParseBinaryRow) and back on the way out
// (AppendBinaryRow). Integers and temporals are the same value in both
// forms, and a DOUBLE or FLOAT becomes the shortest decimal that reads
// back as the very same bits. Only a float column with fixed decimals
// (DOUBLE(10,3)) is printed with those decimals, as the server prints it;
// the server's double is not always the one nearest to that decimal, so
// re-encoding can move it by an ulp (MariaDB stores -0.001 as ...aa00,
// the nearest double is ...a9fc).

// binaryNullOffset is the bit offset of a binary row's NULL bitmap: its
// first two bits are reserved.
const binaryNullOffset = 2

// ParseBinaryRow decodes a binary-protocol row (0x00 header, NULL bitmap
// with offset 2, then the non-NULL values) of len(cols) columns into
// dst[:0], each value in the text form the text protocol would show:
// integers in decimal (zero-filled to the display width for ZEROFILL
// columns, as MySQL prints them), DOUBLE and FLOAT as the shortest
// decimal that round-trips, laid out as MySQL does ("1e15", "0.00001",
// "1.5e-16"; FLOAT keeps its float32 precision where the text protocol
// rounds to 6 significant digits), fixed-decimals floats with their
// decimals, DATE "YYYY-MM-DD", DATETIME and TIMESTAMP
// "YYYY-MM-DD hh:mm:ss[.ffffff]" with the column's Decimals fractional
// digits, TIME "[-]hh:mm:ss[.ffffff]"; strings, decimals, BIT and the
// rest as sent. NULL is nil. Values alias p or a buffer allocated for
// the row; BinaryRowDecoder reuses that buffer instead.
func ParseBinaryRow(p []byte, cols []Column, dst [][]byte) ([][]byte, error) {
	dst, _, err := parseBinaryRow(p, cols, dst, nil)
	return dst, err
}

// BinaryRowDecoder is ParseBinaryRow without an allocation per row once
// its buffers have grown: a relay's hot path. A row it returns is valid
// until the next Decode (and while the packet it came from is).
type BinaryRowDecoder struct {
	Cols []Column
	row  [][]byte
	text []byte
}

// Decode parses one binary row of d.Cols.
func (d *BinaryRowDecoder) Decode(p []byte) ([][]byte, error) {
	var err error
	d.row, d.text, err = parseBinaryRow(p, d.Cols, d.row, d.text[:0])
	return d.row, err
}

func parseBinaryRow(p []byte, cols []Column, dst [][]byte, text []byte) ([][]byte, []byte, error) {
	dst = dst[:0]
	nullLen := (len(cols) + 7 + binaryNullOffset) / 8
	if len(p) < 1+nullLen || p[0] != headerOK {
		return dst, text, fmt.Errorf("%w: binary row of %d bytes for %d columns", ErrMalformed, len(p), len(cols))
	}
	nulls := p[1 : 1+nullLen]
	pos := 1 + nullLen
	for i, c := range cols {
		bit := i + binaryNullOffset
		if nulls[bit/8]&(1<<(bit%8)) != 0 {
			dst = append(dst, nil)
			continue
		}
		if c.Type == TypeNull {
			return dst, text, fmt.Errorf("%w: binary row: non-NULL value for NULL-typed column %d", ErrMalformed, i)
		}
		var v []byte
		var n int
		var err error
		if lenEncType(c.Type) {
			var null bool
			v, null, n, err = ReadLenEncString(p[pos:])
			if err == nil && null {
				err = fmt.Errorf("%w: NULL marker among the values", ErrMalformed)
			}
		} else {
			if text == nil {
				text = make([]byte, 0, 32*len(cols))
			}
			start := len(text)
			text, n, err = appendBinaryAsText(text, p[pos:], c)
			// When text grows, values already decoded keep pointing into
			// its old array, which stays alive and unchanged.
			v = text[start:len(text):len(text)]
		}
		if err != nil {
			return dst, text, fmt.Errorf("binary row column %d (%s, type 0x%02x): %w", i, c.Name, c.Type, err)
		}
		dst = append(dst, v)
		pos += n
	}
	if pos != len(p) {
		return dst, text, fmt.Errorf("%w: binary row has %d bytes after its %d values", ErrMalformed, len(p)-pos, len(cols))
	}
	return dst, text, nil
}

// AppendBinaryRow encodes a row of text-form values (nil is NULL) in the
// binary protocol for cols: the inverse of ParseBinaryRow, for rows a
// merge produced. A value that does not parse as its column's type is an
// error, and then dst is returned as it was.
func AppendBinaryRow(dst []byte, cols []Column, row [][]byte) ([]byte, error) {
	start := len(dst)
	if len(row) != len(cols) {
		return dst, fmt.Errorf("mysqlwire: binary row of %d values for %d columns", len(row), len(cols))
	}
	dst = append(dst, headerOK)
	nullAt := len(dst)
	nullLen := (len(cols) + 7 + binaryNullOffset) / 8
	for range nullLen {
		dst = append(dst, 0)
	}
	for i, c := range cols {
		v := row[i]
		if v == nil {
			bit := i + binaryNullOffset
			dst[nullAt+bit/8] |= 1 << (bit % 8)
			continue
		}
		var err error
		if lenEncType(c.Type) {
			dst = AppendLenEncString(dst, v)
		} else if dst, err = appendTextAsBinary(dst, v, c); err != nil {
			return dst[:start], fmt.Errorf("mysqlwire: column %d (%s): %w", i, c.Name, err)
		}
	}
	return dst, nil
}

// lenEncType reports whether values of type t travel as length-encoded
// strings in the binary protocol (everything but numbers and temporals).
func lenEncType(t byte) bool {
	switch t {
	case TypeTiny, TypeShort, TypeYear, TypeInt24, TypeLong, TypeLongLong,
		TypeFloat, TypeDouble, TypeNull,
		TypeDate, TypeNewDate, TypeDateTime, TypeTimestamp, TypeTime,
		TypeDateTime2, TypeTimestamp2, TypeTime2:
		return false
	}
	return true
}
