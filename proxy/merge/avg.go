package merge

import (
	"math/big"
)

// PostgreSQL's numeric division constants (src/backend/utils/adt/numeric.c).
const (
	pgMinSigDigits   = 16   // NUMERIC_MIN_SIG_DIGITS
	pgMaxDisplayScal = 1000 // NUMERIC_MAX_DISPLAY_SCALE
	mysqlMaxScale    = 38   // MariaDB's DECIMAL_MAX_SCALE (MySQL's is 30)
)

// avgScale picks the number of fractional digits of AVG = sum / count.
//
// With extra == 0 it is PostgreSQL's own choice for numeric division
// (select_div_scale), which avg(int), avg(bigint) and avg(numeric) all
// end in: about 16 significant digits, never fewer fractional digits than
// the sum has. So avg of 1 and 2 prints 1.5000000000000000, avg(1) prints
// 1.00000000000000000000 and an average near 61728395 prints
// 61728395.000000000000, byte for byte what one server prints.
//
// With extra > 0 it is MySQL's rule: the argument's scale plus
// div_precision_increment (4 by default, so AVG of integers prints
// 1.5000 and of DECIMAL(10,2) 1.875000), capped at MariaDB's 38. (MySQL
// caps at 30, which only matters for columns of scale above 26.)
func avgScale(sum *big.Int, sumScale int, count *big.Int, extra int) int {
	if extra > 0 {
		return max(sumScale, min(sumScale+extra, mysqlMaxScale))
	}
	w1, d1 := nbaseLead(sum, sumScale)
	w2, d2 := nbaseLead(count, 0)
	qweight := w1 - w2
	if d1 <= d2 {
		qweight--
	}
	r := pgMinSigDigits - qweight*4
	r = max(r, sumScale, 0)
	return min(r, pgMaxDisplayScal)
}

// nbaseLead returns the weight and value of the first non-zero base-10000
// digit of v × 10^-scale, as PostgreSQL's NumericVar holds it: groups of
// four decimal digits aligned on the decimal point, weight 0 being the
// units group. Zero is (0, 0).
func nbaseLead(v *big.Int, scale int) (weight, first int) {
	if v.Sign() == 0 {
		return 0, 0
	}
	var buf [40]byte
	ds := new(big.Int).Abs(v).Append(buf[:0], 10)
	if n := len(ds) - scale; n > 0 { // n integer digits
		k := (n-1)%4 + 1
		for _, c := range ds[:k] {
			first = first*10 + int(c-'0')
		}
		return (n - 1) / 4, first
	} else {
		// Fraction digit i (0-based after the point) is ds[i+n] when in
		// range, 0 before (leading zeros) and after.
		g := -n / 4 // the group holding the first non-zero digit, at -n
		for i := g * 4; i < g*4+4; i++ {
			d := 0
			if j := i + n; j >= 0 && j < len(ds) {
				d = int(ds[j] - '0')
			}
			first = first*10 + d
		}
		return -(g + 1), first
	}
}

// avgQuotient returns sum / count as an unscaled value at scale (see
// avgScale), rounded as the server rounds it.
//
// PostgreSQL rounds the exact quotient half away from zero. MySQL and
// MariaDB (strings/decimal.c, do_div_mod) first compute the quotient
// truncated to whole 9-digit words: the dividend's fraction rounded up
// to a word plus what remains of div_precision_increment, rounded up to a
// word; the result is that rounded half away from zero to scale. When
// the scale is itself a word boundary (a sum of scale 5, 14 or 23 with
// the default increment 4) nothing is left to round and MySQL truncates:
// AVG of 0.99827 and -0.00492 over 3 rows prints 0.331116666, not
// ...667. Reproducing it keeps the merged answer byte for byte the same.
func avgQuotient(sum *big.Int, sumScale int, count *big.Int, scale, extra int) *big.Int {
	if extra <= 0 {
		return divRound(sum, sumScale, count, scale)
	}
	words := func(digits int) int { return (digits + 8) / 9 * 9 }
	frac1 := words(sumScale)
	inc := max(0, extra-(frac1-sumScale))
	digits := max(words(frac1+inc), scale)
	n := new(big.Int).Set(sum)
	mulPow10(n, digits-sumScale)
	n.Quo(n, count) // truncated at digits
	return divRound(n, digits, big.NewInt(1), scale)
}

// divRound returns sum × 10^(scale-sumScale) / count rounded half away
// from zero, the unscaled value of the quotient at scale; when scale <
// sumScale it rounds sum/count to fewer digits. count > 0.
func divRound(sum *big.Int, sumScale int, count *big.Int, scale int) *big.Int {
	n := new(big.Int).Set(sum)
	d := new(big.Int).Set(count)
	if scale >= sumScale {
		mulPow10(n, scale-sumScale)
	} else {
		mulPow10(d, sumScale-scale)
	}
	q, r := new(big.Int).QuoRem(n, d, new(big.Int))
	// |r| * 2 >= d rounds away from zero.
	r.Abs(r).Lsh(r, 1)
	if r.Cmp(d) >= 0 {
		if n.Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	return q
}
