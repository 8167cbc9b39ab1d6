package merge

import (
	"errors"
	"io"
	"strings"
	"testing"
)

// sliceSource is a fake shard: its rows, then io.EOF, or err after errAt
// rows when err is set. pulls counts calls to Next.
type sliceSource struct {
	rows  []Row
	i     int
	err   error
	errAt int
	pulls int
}

func (s *sliceSource) Next() (Row, error) {
	s.pulls++
	if s.err != nil && s.i == s.errAt {
		return nil, s.err
	}
	if s.i >= len(s.rows) {
		return nil, io.EOF
	}
	r := s.rows[s.i]
	s.i++
	return r, nil
}

// row parses the tests' row notation: values separated by "|", "~" is
// NULL. "" is a row of one empty string.
func row(s string) Row {
	var r Row
	for _, v := range strings.Split(s, "|") {
		if v == "~" {
			r = append(r, nil)
		} else {
			r = append(r, []byte(v))
		}
	}
	return r
}

func rows(ss ...string) []Row {
	out := make([]Row, len(ss))
	for i, s := range ss {
		out[i] = row(s)
	}
	return out
}

// format is the inverse of row.
func format(r Row) string {
	parts := make([]string, len(r))
	for i, v := range r {
		if v == nil {
			parts[i] = "~"
		} else {
			parts[i] = string(v)
		}
	}
	return strings.Join(parts, "|")
}

// shards builds fake sources from the row notation.
func shards(data [][]string) ([]Source, []*sliceSource) {
	srcs := make([]Source, len(data))
	fakes := make([]*sliceSource, len(data))
	for i, d := range data {
		fakes[i] = &sliceSource{rows: rows(d...)}
		srcs[i] = fakes[i]
	}
	return srcs, fakes
}

// drain reads a merger to its end.
func drain(m *Merger) ([]string, error) {
	var out []string
	for {
		r, err := m.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		if len(r) != m.Columns() {
			return out, errors.New("row width differs from Columns()")
		}
		out = append(out, format(r))
	}
}

func equalRows(t *testing.T, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("rows differ\n got: %q\nwant: %q", got, want)
	}
}

// typesOf builds a type list from one letter per column: b Bytes, i Int,
// u Uint, d Decimal, f Float, g Float32, t Bool, c TextCI, l TextLocale.
func typesOf(s string) []Type {
	m := map[rune]Type{'b': Bytes, 'i': Int, 'u': Uint, 'd': Decimal, 'f': Float, 'g': Float32, 't': Bool, 'c': TextCI, 'l': TextLocale}
	out := make([]Type, 0, len(s))
	for _, c := range s {
		out = append(out, m[c])
	}
	return out
}
