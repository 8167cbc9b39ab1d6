package merge

import (
	"math"
	"strconv"
)

// FormatFloat appends the text of a float result (SUM or AVG over Float
// or Float32 columns); bitSize is 32 for Float32 sums, else 64.
type FormatFloat func(dst []byte, f float64, bitSize int) []byte

// PostgresFloat prints floats as PostgreSQL 12+ does with the default
// extra_float_digits = 1: the shortest text that reads back exactly, in
// exponent form when the decimal exponent is below -4 or at least 15
// (float8) / 6 (float4), and NaN, Infinity, -Infinity.
//
// MySQL prints differently (1e15 and 1e20 without "+", 0.00001 in plain
// form): the MySQL proxy passes its own FormatFloat in Options.
func PostgresFloat(dst []byte, f float64, bitSize int) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	case math.IsInf(f, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(f, -1):
		return append(dst, "-Infinity"...)
	}
	if f == 0 {
		if math.Signbit(f) {
			return append(dst, "-0"...)
		}
		return append(dst, '0')
	}
	limit := 15 // DBL_DIG
	if bitSize == 32 {
		limit = 6 // FLT_DIG
	}
	if f < 0 {
		dst = append(dst, '-')
		f = -f
	}
	d, e := ryuShortest(f, bitSize)
	var buf [20]byte
	ds := strconv.AppendUint(buf[:0], d, 10)
	n := len(ds)
	switch x := e + n - 1; { // the exponent of the first digit
	case x < -4 || x >= limit:
		dst = append(dst, ds[0])
		if n > 1 {
			dst = append(append(dst, '.'), ds[1:]...)
		}
		dst = append(dst, 'e')
		if x < 0 {
			dst, x = append(dst, '-'), -x
		} else {
			dst = append(dst, '+')
		}
		if x < 10 {
			dst = append(dst, '0')
		}
		return strconv.AppendInt(dst, int64(x), 10)
	case e >= 0:
		dst = append(dst, ds...)
		for range e {
			dst = append(dst, '0')
		}
		return dst
	case n+e > 0:
		dst = append(dst, ds[:n+e]...)
		return append(append(dst, '.'), ds[n+e:]...)
	default:
		dst = append(dst, '0', '.')
		for range -(n + e) {
			dst = append(dst, '0')
		}
		return append(dst, ds...)
	}
}
