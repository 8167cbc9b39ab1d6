package merge

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
)

// Type says how to compare and combine one column's text values. The wire
// packages derive it from the protocol's type information; anything they
// cannot classify is Bytes.
//
// Dates, times and timestamps in ISO text (PostgreSQL's default DateStyle,
// MySQL's DATETIME) compare correctly as Bytes as long as every value of
// the column has the same shape (same UTC offset, no BC years): the
// digits run from the most to the least significant and a fraction only
// ever extends a value. Text columns compare as Bytes too, which matches
// the shards' own ORDER BY only under a bytewise collation (C, binary);
// the k-way merge notices a shard whose order disagrees (ErrUnsorted).
type Type uint8

const (
	// Bytes compares bytewise (collation-agnostic); it cannot be summed.
	Bytes Type = iota
	// Int is signed decimal integer text of any length ("-42").
	Int
	// Uint is unsigned decimal integer text of any length.
	Uint
	// Decimal is exact decimal text: "-12.50", ".5", "1e3"; PostgreSQL's
	// NaN, Infinity and -Infinity are accepted and ordered as PostgreSQL
	// orders numeric (-Infinity < numbers < Infinity < NaN).
	Decimal
	// Float is a double: decimal or exponent text, NaN, Infinity,
	// -Infinity. NaN sorts after everything else (PostgreSQL's float8).
	Float
	// Bool is t/f, true/false or 1/0 (any case); false < true.
	Bool
	// Float32 is PostgreSQL's real (float4): it compares like Float but
	// SUM adds in single precision and prints float4 digits, as the
	// server does, so 0.1 + 0.2 is "0.3" and not "0.30000001192092896".
	Float32
	// TextCI is text under a case- and accent-insensitive collation
	// (MySQL's _ci collations): values compare and group by a folded key
	// (upper case, Latin accents removed, trailing spaces ignored), so "a",
	// "A" and "á " are equal. It approximates utf8mb4_general_ci; where a
	// shard's order still disagrees, the merge reports ErrUnsorted.
	TextCI
	// Time is MySQL TIME text, [-]H+:MM:SS[.ffffff]: compared by its
	// signed length, so "-838:59:59" < "-01:00:00" < "99:00:00" <
	// "100:00:00" (byte order gets all three wrong).
	Time
	// TextLocale is text under a linguistic collation (PostgreSQL's libc
	// or ICU locales, "en_US.UTF-8"): ordered by the sort key
	// Options.Collation gives, ties broken bytewise as PostgreSQL's
	// deterministic collations do; grouped and made DISTINCT bytewise
	// (equal only when identical). Without a Collation it is Bytes. Where
	// a shard's order still disagrees, the merge reports ErrUnsorted.
	TextLocale
)

// Collation gives the sort keys of a linguistic collation: Key appends
// v's key to dst; keys compare bytewise. A Collation is used by one
// merge at a time.
type Collation interface {
	Key(dst, v []byte) []byte
}

func (t Type) String() string {
	switch t {
	case Bytes:
		return "bytes"
	case Int:
		return "int"
	case Uint:
		return "uint"
	case Decimal:
		return "decimal"
	case Float:
		return "float"
	case Bool:
		return "bool"
	case Float32:
		return "float32"
	case TextCI:
		return "text_ci"
	case Time:
		return "time"
	case TextLocale:
		return "text_locale"
	}
	return "type(" + strconv.Itoa(int(t)) + ")"
}

func (t Type) valid() bool { return t <= TextLocale }

// numeric reports whether values of t can be added (COUNT, SUM, AVG).
func (t Type) numeric() bool {
	switch t {
	case Int, Uint, Decimal, Float, Float32:
		return true
	}
	return false
}

// keyVal is one value parsed for comparison. Parsing once when a row
// arrives, and not at every comparison, keeps the heap's log(k)
// comparisons per row cheap and lets a bad value fail where it can be
// reported (Less cannot return an error).
type keyVal struct {
	null bool
	fast bool    // Int, Uint: n/u hold the value (it fitted 64 bits)
	n    int64   // Int fast path; Bool as 0/1
	u    uint64  // Uint fast path
	f    float64 // Float, Float32
	raw  []byte  // the text; compared directly for Bytes and big integers
	dec  decView // Decimal
	fold []byte  // TextCI: the folded key; TextLocale: the sort key
}

