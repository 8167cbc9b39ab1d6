package mysqlwire

import "fmt"

// ParseTextRow decodes a text-protocol row of ncols values into dst[:0]
// (reused: no allocation once it has grown to ncols). A NULL value is a
// nil element; a non-NULL empty value is empty and non-nil. Values alias
// p. A row with more or fewer values than ncols is malformed.
//
// It takes ncols rather than trusting len(dst) so a reused dst from a
// wider result set cannot silently change the column count.
func ParseTextRow(p []byte, ncols int, dst [][]byte) ([][]byte, error) {
	dst = dst[:0]
	pos := 0
	for i := 0; i < ncols; i++ {
		if pos >= len(p) {
			return dst, fmt.Errorf("%w: text row has %d values, want %d", ErrMalformed, i, ncols)
		}
		if p[pos] == 0xfb {
			dst = append(dst, nil)
			pos++
			continue
		}
		s, _, n, err := ReadLenEncString(p[pos:])
		if err != nil {
			return dst, fmt.Errorf("text row value %d: %w", i, err)
		}
		dst = append(dst, s)
		pos += n
	}
	if pos != len(p) {
		return dst, fmt.Errorf("%w: text row has %d bytes after its %d values", ErrMalformed, len(p)-pos, ncols)
	}
	return dst, nil
}

// AppendTextRow appends a text-protocol row: nil elements as NULL.
func AppendTextRow(dst []byte, row [][]byte) []byte {
	for _, v := range row {
		if v == nil {
			dst = append(dst, 0xfb)
			continue
		}
		dst = AppendLenEncString(dst, v)
	}
	return dst
}
