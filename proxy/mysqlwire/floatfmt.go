package mysqlwire

import (
	"math"
	"strconv"
)

// appendFloat writes f the way MySQL and MariaDB print a DOUBLE or FLOAT
// (my_gcvt): the shortest decimal that reads back as the same float of
// bitSize bits, in fixed notation unless the decimal exponent is 15 or
// more, or below -15 ("1e15", "100000000000000", "0.000000000000001",
// "1e-16", "1.2345678901234568e17": the exponent has no '+' and no
// padding). With fixed decimals (a FLOAT(7,3) column) it is exactly that
// many decimals, as the server prints those.
//
// For DOUBLE this matches the text protocol digit for digit. For FLOAT
// the text protocol rounds to 6 significant digits (3.14159), which does
// not read back as the same float32; the shortest float32 decimal
// (3.1415927) does, so re-encoding a merged row gives the client exactly
// the bits the server sent.
func appendFloat(dst []byte, f float64, bitSize int, decimals byte) []byte {
	if decimals < notFixedDecimals {
		return strconv.AppendFloat(dst, f, 'f', int(decimals), bitSize)
	}
	if f == 0 || math.IsInf(f, 0) || math.IsNaN(f) {
		return strconv.AppendFloat(dst, f, 'g', -1, bitSize)
	}
	// 'e' with the shortest precision gives "-d.ddde±xx": take the digits
	// and the exponent from it and lay them out again.
	var buf [32]byte
	e := strconv.AppendFloat(buf[:0], f, 'e', -1, bitSize)
	neg := e[0] == '-'
	if neg {
		e = e[1:]
	}
	var digits [24]byte
	nd := 0
	i := 0
	for ; i < len(e) && e[i] != 'e'; i++ {
		if e[i] != '.' {
			digits[nd] = e[i]
			nd++
		}
	}
	exp := 0 // e[i+1:] is "+17" or "-07"
	for _, ch := range e[i+2:] {
		exp = exp*10 + int(ch-'0')
	}
	if e[i+1] == '-' {
		exp = -exp
	}
	if neg {
		dst = append(dst, '-')
	}
	switch {
	case exp >= 15 || exp < -15:
		dst = append(dst, digits[0])
		if nd > 1 {
			dst = append(dst, '.')
			dst = append(dst, digits[1:nd]...)
		}
		dst = append(dst, 'e')
		return strconv.AppendInt(dst, int64(exp), 10)
	case exp < 0:
		dst = append(dst, '0', '.')
		for range -exp - 1 {
			dst = append(dst, '0')
		}
		return append(dst, digits[:nd]...)
	case nd <= exp+1:
		dst = append(dst, digits[:nd]...)
		for range exp + 1 - nd {
			dst = append(dst, '0')
		}
		return dst
	}
	dst = append(dst, digits[:exp+1]...)
	dst = append(dst, '.')
	return append(dst, digits[exp+1:nd]...)
}