// keep makes k's own copy of what it borrows from a scratch key (the
// folded or sort key), so that k outlives the scratch's next parse.
func (k *keyVal) keep(from *keyVal) {
	own := k.fold
	*k = *from
	k.fold = append(own[:0], from.fold...)
}

// parseKey parses v as t into k (with coll for TextLocale). A nil v is
// NULL.
func parseKey(t Type, coll Collation, v []byte, k *keyVal) error {
	// Only the fields t uses are set: clearing the whole struct per row
	// is measurable in the k-way merge.
	k.raw, k.null, k.fast = v, v == nil, false
	if v == nil {
		return nil
	}
	switch t {
	case Bytes:
		return nil
	case TextCI:
		k.fold = foldCI(k.fold[:0], v)
	case TextLocale:
		if coll != nil {
			k.fold = coll.Key(k.fold[:0], v)
		} else {
			k.fold = append(k.fold[:0], v...)
		}
	case Time:
		n, ok := parseTime(v)
		if !ok {
			return badValue(t, v)
		}
		k.n = n
	case Int:
		if !validInt(v, true) {
			return badValue(t, v)
		}
		k.n, k.fast = parseInt64(v)
	case Uint:
		if !validInt(v, false) {
			return badValue(t, v)
		}
		k.u, k.fast = parseUint64(v)
	case Decimal:
		if !scanDecimal(v, &k.dec) {
			return badValue(t, v)
		}
	case Float, Float32:
		f, ok := parseFloat(v, t)
		if !ok {
			return badValue(t, v)
		}
		k.f = f
	case Bool:
		b, ok := parseBool(v)
		if !ok {
			return badValue(t, v)
		}
		k.n = 0
		if b {
			k.n = 1
		}
	default:
		return fmt.Errorf("%w: %s", ErrBadSpec, t)
	}
	return nil
}

// cmpKey orders two non-NULL values parsed as t.
func cmpKey(t Type, a, b *keyVal) int {
	switch t {
	case Int:
		if a.fast && b.fast {
			return cmpOrdered(a.n, b.n)
		}
		return cmpIntText(a.raw, b.raw)
	case Uint:
		if a.fast && b.fast {
			return cmpOrdered(a.u, b.u)
		}
		return cmpIntText(a.raw, b.raw)
	case Decimal:
		return cmpDecimal(&a.dec, &b.dec)
	case Float, Float32:
		return cmpFloat(a.f, b.f)
	case Bool, Time:
		return cmpOrdered(a.n, b.n)
	case TextCI:
		return bytes.Compare(a.fold, b.fold)
	case TextLocale:
		if c := bytes.Compare(a.fold, b.fold); c != 0 {
			return c
		}
	}
	return bytes.Compare(a.raw, b.raw)
}

// Compare orders two text values of type t: -1, 0 or +1. A nil value is
// SQL NULL: NULLs are equal to each other and greater than every value
// (PostgreSQL's default ASC NULLS LAST); callers that place NULLs
// otherwise test for nil first. A value that does not parse as t is
// ErrBadValue.
func Compare(t Type, a, b []byte) (int, error) {
	var ka, kb keyVal
	if err := parseKey(t, nil, a, &ka); err != nil {
		return 0, err
	}
	if err := parseKey(t, nil, b, &kb); err != nil {
		return 0, err
	}
	switch {
	case ka.null && kb.null:
		return 0, nil
	case ka.null:
		return 1, nil
	case kb.null:
		return -1, nil
	}
	return cmpKey(t, &ka, &kb), nil
}

