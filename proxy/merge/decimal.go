package merge

import (
	"bytes"
	"math/big"
)

// Decimal specials, ranked in PostgreSQL's numeric order.
const (
	decNegInf uint8 = iota
	decFinite
	decPosInf
	decNaN
)

// maxDecExp bounds the exponent of Decimal text ("1e131072"): the largest
// numeric PostgreSQL prints has 131072 integer digits, and an unbounded
// exponent would let one value make a huge big.Int.
const maxDecExp = 1 << 17

// decView is Decimal text scanned in place (no allocation): the value is
// sign × digits(ip ++ fp) × 10^(exp - len(fp)).
type decView struct {
	special uint8
	neg     bool
	ip, fp  []byte // integer and fraction digits, as written
	exp     int
	// The significant digits are D[lead:trail] of D = ip ++ fp; lead ==
	// trail means zero. adj places them: value = 0.D[lead:trail] × 10^adj.
	lead, trail, adj int
}

func (d *decView) digit(i int) byte {
	if i < len(d.ip) {
		return d.ip[i]
	}
	return d.fp[i-len(d.ip)]
}

func (d *decView) zero() bool { return d.special == decFinite && d.lead == d.trail }

// scanDecimal parses v into d; false when v is not Decimal text.
func scanDecimal(v []byte, d *decView) bool {
	*d = decView{special: decFinite}
	if len(v) > 0 && (v[0] == '+' || v[0] == '-') {
		d.neg = v[0] == '-'
		v = v[1:]
	}
	switch {
	case bytes.EqualFold(v, []byte("nan")):
		d.special = decNaN
		return !d.neg
	case bytes.EqualFold(v, []byte("infinity")), bytes.EqualFold(v, []byte("inf")):
		d.special = decPosInf
		if d.neg {
			d.special = decNegInf
		}
		return true
	}
	i := digits(v, 0)
	d.ip = v[:i]
	if i < len(v) && v[i] == '.' {
		j := digits(v, i+1)
		d.fp = v[i+1 : j]
		i = j
	}
	if len(d.ip)+len(d.fp) == 0 {
		return false
	}
	if i < len(v) && (v[i] == 'e' || v[i] == 'E') {
		i++
		neg := false
		if i < len(v) && (v[i] == '+' || v[i] == '-') {
			neg = v[i] == '-'
			i++
		}
		j := digits(v, i)
		if j == i {
			return false
		}
		for _, c := range v[i:j] {
			d.exp = d.exp*10 + int(c-'0')
			if d.exp > maxDecExp {
				return false
			}
		}
		if neg {
			d.exp = -d.exp
		}
		i = j
	}
	if i != len(v) {
		return false
	}
	n := len(d.ip) + len(d.fp)
	for d.lead < n && d.digit(d.lead) == '0' {
		d.lead++
	}
	d.trail = n
	for d.trail > d.lead && d.digit(d.trail-1) == '0' {
		d.trail--
	}
	d.adj = len(d.ip) + d.exp - d.lead
	return true
}

// digits returns the end of the run of ASCII digits starting at i.
func digits(v []byte, i int) int {
	for i < len(v) && v[i] >= '0' && v[i] <= '9' {
		i++
	}
	return i
}

// cmpDecimal orders two scanned decimals as PostgreSQL orders numeric.
func cmpDecimal(a, b *decView) int {
	if a.special != b.special {
		return cmpOrdered(int(a.special), int(b.special))
	}
	if a.special != decFinite {
		return 0
	}
	sa, sb := decSign(a), decSign(b)
	if sa != sb || sa == 0 {
		return cmpOrdered(sa, sb)
	}
	c := cmpOrdered(a.adj, b.adj)
	if c == 0 {
		na, nb := a.trail-a.lead, b.trail-b.lead
		for i := 0; i < na && i < nb && c == 0; i++ {
			c = cmpOrdered(int(a.digit(a.lead+i)), int(b.digit(b.lead+i)))
		}
		if c == 0 {
			c = cmpOrdered(na, nb) // trailing zeros are stripped: more digits is larger
		}
	}
	return c * sa
}

