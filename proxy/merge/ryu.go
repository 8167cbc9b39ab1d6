package merge

import (
	"math"
	"math/big"
)

// ryuShortest returns the decimal digits and exponent (value = digits ×
// 10^exp) that PostgreSQL's float8out / float4out print: Ryū's d2s / f2s
// as PostgreSQL ships them (src/common/d2s.c, f2s.c), including the
// shortcut for small integers. f is finite and non-zero.
//
// strconv's shortest formatting is not always the same: where the
// shortest candidate lies exactly halfway to a neighbouring float,
// strconv takes it (round-half-even reads it back) but PostgreSQL does
// not, so PostgreSQL prints 2.5026827906708272e+16 where strconv prints
// 2.502682790670827e+16. This port keeps Ryū's decisions and replaces
// its 128-bit table multiplications, which are exact floors, by big.Int
// arithmetic: it runs once per float result, not per row.
func ryuShortest(f float64, bitSize int) (digits uint64, exp int) {
	var mbits, ebits, bias int
	var ieeeMant uint64
	var ieeeExp int
	if bitSize == 32 {
		mbits, ebits, bias = 23, 8, 127
		b := math.Float32bits(float32(f))
		ieeeMant, ieeeExp = uint64(b&(1<<mbits-1)), int(b>>mbits)&(1<<ebits-1)
	} else {
		mbits, ebits, bias = 52, 11, 1023
		b := math.Float64bits(f)
		ieeeMant, ieeeExp = b&(1<<mbits-1), int(b>>mbits)&(1<<ebits-1)
	}
	if d, e, ok := smallInt(ieeeMant, ieeeExp, mbits, bias); ok {
		return d, e
	}
	var e2 int
	var m2 uint64
	if ieeeExp == 0 {
		e2, m2 = 1-bias-mbits-2, ieeeMant
	} else {
		e2, m2 = ieeeExp-bias-mbits-2, 1<<mbits|ieeeMant
	}
	// PostgreSQL builds Ryū without STRICTLY_SHORTEST: the bounds of the
	// interval are never accepted (a strtod that does not round half to
	// even must still read the output back), so a value exactly halfway
	// to a neighbour is never chosen. Ryū's acceptBounds branches are
	// therefore left out below.
	mv := 4 * m2
	mmShift := uint64(0)
	if ieeeMant != 0 || ieeeExp <= 1 {
		mmShift = 1
	}
	mp, mm := mv+2, mv-1-mmShift

	var q, e10 int
	double := bitSize != 32
	if e2 >= 0 {
		q = log10Pow2(e2)
		if double && e2 > 3 {
			q--
		}
		e10 = q
	} else {
		q = log10Pow5(-e2)
		if double && -e2 > 1 {
			q--
		}
		e10 = q + e2
	}
	vr, vp, vm := scaleFloor(mv, e2, e10), scaleFloor(mp, e2, e10), scaleFloor(mm, e2, e10)
	var lastRemoved uint64
	if !double && q != 0 && (vp-1)/10 <= vm/10 {
		// f2s needs the digit below vr even when no digit is removed.
		lastRemoved = scaleFloor(mv, e2, e10-1) % 10
	}
	// vrTZ: vr is exact (all digits removed so far were zeros), which
	// makes a last removed 5 a tie to round to even.
	vrTZ := false
	if e2 >= 0 {
		limit := 21
		if !double {
			limit = 9
		}
		if q <= limit {
			if mv%5 == 0 {
				vrTZ = multipleOfPow5(mv, q)
			} else if multipleOfPow5(mp, q) {
				vp-- // the upper bound is exact: exclude it
			}
		}
	} else {
		limit := 63
		if !double {
			limit = 31
		}
		switch {
		case q <= 1:
			vrTZ = true
			vp--
		case q < limit:
			vrTZ = mv&(1<<(q-1)-1) == 0
		}
	}

	removed := 0
	for vp/10 > vm/10 {
		vrTZ = vrTZ && lastRemoved == 0
		lastRemoved = vr % 10
		vr, vp, vm = vr/10, vp/10, vm/10
		removed++
	}
	if vrTZ && lastRemoved == 5 && vr%2 == 0 {
		lastRemoved = 4 // an exact ...50..0 rounds half to even
	}
	out := vr
	if vr == vm || lastRemoved >= 5 {
		out++
	}
	return out, e10 + removed
}

// smallInt is PostgreSQL's d2d_small_int / f2d_small_int: an integer in
// [1, 2^(mbits+1)) prints as itself, trailing zeros moved to the exponent.
func smallInt(ieeeMant uint64, ieeeExp, mbits, bias int) (uint64, int, bool) {
	e2 := ieeeExp - bias - mbits
	if ieeeExp == 0 || e2 < -mbits || e2 > 0 {
		return 0, 0, false
	}
	if ieeeMant&(1<<(-e2)-1) != 0 {
		return 0, 0, false
	}
	m := (1<<mbits | ieeeMant) >> (-e2)
	exp := 0
	for m%10 == 0 {
		m /= 10
		exp++
	}
	return m, exp, true
}

// scaleFloor is floor(m × 2^e2 / 10^e10), what Ryū's mulShift computes.
func scaleFloor(m uint64, e2, e10 int) uint64 {
	n := new(big.Int).SetUint64(m)
	d := big.NewInt(1)
	if e2 >= 0 {
		n.Lsh(n, uint(e2))
	} else {
		d.Lsh(d, uint(-e2))
	}
	p := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs(e10))), nil)
	if e10 >= 0 {
		d.Mul(d, p)
	} else {
		n.Mul(n, p)
	}
	return n.Quo(n, d).Uint64()
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

func log10Pow2(e int) int { return int(uint32(e) * 78913 >> 18) }

func log10Pow5(e int) int { return int(uint32(e) * 732923 >> 20) }

func multipleOfPow5(v uint64, q int) bool {
	for ; q > 0; q-- {
		if v%5 != 0 {
			return false
		}
		v /= 5
	}
	return true
}
