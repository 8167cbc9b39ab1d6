package merge

import (
	"encoding/binary"
	"math"
)

// appendKeyValue appends one value of type t to a composite GROUP BY or
// DISTINCT key, so that two value lists encode alike exactly when SQL
// calls them equal (each column's encodings are prefix-free): NULL equals NULL (for grouping and DISTINCT), Bytes compare by
// their bytes, and numbers by value, not spelling.
//
// Comparing numbers by value matters because the shards' text is not
// canonical per type: PostgreSQL's unconstrained numeric keeps each
// value's own scale, so one shard may return 1.0 and another 1.00 for
// what is one group on a single server; a float -0 and 0 are one group
// too. The group keeps the spelling of its first row, as a server shows
// the value of one of the rows it grouped.
//
// Bytes are not folded: "a" and "A" stay two groups; TextCI folds them
// into one, as MySQL's case-insensitive collations do.
func appendKeyValue(k []byte, t Type, v []byte) ([]byte, error) {
	if v == nil {
		return append(k, 0), nil
	}
	switch t {
	case Int, Uint:
		if !validInt(v, t == Int) {
			return k, badValue(t, v)
		}
		neg, mag := splitInt(v)
		switch {
		case len(mag) == 0:
			return append(k, 1, 0), nil // 0, -0, 000
		case neg:
			return appendBytes(append(k, 2), mag), nil
		}
		return appendBytes(append(k, 1), mag), nil
	case Decimal:
		var d decView
		if !scanDecimal(v, &d) {
			return k, badValue(t, v)
		}
		switch {
		case d.special != decFinite:
			return append(k, 2, d.special), nil
		case d.zero():
			return append(k, 3), nil
		}
		if d.neg {
			k = append(k, 5)
		} else {
			k = append(k, 4)
		}
		k = binary.AppendVarint(k, int64(d.adj))
		k = binary.AppendUvarint(k, uint64(d.trail-d.lead))
		for i := d.lead; i < d.trail; i++ {
			k = append(k, d.digit(i))
		}
		return k, nil
	case Float, Float32:
		f, ok := parseFloat(v, t)
		if !ok {
			return k, badValue(t, v)
		}
		switch {
		case f == 0:
			f = 0 // -0 groups with 0
		case f != f:
			f = math.NaN() // one NaN
		}
		return binary.BigEndian.AppendUint64(append(k, 1), math.Float64bits(f)), nil
	case Bool:
		b, ok := parseBool(v)
		if !ok {
			return k, badValue(t, v)
		}
		if b {
			return append(k, 1, 1), nil
		}
		return append(k, 1, 0), nil
	case TextCI:
		return appendBytes(append(k, 1), foldCI(nil, v)), nil
	case Time:
		n, ok := parseTime(v)
		if !ok {
			return k, badValue(t, v)
		}
		return binary.BigEndian.AppendUint64(append(k, 1), uint64(n)^1<<63), nil
	}
	return appendBytes(append(k, 1), v), nil
}

// appendBytes appends a length and the bytes, so that no concatenation
// of values is ambiguous ("ab","c" against "a","bc").
func appendBytes(k, v []byte) []byte {
	k = binary.AppendUvarint(k, uint64(len(v)))
	return append(k, v...)
}