func cmpOrdered[T int64 | uint64 | int](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// cmpFloat orders floats as PostgreSQL's float8 does: NaN equals NaN and
// is greater than every other value, -0 equals 0.
func cmpFloat(a, b float64) int {
	an, bn := a != a, b != b
	switch {
	case an && bn:
		return 0
	case an:
		return 1
	case bn:
		return -1
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// validInt reports whether v is decimal integer text: an optional sign
// (only '+' unless signed) and at least one digit.
func validInt(v []byte, signed bool) bool {
	if len(v) > 0 && (v[0] == '+' || (signed && v[0] == '-')) {
		v = v[1:]
	}
	if len(v) == 0 {
		return false
	}
	for _, c := range v {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// parseInt64 reads validated integer text; ok is false when it does not
// fit in an int64 (the caller falls back to text or big.Int).
func parseInt64(v []byte) (n int64, ok bool) {
	neg := false
	if v[0] == '+' || v[0] == '-' {
		neg = v[0] == '-'
		v = v[1:]
	}
	u, ok := parseUint64(v)
	switch {
	case !ok:
		return 0, false
	case neg && u <= 1<<63:
		return int64(-u), true // -u wraps to MinInt64 for 1<<63
	case !neg && u < 1<<63:
		return int64(u), true
	}
	return 0, false
}

// parseUint64 reads validated unsigned integer text.
func parseUint64(v []byte) (uint64, bool) {
	if len(v) > 0 && v[0] == '+' {
		v = v[1:]
	}
	if len(v) > 19 {
		for len(v) > 1 && v[0] == '0' {
			v = v[1:]
		}
	}
	var n uint64
	if len(v) <= 19 { // < 10^19 cannot overflow: no check per digit
		for _, c := range v {
			n = n*10 + uint64(c-'0')
		}
		return n, true
	}
	if len(v) > 20 {
		return 0, false
	}
	for _, c := range v {
		d := uint64(c - '0')
		if n > (math.MaxUint64-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}

// cmpIntText orders validated integer texts of any length without
// converting them: sign first, then the number of significant digits,
// then the digits.
func cmpIntText(a, b []byte) int {
	na, ma := splitInt(a)
	nb, mb := splitInt(b)
	sa, sb := intSign(na, ma), intSign(nb, mb)
	if sa != sb {
		return cmpOrdered(sa, sb)
	}
	c := cmpOrdered(len(ma), len(mb))
	if c == 0 {
		c = bytes.Compare(ma, mb)
	}
	if sa < 0 {
		return -c
	}
	return c
}

// splitInt returns the sign and the digits without leading zeros.
func splitInt(v []byte) (neg bool, mag []byte) {
	if len(v) > 0 && (v[0] == '+' || v[0] == '-') {
		neg = v[0] == '-'
		v = v[1:]
	}
	for len(v) > 0 && v[0] == '0' {
		v = v[1:]
	}
	return neg, v
}

func intSign(neg bool, mag []byte) int {
	switch {
	case len(mag) == 0:
		return 0
	case neg:
		return -1
	}
	return 1
}

// parseFloat reads a float as t (Float or Float32). Out-of-range text is
// accepted as the rounded value (±Inf or 0): the text is well formed.
func parseFloat(v []byte, t Type) (float64, bool) {
	bits := 64
	if t == Float32 {
		bits = 32
	}
	f, err := strconv.ParseFloat(string(v), bits)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); !ok || ne.Err != strconv.ErrRange {
			return 0, false
		}
	}
	return f, true
}

func parseBool(v []byte) (value, ok bool) {
	switch len(v) {
	case 1:
		switch v[0] {
		case 't', 'T', '1':
			return true, true
		case 'f', 'F', '0':
			return false, true
		}
	case 4:
		return true, bytes.EqualFold(v, []byte("true"))
	case 5:
		return false, bytes.EqualFold(v, []byte("false"))
	}
	return false, false
}

// badValue wraps ErrBadValue with a bounded quote of the value.
func badValue(t Type, v []byte) error {
	const max = 40
	q := v
	if len(q) > max {
		q = q[:max]
	}
	more := ""
	if len(v) > max {
		more = "..."
	}
	return fmt.Errorf("%w: %q%s is not %s text", ErrBadValue, q, more, t)
}

// parseTime reads MySQL TIME text, [-]H+:MM:SS[.ffffff], as signed
// microseconds.
func parseTime(v []byte) (int64, bool) {
	neg := len(v) > 0 && v[0] == '-'
	if neg {
		v = v[1:]
	}
	h, rest, ok1 := bytes.Cut(v, []byte{':'})
	m, rest, ok2 := bytes.Cut(rest, []byte{':'})
	sec, frac, _ := bytes.Cut(rest, []byte{'.'})
	if !ok1 || !ok2 || len(h) == 0 || len(h) > 4 || len(m) != 2 || len(sec) != 2 || len(frac) > 6 {
		return 0, false
	}
	var n int64
	for _, part := range [][]byte{h, m, sec} {
		x, ok := parseUint64(part)
		if !ok || !validInt(part, false) {
			return 0, false
		}
		n = n*60 + int64(x)
	}
	n *= 1e6
	scale := int64(1e5)
	for _, c := range frac {
		if c < '0' || c > '9' {
			return 0, false
		}
		n += int64(c-'0') * scale
		scale /= 10
	}
	if neg {
		n = -n
	}
	return n, true
}
