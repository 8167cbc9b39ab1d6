package mysqlwire

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/shardgate/shardgate/proxy/merge"
)

func TestLenEncInt(t *testing.T) {
	for _, tc := range []struct {
		v    uint64
		wire []byte
	}{
		{0, []byte{0}},
		{250, []byte{250}},
		{251, []byte{0xfc, 251, 0}},
		{0xffff, []byte{0xfc, 0xff, 0xff}},
		{0x10000, []byte{0xfd, 0, 0, 1}},
		{0xffffff, []byte{0xfd, 0xff, 0xff, 0xff}},
		{0x1000000, []byte{0xfe, 0, 0, 0, 1, 0, 0, 0, 0}},
		{1<<64 - 1, []byte{0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
	} {
		if got := AppendLenEncInt(nil, tc.v); !bytes.Equal(got, tc.wire) {
			t.Errorf("AppendLenEncInt(%d) = % x, want % x", tc.v, got, tc.wire)
		}
		v, null, n, err := ReadLenEncInt(append(bytes.Clone(tc.wire), 'x'))
		if v != tc.v || null || n != len(tc.wire) || err != nil {
			t.Errorf("ReadLenEncInt(% x) = %d %v %d %v", tc.wire, v, null, n, err)
		}
	}
	if _, null, n, err := ReadLenEncInt([]byte{0xfb}); !null || n != 1 || err != nil {
		t.Errorf("NULL: %v %d %v", null, n, err)
	}
	for _, bad := range [][]byte{nil, {0xff}, {0xfc, 1}, {0xfd, 1, 2}, {0xfe, 1, 2, 3, 4, 5, 6, 7}} {
		if _, _, _, err := ReadLenEncInt(bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("ReadLenEncInt(% x): err = %v", bad, err)
		}
	}
}

func TestLenEncString(t *testing.T) {
	long := strings.Repeat("z", 300)
	for _, s := range []string{"", "a", long} {
		wire := AppendLenEncString(nil, []byte(s))
		got, null, n, err := ReadLenEncString(append(wire, 1, 2))
		if string(got) != s || got == nil || null || n != len(wire) || err != nil {
			t.Errorf("%q: got %q %v %d %v", s, got, null, n, err)
		}
	}
	if s, null, n, err := ReadLenEncString([]byte{0xfb, 'x'}); s != nil || !null || n != 1 || err != nil {
		t.Errorf("NULL: %q %v %d %v", s, null, n, err)
	}
	for _, bad := range [][]byte{nil, {3, 'a', 'b'}, {0xfc, 0x2c, 1, 'a'}, {0xff}} {
		if _, _, _, err := ReadLenEncString(bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("ReadLenEncString(% x): err = %v", bad, err)
		}
	}
}

func TestOKPacket(t *testing.T) {
	for _, ok := range []OK{
		{},
		{AffectedRows: 3, LastInsertID: 1 << 40, Status: StatusAutocommit | StatusInTrans, Warnings: 2},
		{AffectedRows: 1, Status: StatusAutocommit, Info: "Rows matched: 2  Changed: 1  Warnings: 0"},
	} {
		p := AppendOK(nil, ok)
		if !IsOK(p) || IsErr(p) || IsEOF(p) {
			t.Fatalf("% x: IsOK/IsErr/IsEOF", p)
		}
		got, err := ParseOK(p)
		if err != nil || got != ok {
			t.Errorf("round trip %+v: got %+v, %v", ok, got, err)
		}
	}
	// What MariaDB sends for an UPDATE: info length-encoded.
	mariadb := []byte{0, 1, 0, 2, 0, 0, 0, 5, 'R', 'o', 'w', 's', ':'}
	if ok, err := ParseOK(mariadb); err != nil || ok.Info != "Rows:" || ok.AffectedRows != 1 || ok.Status != 2 {
		t.Errorf("MariaDB OK: %+v %v", ok, err)
	}
	// A server sending string<EOF> info: taken as it is.
	if ok, err := ParseOK([]byte{0, 0, 0, 2, 0, 0, 0, 'R', 'o', 'w'}); err != nil || ok.Info != "Row" {
		t.Errorf("string<EOF> info: %+v %v", ok, err)
	}
	// The OK ending a result set under CLIENT_DEPRECATE_EOF.
	if _, err := ParseOK([]byte{0xfe, 0, 0, 2, 0, 0, 0}); err != nil {
		t.Errorf("0xfe OK: %v", err)
	}
	for _, bad := range [][]byte{nil, {0}, {0, 0, 0, 2}, {0xff, 0, 0, 0, 0, 0, 0}, {0, 0xfc, 1}} {
		if _, err := ParseOK(bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseOK(% x): err = %v", bad, err)
		}
	}
}

func TestEOFPacket(t *testing.T) {
	p := AppendEOF(nil, 3, StatusMoreResults|StatusAutocommit)
	if !IsEOF(p) || IsOK(p) {
		t.Fatalf("% x", p)
	}
	w, s, err := ParseEOF(p)
	if w != 3 || s != StatusMoreResults|StatusAutocommit || err != nil {
		t.Fatalf("%d %x %v", w, s, err)
	}
	// A text row whose first value is >= 16 MiB starts with 0xfe too.
	if IsEOF(append([]byte{0xfe}, make([]byte, 8)...)) {
		t.Fatal("9-byte 0xfe packet taken for EOF")
	}
	for _, bad := range [][]byte{nil, {0xfe, 1}, {0x00, 0, 0, 0, 0}} {
		if _, _, err := ParseEOF(bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseEOF(% x): err = %v", bad, err)
		}
	}
}

func TestErrorPacket(t *testing.T) {
	e := &Error{Code: 1045, State: "28000", Message: "Access denied for user 'a'@'h' (using password: YES)"}
	p := AppendError(nil, e)
	if !IsErr(p) {
		t.Fatal("IsErr")
	}
	if got := ParseError(p); *got != *e {
		t.Fatalf("round trip: %+v", got)
	}
	if e.Error() != "ERROR 1045 (28000): Access denied for user 'a'@'h' (using password: YES)" {
		t.Fatalf("Error() = %q", e.Error())
	}
	for _, tc := range []struct {
		in   []byte
		want Error
	}{
		{[]byte{0xff, 0x15, 0x04, 'o', 'l', 'd'}, Error{1045, "HY000", "old"}}, // pre-4.1: no state
		{[]byte{0xff, 0x15, 0x04}, Error{1045, "HY000", ""}},
		{nil, Error{ErUnknown, "HY000", "malformed ERR packet of 0 bytes"}},
		{[]byte{0xff, 1}, Error{ErUnknown, "HY000", "malformed ERR packet of 2 bytes"}},
		{[]byte{0x00, 1, 2}, Error{ErUnknown, "HY000", "malformed ERR packet of 3 bytes"}},
	} {
		if got := ParseError(tc.in); *got != tc.want {
			t.Errorf("ParseError(% x) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
	// A bad state is sent as HY000: clients read exactly 5 bytes.
	if got := ParseError(AppendError(nil, &Error{Code: 1, State: "x", Message: "m"})); got.State != "HY000" || got.Message != "m" {
		t.Fatalf("bad state: %+v", got)
	}
}

func TestColumn(t *testing.T) {
	c := Column{Catalog: "def", Schema: "shop", Table: "u", OrgTable: "users", Name: "id", OrgName: "id",
		Charset: 63, Length: 20, Type: TypeLongLong, Flags: FlagNotNull | FlagPriKey | FlagUnsigned, Decimals: 0}
	got, err := ParseColumn(AppendColumn(nil, c))
	if err != nil || got != c {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	if got, _ := ParseColumn(AppendColumn(nil, Column{Name: "x"})); got.Catalog != "def" {
		t.Fatalf("default catalog %q", got.Catalog)
	}
	// COM_FIELD_LIST appends a default value: ignored.
	if _, err := ParseColumn(append(AppendColumn(nil, c), 0xfb)); err != nil {
		t.Fatal(err)
	}
	p := AppendColumn(nil, c)
	for i := range len(p) - 2 { // the 2 filler bytes at the end are not required
		if _, err := ParseColumn(p[:i]); !errors.Is(err, ErrMalformed) {
			t.Fatalf("truncated at %d: err = %v", i, err)
		}
	}
	for _, tc := range []struct {
		p    []byte
		n    int
		fail bool
	}{
		{[]byte{3}, 3, false}, {[]byte{0xfc, 0, 1}, 256, false}, {[]byte{0}, 0, true}, {[]byte{0xfb}, 0, true},
		{[]byte{3, 0}, 0, true}, {[]byte{0xfc, 0x01, 0x10}, 0, true}, {nil, 0, true},
	} {
		n, err := ParseColumnCount(tc.p)
		if n != tc.n || (err != nil) != tc.fail {
			t.Errorf("ParseColumnCount(% x) = %d, %v", tc.p, n, err)
		}
	}
}

func TestMergeType(t *testing.T) {
	for _, tc := range []struct {
		typ   byte
		flags uint16
		want  merge.Type
	}{
		{TypeTiny, 0, merge.Int}, {TypeShort, 0, merge.Int}, {TypeInt24, 0, merge.Int}, {TypeLong, 0, merge.Int},
		{TypeLongLong, 0, merge.Int}, {TypeYear, 0, merge.Int}, {TypeLongLong, FlagUnsigned, merge.Uint},
		{TypeYear, FlagUnsigned | FlagZerofill, merge.Uint}, {TypeTiny, FlagUnsigned, merge.Uint},
		{TypeNewDecimal, 0, merge.Decimal}, {TypeDecimal, 0, merge.Decimal},
		{TypeDouble, 0, merge.Float}, {TypeFloat, 0, merge.Float},
		{TypeBit, FlagUnsigned, merge.Bytes}, {TypeVarString, 0, merge.Bytes}, {TypeBlob, FlagBlob, merge.Bytes},
		{TypeDate, 0, merge.Bytes}, {TypeDateTime, 0, merge.Bytes}, {TypeTimestamp, 0, merge.Bytes}, {TypeTime, 0, merge.Time},
		{TypeJSON, 0, merge.Bytes}, {TypeEnum, 0, merge.Bytes}, {TypeSet, 0, merge.Bytes}, {TypeNull, 0, merge.Bytes},
		{TypeGeometry, 0, merge.Bytes},
	} {
		if got := (Column{Type: tc.typ, Flags: tc.flags}).MergeType(); got != tc.want {
			t.Errorf("type 0x%02x flags 0x%x: %v, want %v", tc.typ, tc.flags, got, tc.want)
		}
	}
}

func TestTextRow(t *testing.T) {
	long := bytes.Repeat([]byte{'L'}, 70000)
	for _, row := range [][][]byte{
		{[]byte("1"), nil, {}, []byte("x y")},
		{nil},
		{{}},
		{long, []byte("a")},
	} {
		p := AppendTextRow(nil, row)
		got, err := ParseTextRow(p, len(row), make([][]byte, 0, 1))
		if err != nil || !rowsEqual([][][]byte{got}, [][][]byte{row}) {
			t.Fatalf("round trip of %d values: %v", len(row), err)
		}
		for i, v := range got {
			if row[i] != nil && v == nil {
				t.Fatalf("value %d: non-NULL empty came back NULL", i)
			}
		}
	}
	p := AppendTextRow(nil, [][]byte{[]byte("a"), nil})
	for _, tc := range []struct {
		p     []byte
		ncols int
	}{
		{p, 1}, {p, 3}, {p[:1], 2}, {[]byte{0xff}, 1}, {[]byte{5, 'a'}, 1},
	} {
		if _, err := ParseTextRow(tc.p, tc.ncols, nil); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseTextRow(% x, %d): err = %v", tc.p, tc.ncols, err)
		}
	}
}