func decSign(d *decView) int {
	switch {
	case d.zero():
		return 0
	case d.neg:
		return -1
	}
	return 1
}

// decSum adds Decimal values exactly: the result keeps the largest scale
// seen, as PostgreSQL's numeric and MySQL's DECIMAL addition do.
type decSum struct {
	seen    bool
	special uint8
	v       big.Int // unscaled
	scale   int
}

// add adds d, using tmp as scratch.
func (s *decSum) add(d *decView, tmp *big.Int) {
	if !s.seen {
		s.seen, s.special = true, decFinite
	}
	if d.special != decFinite || s.special != decFinite {
		s.special = addSpecial(s.special, d.special)
		return
	}
	scale := setUnscaled(tmp, d)
	switch {
	case scale > s.scale:
		mulPow10(&s.v, scale-s.scale)
		s.scale = scale
	case scale < s.scale:
		mulPow10(tmp, s.scale-scale)
	}
	s.v.Add(&s.v, tmp)
}

// addSpecial is PostgreSQL's numeric addition when either side is not
// finite: NaN absorbs, and Infinity + -Infinity is NaN.
func addSpecial(a, b uint8) uint8 {
	switch {
	case a == decNaN || b == decNaN:
		return decNaN
	case a == decFinite:
		return b
	case b == decFinite || a == b:
		return a
	}
	return decNaN
}

// setUnscaled sets z to d's digits as an integer and returns the scale
// (digits after the point, never negative).
func setUnscaled(z *big.Int, d *decView) int {
	z.SetInt64(0)
	var chunk uint64
	n := 0
	flush := func() {
		if n > 0 {
			mulPow10(z, n)
			z.Add(z, new(big.Int).SetUint64(chunk))
		}
		chunk, n = 0, 0
	}
	all := len(d.ip) + len(d.fp)
	if all-d.lead <= 19 {
		// Common case: one machine word, no allocation.
		for i := d.lead; i < all; i++ {
			chunk = chunk*10 + uint64(d.digit(i)-'0')
		}
		z.SetUint64(chunk)
	} else {
		for i := d.lead; i < all; i++ {
			chunk = chunk*10 + uint64(d.digit(i)-'0')
			if n++; n == 19 {
				flush()
			}
		}
		flush()
	}
	if d.neg {
		z.Neg(z)
	}
	scale := len(d.fp) - d.exp
	if scale < 0 {
		mulPow10(z, -scale)
		scale = 0
	}
	return scale
}

// mulPow10 multiplies z by 10^n.
func mulPow10(z *big.Int, n int) {
	if n <= 0 {
		return
	}
	if n <= 19 {
		p := uint64(1)
		for range n {
			p *= 10
		}
		z.Mul(z, new(big.Int).SetUint64(p))
		return
	}
	z.Mul(z, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil))
}

// appendDecimal appends v × 10^-scale as plain decimal text, keeping
// every digit of the scale ("2.50", "-0.0015").
func appendDecimal(dst []byte, v *big.Int, scale int) []byte {
	if v.Sign() < 0 {
		dst = append(dst, '-')
	}
	var buf [40]byte
	ds := new(big.Int).Abs(v).Append(buf[:0], 10)
	if scale <= 0 {
		return append(dst, ds...)
	}
	if len(ds) <= scale {
		dst = append(dst, '0', '.')
		for range scale - len(ds) {
			dst = append(dst, '0')
		}
		return append(dst, ds...)
	}
	dst = append(dst, ds[:len(ds)-scale]...)
	dst = append(dst, '.')
	return append(dst, ds[len(ds)-scale:]...)
}

func appendSpecial(dst []byte, special uint8) []byte {
	switch special {
	case decNaN:
		return append(dst, "NaN"...)
	case decPosInf:
		return append(dst, "Infinity"...)
	}
	return append(dst, "-Infinity"...)
}
