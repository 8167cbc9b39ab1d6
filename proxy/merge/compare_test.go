package merge

import (
	"errors"
	"math"
	"math/big"
	"strconv"
	"strings"
	"testing"
)

// TestCompareOrder checks, per type, a list of levels in increasing
// order; values within a level are equal. Every pair is compared both
// ways.
func TestCompareOrder(t *testing.T) {
	cases := []struct {
		name   string
		t      Type
		levels [][]string
	}{
		{"int", Int, [][]string{
			{"-99999999999999999999"},
			{"-9223372036854775809"},
			{"-9223372036854775808"},
			{"-10"}, {"-9"}, {"-1", "-01"},
			{"0", "-0", "+0", "000"},
			{"1", "+1", "0001"}, {"9"}, {"10"},
			{"9223372036854775807"},
			{"9223372036854775808"},
			{"123456789012345678901234567890"},
		}},
		{"uint", Uint, [][]string{
			{"0", "00"}, {"9"}, {"10"}, {"9223372036854775808"},
			{"18446744073709551615"}, {"18446744073709551616"},
		}},
		{"bytes sorts 10 before 9", Bytes, [][]string{
			{""}, {"10"}, {"9"}, {"a"}, {"ab"}, {"b"}, {"\xff"},
		}},
		{"decimal", Decimal, [][]string{
			{"-Infinity", "-inf"},
			{"-1e20"},
			{"-1.5", "-1.50", "-15e-1"},
			{"-1", "-1.0", "-1e0", "-.1e1"},
			{"-0.001"},
			{"0", "-0", "0.000", "0e5", ".0", "0."},
			{"0.0015"}, {"0.002"},
			{"1", "1.0", "1.", "+1"},
			{"1.0000000000000000000001"},
			{"9.99"},
			{"10"},
			{"2e1", "20", "20.00", "0.2E+2"},
			{"123456789012345678901234567890.5"},
			{"Infinity", "infinity", "+Infinity"},
			{"NaN", "nan"},
		}},
		{"float", Float, [][]string{
			{"-Infinity", "-inf"},
			{"-1e308"},
			{"-1.5"},
			{"0", "-0", "0.0", "0e10"},
			{"5e-324"},
			{"1.5", "1.50", "15e-1"},
			{"2e1", "20"},
			{"1.7976931348623157e308"},
			{"Infinity", "inf", "1e400"},
			{"NaN", "nan"},
		}},
		{"float32", Float32, [][]string{
			{"-Infinity"}, {"0.1"}, {"0.2"}, {"3.4028235e38"}, {"Infinity"}, {"NaN"},
		}},
		{"bool", Bool, [][]string{
			{"f", "false", "0", "F", "FALSE"},
			{"t", "true", "1", "T", "True"},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for i, li := range c.levels {
				for j, lj := range c.levels {
					want := cmpOrdered(i, j)
					for _, a := range li {
						for _, b := range lj {
							got, err := Compare(c.t, []byte(a), []byte(b))
							if err != nil {
								t.Fatalf("Compare(%s, %q, %q): %v", c.t, a, b, err)
							}
							if got != want {
								t.Errorf("Compare(%s, %q, %q) = %d, want %d", c.t, a, b, got, want)
							}
						}
					}
				}
			}
		})
	}
}

func TestCompareNull(t *testing.T) {
	for _, typ := range []Type{Bytes, Int, Uint, Decimal, Float, Bool, Float32} {
		one := []byte("1")
		if c, err := Compare(typ, nil, nil); c != 0 || err != nil {
			t.Errorf("%s: NULL vs NULL = %d, %v", typ, c, err)
		}
		if c, err := Compare(typ, nil, one); c != 1 || err != nil {
			t.Errorf("%s: NULL vs 1 = %d, %v", typ, c, err)
		}
		if c, err := Compare(typ, one, nil); c != -1 || err != nil {
			t.Errorf("%s: 1 vs NULL = %d, %v", typ, c, err)
		}
	}
	// An empty string is a value, not NULL.
	if c, _ := Compare(Bytes, []byte{}, nil); c != -1 {
		t.Errorf("empty vs NULL = %d", c)
	}
}

func TestCompareBadValue(t *testing.T) {
	cases := []struct {
		t Type
		v string
	}{
		{Int, ""}, {Int, "-"}, {Int, "1.5"}, {Int, "1e3"}, {Int, " 1"}, {Int, "0x10"},
		{Uint, "-1"}, {Uint, "abc"},
		{Decimal, ""}, {Decimal, "."}, {Decimal, "1e"}, {Decimal, "1e+"}, {Decimal, "1.2.3"},
		{Decimal, "-NaN"}, {Decimal, "1e999999999"}, {Decimal, "12a"}, {Decimal, "e5"},
		{Float, ""}, {Float, "one"}, {Float, "1.5x"},
		{Bool, ""}, {Bool, "yes"}, {Bool, "2"}, {Bool, "tru"},
	}
	for _, c := range cases {
		_, err := Compare(c.t, []byte(c.v), []byte("1"))
		if !errors.Is(err, ErrBadValue) {
			t.Errorf("Compare(%s, %q): err = %v, want ErrBadValue", c.t, c.v, err)
		}
	}
	long := strings.Repeat("x", 1000)
	_, err := Compare(Int, []byte(long), []byte("1"))
	if err == nil || len(err.Error()) > 200 {
		t.Errorf("a long bad value is quoted whole: %v", err)
	}
}

