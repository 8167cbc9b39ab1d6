package topology

import (
	"errors"
	"strings"
	"testing"
)

func TestParseKeyRange(t *testing.T) {
	cases := []struct {
		in         string
		start, end uint64
		canonical  string
	}{
		{"", 0, 0, "-"},
		{"-", 0, 0, "-"},
		{"-80", 0, 0x8000000000000000, "-80"},
		{"80-", 0x8000000000000000, 0, "80-"},
		{"80-c0", 0x8000000000000000, 0xc000000000000000, "80-c0"},
		{"8000-C000", 0x8000000000000000, 0xc000000000000000, "80-c0"},
		{"4-8", 0x4000000000000000, 0x8000000000000000, "40-80"},
		{"-0001", 0, 0x0001000000000000, "-0001"},
		{"0123456789abcdef-", 0x0123456789abcdef, 0, "0123456789abcdef-"},
		{"00-40", 0, 0x4000000000000000, "-40"},
	}
	for _, c := range cases {
		r, err := ParseKeyRange(c.in)
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if r.Start != c.start || r.End != c.end {
			t.Errorf("%q = [%x, %x), want [%x, %x)", c.in, r.Start, r.End, c.start, c.end)
		}
		if r.String() != c.canonical {
			t.Errorf("%q prints %q, want %q", c.in, r.String(), c.canonical)
		}
	}
}

func TestParseKeyRangeErrors(t *testing.T) {
	for _, in := range []string{"80", "zz-", "-g0", "c0-80", "80-80", "-00", "12345678901234567-", "0x80-", "-+8", "80--"} {
		if _, err := ParseKeyRange(in); !errors.Is(err, ErrBadKeyRange) {
			t.Errorf("%q: err = %v, want ErrBadKeyRange", in, err)
		}
	}
}

func TestKeyRangeContains(t *testing.T) {
	r := KeyRange{Start: 0x40 << 56, End: 0x80 << 56}
	for _, c := range []struct {
		id   uint64
		want bool
	}{
		{0x40<<56 - 1, false}, {0x40 << 56, true}, {0x80<<56 - 1, true}, {0x80 << 56, false},
	} {
		if got := r.Contains(c.id); got != c.want {
			t.Errorf("Contains(%016x) = %v", c.id, got)
		}
	}
	tail := KeyRange{Start: 0xc0 << 56}
	if !tail.Contains(^uint64(0)) || tail.Contains(0) {
		t.Error("unbounded range must hold the top of the keyspace and not 0")
	}
	if !FullRange.Contains(0) || !FullRange.Contains(^uint64(0)) {
		t.Error("full range must hold everything")
	}
}

func TestShardForBoundaries(t *testing.T) {
	d := referenceDB(t)
	for _, c := range []struct {
		id   uint64
		want string
	}{
		{0, "-40"}, {0x3fffffffffffffff, "-40"}, {0x4000000000000000, "40-80"},
		{0x7fffffffffffffff, "40-80"}, {0x8000000000000000, "80-c0"},
		{0xbfffffffffffffff, "80-c0"}, {0xc000000000000000, "c0-"}, {^uint64(0), "c0-"},
	} {
		if got := d.ShardFor(c.id).Name; got != c.want {
			t.Errorf("ShardFor(%016x) = %s, want %s", c.id, got, c.want)
		}
	}
}

func TestEvenRanges(t *testing.T) {
	for _, c := range []struct {
		n    int
		want []string
	}{
		{1, []string{"-"}},
		{2, []string{"-80", "80-"}},
		{4, []string{"-40", "40-80", "80-c0", "c0-"}},
		{3, []string{"-5555555555555555", "5555555555555555-aaaaaaaaaaaaaaaa", "aaaaaaaaaaaaaaaa-"}},
	} {
		var got []string
		for _, r := range EvenRanges(c.n) {
			got = append(got, r.String())
		}
		if strings.Join(got, " ") != strings.Join(c.want, " ") {
			t.Errorf("EvenRanges(%d) = %v, want %v", c.n, got, c.want)
		}
	}
}
