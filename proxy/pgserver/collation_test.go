package pgserver

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

func TestCollationTag(t *testing.T) {
	tests := []struct{ row, want string }{
		{`{"datlocprovider": "c", "datcollate": "C"}`, ""},
		{`{"datlocprovider": "c", "datcollate": "POSIX"}`, ""},
		{`{"datlocprovider": "c", "datcollate": "C.UTF-8"}`, ""},
		{`{"datcollate": "C.utf8"}`, ""}, // before PostgreSQL 15: libc
		{`{"datlocprovider": "c", "datcollate": "en_US.UTF-8"}`, "en-US-u-ka-shifted"},
		{`{"datcollate": "de_DE@euro"}`, "de-DE-u-ka-shifted"},
		{`{"datlocprovider": "i", "datcollate": "C", "daticulocale": "en-US"}`, "en-US"},
		{`{"datlocprovider": "i", "datcollate": "C", "datlocale": "sv_SE"}`, "sv-SE"}, // PostgreSQL 17
		{`{"datlocprovider": "i", "daticulocale": "und"}`, "und"},
		{`{"datlocprovider": "b", "datlocale": "C.UTF-8"}`, ""},
		{`{"datlocprovider": "c", "datcollate": "no such thing!"}`, ""},
		{`not json`, ""},
	}
	for _, tc := range tests {
		if got := collationTag(tc.row); got != tc.want {
			t.Errorf("collationTag(%s) = %q, want %q", tc.row, got, tc.want)
		}
	}
}

// The order PostgreSQL 15 with ICU en-US gives these values (SELECT x
// FROM (VALUES ...) v(x) ORDER BY x in a database created with
// LOCALE_PROVIDER icu ICU_LOCALE 'en-US').
func TestCollationOrder(t *testing.T) {
	want := strings.Fields("_x 1 10 9 a A a-b ab Ab b B e é f")
	got := slices.Clone(want)
	slices.Reverse(got)
	c := newCollation("en-US")
	slices.SortFunc(got, func(a, b string) int {
		return bytes.Compare(c.Key(nil, []byte(a)), c.Key(nil, []byte(b)))
	})
	if !slices.Equal(got, want) {
		t.Errorf("en-US order %v, want %v", got, want)
	}
}
