package merge

import (
	"fmt"

	"github.com/shardgate/shardgate/router"
)

// havingSpec is one HAVING filter of a plan: the merged column compared
// with a constant, numbers by value (so count 3 > '2.5'), plain text only
// for equality.
type havingSpec struct {
	col   int
	t     Type
	value []byte // nil: NULL
	// lt, eq, gt: whether the comparison holds when the column's value is
	// less than, equal to, greater than the constant.
	lt, eq, gt bool
}

func newHaving(h router.HavingFilter, col int, t Type) (havingSpec, error) {
	s := havingSpec{col: col, t: t}
	switch {
	case t.numeric():
		s.t = Decimal // any number, in any of the numeric types' text
	case t == Bytes && (h.Op == "=" || h.Op == "<>"):
		// Equal bytes, equal values. Ordering text or dates against a
		// constant as the server would needs its collation and the
		// constant's type: not done.
	default:
		return s, fmt.Errorf("%w: HAVING compares column %d (%s) with %s: only numbers, or = and <> on plain text, are compared after merging", ErrBadSpec, col, t, h.Op)
	}
	if !h.Null {
		s.value = []byte(h.Value)
		var k keyVal
		if err := parseKey(s.t, nil, s.value, &k); err != nil {
			return s, fmt.Errorf("%w: HAVING compares column %d (%s) with %q", ErrBadSpec, col, t, h.Value)
		}
	}
	switch h.Op {
	case "=":
		s.eq = true
	case "<>":
		s.lt, s.gt = true, true
	case "<":
		s.lt = true
	case "<=":
		s.lt, s.eq = true, true
	case ">":
		s.gt = true
	case ">=":
		s.gt, s.eq = true, true
	default:
		return s, fmt.Errorf("%w: HAVING operator %q", ErrBadSpec, h.Op)
	}
	return s, nil
}

// passes reports whether a merged row passes every filter. A NULL on
// either side fails, as a comparison with NULL is not true.
func passes(having []havingSpec, r Row) (bool, error) {
	for _, h := range having {
		v := r[h.col]
		if v == nil || h.value == nil {
			return false, nil
		}
		c, err := Compare(h.t, v, h.value)
		if err != nil {
			return false, err
		}
		if !(c < 0 && h.lt || c == 0 && h.eq || c > 0 && h.gt) {
			return false, nil
		}
	}
	return true, nil
}
