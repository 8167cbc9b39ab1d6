package topology

import (
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"strings"
)

// ErrBadKeyRange is returned for a key range that is not in Vitess hex form.
var ErrBadKeyRange = errors.New("bad key range")

// KeyRange is a half-open interval [Start, End) of the 64-bit keyspace. The
// end of the space, 2^64, does not fit a uint64, so End == 0 stands for it:
// a range can never legitimately end at 0.
type KeyRange struct {
	Start uint64
	End   uint64 // exclusive; 0 means "to the end of the keyspace"
}

// FullRange is the whole keyspace, written "-".
var FullRange = KeyRange{}

// ParseKeyRange reads the Vitess form: "-80", "80-c0", "c0-", "-" or "".
// Each bound is a big-endian hex prefix of the 8-byte keyspace id, so "80",
// "8000" and "8000000000000000" are the same bound.
func ParseKeyRange(s string) (KeyRange, error) {
	if s == "" || s == "-" {
		return FullRange, nil
	}
	lo, hi, ok := strings.Cut(s, "-")
	if !ok {
		return KeyRange{}, fmt.Errorf("%w %q: want START-END in hex, e.g. -80, 80-c0, c0- or -", ErrBadKeyRange, s)
	}
	var r KeyRange
	var err error
	if r.Start, err = parseBound(lo); err != nil {
		return KeyRange{}, fmt.Errorf("%w %q: start: %v", ErrBadKeyRange, s, err)
	}
	if r.End, err = parseBound(hi); err != nil {
		return KeyRange{}, fmt.Errorf("%w %q: end: %v", ErrBadKeyRange, s, err)
	}
	if hi != "" && r.End == 0 {
		return KeyRange{}, fmt.Errorf("%w %q: end 0 would make an empty range", ErrBadKeyRange, s)
	}
	if r.End != 0 && r.Start >= r.End {
		return KeyRange{}, fmt.Errorf("%w %q: start is not below end", ErrBadKeyRange, s)
	}
	return r, nil
}

func parseBound(h string) (uint64, error) {
	if h == "" {
		return 0, nil
	}
	if len(h) > 16 {
		return 0, fmt.Errorf("%q has more than 16 hex digits", h)
	}
	v, err := strconv.ParseUint(h, 16, 64)
	if err != nil || strings.ContainsAny(h, "+-xX_") {
		return 0, fmt.Errorf("%q is not hex", h)
	}
	return v << (4 * (16 - len(h))), nil
}

// Contains reports whether the keyspace id falls in the range.
func (r KeyRange) Contains(id uint64) bool {
	return id >= r.Start && (r.End == 0 || id < r.End)
}

// Unbounded reports whether the range runs to the end of the keyspace.
func (r KeyRange) Unbounded() bool { return r.End == 0 }

// String gives the canonical Vitess form with trailing zero bytes trimmed,
// so "8000-" and "80-" print alike and compare equal as shard names.
func (r KeyRange) String() string {
	return formatBound(r.Start) + "-" + formatBound(r.End)
}

func formatBound(v uint64) string {
	if v == 0 {
		return ""
	}
	s := fmt.Sprintf("%016x", v)
	for strings.HasSuffix(s, "00") {
		s = s[:len(s)-2]
	}
	return s
}

// CanonicalKeyRange rewrites a key range string to its canonical form, for
// comparing names written by hand (hints, unsharded_shard).
func CanonicalKeyRange(s string) (string, error) {
	r, err := ParseKeyRange(s)
	if err != nil {
		return "", err
	}
	return r.String(), nil
}

// EvenRanges splits the keyspace into n ranges of (nearly) equal size, in
// order: EvenRanges(2) is -80, 80-; EvenRanges(4) is -40, 40-80, 80-c0, c0-.
func EvenRanges(n int) []KeyRange {
	if n < 1 {
		return nil
	}
	out := make([]KeyRange, n)
	for i := range n {
		out[i] = KeyRange{Start: evenBound(i, n), End: evenBound(i+1, n)}
	}
	return out
}

// evenBound is i/n of 2^64, with n/n wrapping to 0 (the end of the space).
func evenBound(i, n int) uint64 {
	if i == 0 || i == n {
		return 0
	}
	hi, _ := bits.Div64(uint64(i), 0, uint64(n)) // (i << 64) / n
	return hi
}