func TestPostgresFloat(t *testing.T) {
	cases := []struct {
		f    float64
		bits int
		want string
	}{
		// Each printed by PostgreSQL 15 (float8out / float4out).
		{1e15, 64, "1e+15"},
		{1e14, 64, "100000000000000"},
		{1e6, 64, "1000000"},
		{0.0001, 64, "0.0001"},
		{0.00001, 64, "1e-05"},
		{123456789012345.6, 64, "123456789012345.6"},
		{1.5e300, 64, "1.5e+300"},
		{5e-324, 64, "5e-324"},
		{sum64(0.1, 0.2), 64, "0.30000000000000004"},
		{math.Copysign(0, -1), 64, "-0"},
		{math.NaN(), 64, "NaN"},
		{math.Inf(1), 64, "Infinity"},
		{math.Inf(-1), 64, "-Infinity"},
		{float64(float32(1e6)), 32, "1e+06"},
		{123456, 32, "123456"},
		{float64(float32(12345678.9)), 32, "1.2345679e+07"},
		{float64(float32(0.1) + float32(0.2)), 32, "0.3"},
		// Exactly halfway to a neighbour: PostgreSQL's Ryū never picks
		// that shortest candidate (strconv does).
		{2.502682790670827e16, 64, "2.5026827906708272e+16"},
		{2.276431512203376e18, 64, "2.2764315122033761e+18"},
		{float64(float32(7.83055e7)), 32, "7.8305504e+07"},
		{float64(float32(3.649968e9)), 32, "3.6499681e+09"},
	}
	for _, c := range cases {
		if got := string(PostgresFloat(nil, c.f, c.bits)); got != c.want {
			t.Errorf("PostgresFloat(%v, %d) = %q, want %q", c.f, c.bits, got, c.want)
		}
	}
}

// sum64 adds at run time (constant arithmetic in Go is exact).
func sum64(a, b float64) float64 { return a + b }

// FuzzCompare: Compare never panics, is antisymmetric and reflexive,
// agrees with math/big and strconv where those can judge, and with the
// grouping keys' notion of equality.
func FuzzCompare(f *testing.F) {
	seeds := []string{"0", "-0", "1", "-1.5", "2e1", "NaN", "Infinity", "-Infinity", "t", "18446744073709551616", ".5", "1e-3", "00012", "+3"}
	for _, a := range seeds {
		for _, b := range seeds[:4] {
			f.Add(a, b)
		}
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		for _, typ := range []Type{Bytes, Int, Uint, Decimal, Float, Bool, Float32} {
			ab, err1 := Compare(typ, []byte(a), []byte(b))
			ba, err2 := Compare(typ, []byte(b), []byte(a))
			if (err1 == nil) != (err2 == nil) {
				t.Fatalf("%s: errors differ by argument order: %v / %v", typ, err1, err2)
			}
			if err1 != nil {
				if !errors.Is(err1, ErrBadValue) {
					t.Fatalf("%s: unexpected error %v", typ, err1)
				}
				continue
			}
			if ab != -ba {
				t.Fatalf("%s: Compare(%q, %q) = %d but reversed = %d", typ, a, b, ab, ba)
			}
			if aa, _ := Compare(typ, []byte(a), []byte(a)); aa != 0 {
				t.Fatalf("%s: Compare(%q, itself) = %d", typ, a, aa)
			}
			// Grouping and DISTINCT keys are equal exactly when Compare
			// says the values are.
			ka, err1 := appendKeyValue(nil, typ, []byte(a))
			kb, err2 := appendKeyValue(nil, typ, []byte(b))
			if err1 != nil || err2 != nil {
				t.Fatalf("%s: key of a comparable value: %v %v", typ, err1, err2)
			}
			if (string(ka) == string(kb)) != (ab == 0) {
				t.Fatalf("%s: %q and %q compare %d but keys equal = %v", typ, a, b, ab, string(ka) == string(kb))
			}
			if want, ok := reference(typ, a, b); ok && want != ab {
				t.Fatalf("%s: Compare(%q, %q) = %d, reference says %d", typ, a, b, ab, want)
			}
		}
	})
}

// reference compares with math/big or strconv, when it can.
func reference(typ Type, a, b string) (int, bool) {
	switch typ {
	case Int, Uint:
		x, ok1 := new(big.Int).SetString(a, 10)
		y, ok2 := new(big.Int).SetString(b, 10)
		if ok1 && ok2 && !strings.Contains(a+b, "_") {
			return x.Cmp(y), true
		}
	case Decimal:
		x, ok1 := new(big.Rat).SetString(a)
		y, ok2 := new(big.Rat).SetString(b)
		if ok1 && ok2 && smallExp(a) && smallExp(b) && !strings.ContainsAny(a+b, "/_xXoObBpP") {
			return x.Cmp(y), true
		}
	case Float:
		x, err1 := strconv.ParseFloat(a, 64)
		y, err2 := strconv.ParseFloat(b, 64)
		if err1 == nil && err2 == nil && !math.IsNaN(x) && !math.IsNaN(y) {
			return cmpFloat(x, y), true
		}
	}
	return 0, false
}

// smallExp: no exponent, or one short enough for big.Rat to expand.
func smallExp(s string) bool {
	i := strings.IndexAny(s, "eE")
	return i < 0 || len(s)-i <= 5
}
