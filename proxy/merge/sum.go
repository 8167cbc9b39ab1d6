package merge

import (
	"math/big"
	"strconv"
)

// intSum adds integer text exactly: in an int64 while it fits (COUNT and
// most sums never leave it), in a big.Int once it does, so a COUNT or SUM
// beyond 2^63 across shards is still exact.
type intSum struct {
	seen  bool
	small int64
	b     *big.Int // non-nil once the total left int64
}

// add adds integer text v (NULL adds nothing), using tmp as scratch.
func (s *intSum) add(v []byte, tmp *big.Int) error {
	if v == nil {
		return nil
	}
	if !validInt(v, true) {
		return badValue(Int, v)
	}
	s.seen = true
	n, ok := parseInt64(v)
	if ok && s.b == nil {
		r := s.small + n
		if (n > 0 && r < s.small) || (n < 0 && r > s.small) {
			ok = false // overflow: continue in big
		} else {
			s.small = r
			return nil
		}
	}
	if s.b == nil {
		s.b = big.NewInt(s.small)
	}
	if ok {
		tmp.SetInt64(n)
	} else if _, good := tmp.SetString(string(v), 10); !good {
		return badValue(Int, v)
	}
	s.b.Add(s.b, tmp)
	return nil
}

// big returns the total as a big.Int (a new one when it is small).
func (s *intSum) big() *big.Int {
	if s.b != nil {
		return s.b
	}
	return big.NewInt(s.small)
}

// text prints the total ("0" when nothing was added).
func (s *intSum) text() []byte {
	if s.b != nil {
		return s.b.Append(nil, 10)
	}
	return strconv.AppendInt(nil, s.small, 10)
}

// floatSum adds floats in the precision of the column's type, as the
// server does (float4 + float4 is computed in single precision).
type floatSum struct {
	seen bool
	sum  float64
}

func (s *floatSum) add(f float64, t Type) {
	s.seen = true
	if t == Float32 {
		s.sum = float64(float32(s.sum) + float32(f))
		return
	}
	s.sum += f
}
