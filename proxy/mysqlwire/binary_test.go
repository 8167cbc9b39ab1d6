package mysqlwire

import (
	"bytes"
	"errors"

	"strconv"
	"testing"
)

// Text -> binary -> text for every type family; the text is what the
// text protocol shows (checked against MariaDB in mariadb_binary_test.go).
func TestBinaryRowRoundTrip(t *testing.T) {
	col := func(typ byte, flags uint16, length uint32, dec byte) Column {
		return Column{Name: "c", Type: typ, Flags: flags, Length: length, Decimals: dec}
	}
	for _, tc := range []struct {
		name   string
		col    Column
		values []string
	}{
		{"tinyint", col(TypeTiny, 0, 4, 0), []string{"-128", "0", "127"}},
		{"tinyint unsigned", col(TypeTiny, FlagUnsigned, 3, 0), []string{"0", "255"}},
		{"smallint", col(TypeShort, 0, 6, 0), []string{"-32768", "32767"}},
		{"smallint unsigned", col(TypeShort, FlagUnsigned, 5, 0), []string{"65535"}},
		{"mediumint", col(TypeInt24, 0, 9, 0), []string{"-8388608", "8388607"}},
		{"mediumint unsigned", col(TypeInt24, FlagUnsigned, 8, 0), []string{"16777215"}},
		{"int", col(TypeLong, 0, 11, 0), []string{"-2147483648", "2147483647", "0"}},
		{"int unsigned", col(TypeLong, FlagUnsigned, 10, 0), []string{"4294967295"}},
		{"bigint", col(TypeLongLong, 0, 20, 0), []string{"-9223372036854775808", "9223372036854775807"}},
		{"bigint unsigned", col(TypeLongLong, FlagUnsigned, 20, 0), []string{"18446744073709551615"}},
		{"int zerofill", col(TypeLong, FlagUnsigned|FlagZerofill, 6, 0), []string{"000042", "000000", "1234567"}},
		{"year", col(TypeYear, FlagUnsigned|FlagZerofill, 4, 0), []string{"2024", "0000", "1901"}},
		{"double", col(TypeDouble, 0, 22, 31), []string{"3.141592653589793", "1e15", "100000000000000", "1e-300",
			"0.00001", "-0.00000015", "1.2345678901234568e17", "0.30000000000000004", "0", "-1.5e-16", "1.7976931348623157e308"}},
		{"double(10,3)", col(TypeDouble, 0, 10, 3), []string{"12.500", "-0.001", "0.000"}},
		{"float", col(TypeFloat, 0, 12, 31), []string{"3.1415927", "1e15", "-1e30", "0.1", "0.00000015", "123456790"}},
		{"float(7,2)", col(TypeFloat, 0, 7, 2), []string{"1.25", "-99.99"}},
		{"date", col(TypeDate, FlagBinary, 10, 0), []string{"2024-02-29", "0000-00-00", "1000-01-01"}},
		{"datetime", col(TypeDateTime, FlagBinary, 19, 0), []string{"2024-12-31 23:59:59", "0000-00-00 00:00:00", "2000-01-01 00:00:00"}},
		{"datetime(3)", col(TypeDateTime, FlagBinary, 23, 3), []string{"2000-01-01 00:00:00.123", "1999-12-31 23:59:59.000", "0000-00-00 00:00:00.000"}},
		{"timestamp(6)", col(TypeTimestamp, FlagBinary, 26, 6), []string{"2038-01-19 03:14:07.999999", "1970-01-02 00:00:00.000001"}},
		{"time", col(TypeTime, FlagBinary, 10, 0), []string{"-838:59:59", "00:00:00", "838:59:59", "100:00:00", "-00:00:01", "23:59:59"}},
		{"time(2)", col(TypeTime, FlagBinary, 13, 2), []string{"12:34:56.78", "-00:00:01.50", "00:00:00.00"}},
		{"varchar", col(TypeVarString, 0, 80, 0), []string{"", "héllo", "a\x00b"}},
		{"decimal", col(TypeNewDecimal, 0, 22, 6), []string{"-12345678901234.123456", "0.000001"}},
		{"bit", col(TypeBit, FlagUnsigned, 12, 0), []string{"\x0a\xaa", "\x00\x00"}},
		{"blob", col(TypeBlob, FlagBlob|FlagBinary, 65535, 0), []string{"\x00\xff\x10", ""}},
		{"json", col(TypeJSON, FlagBlob, 0, 0), []string{`{"a": [1, 2]}`}},
		{"enum set", col(TypeString, 0, 4, 0), []string{"b", "x,y"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// One row with every value plus a NULL, as NULLs shift the bitmap.
			cols := make([]Column, len(tc.values)+1)
			row := make([][]byte, len(tc.values)+1)
			for i, v := range tc.values {
				cols[i], row[i] = tc.col, []byte(v)
			}
			cols[len(tc.values)] = tc.col
			p, err := AppendBinaryRow(nil, cols, row)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParseBinaryRow(p, cols, nil)
			if err != nil {
				t.Fatal(err)
			}
			for i := range row {
				if (got[i] == nil) != (row[i] == nil) || !bytes.Equal(got[i], row[i]) {
					t.Errorf("value %d: %q, want %q", i, got[i], row[i])
				}
			}
			again, _ := AppendBinaryRow(nil, cols, got)
			if !bytes.Equal(again, p) {
				t.Errorf("binary -> text -> binary changed the bytes:\n% x\n% x", again, p)
			}
		})
	}
}

// The shortest round-trip text of a double laid out as MariaDB prints it
// (values and outputs taken from MariaDB 10.11's text protocol).
func TestAppendFloat(t *testing.T) {
	for _, tc := range []struct {
		f    float64
		want string
	}{
		{1e15, "1e15"}, {1e14, "100000000000000"}, {-1e15, "-1e15"}, {-1e14, "-100000000000000"},
		{123456789012345, "123456789012345"}, {1234567890123456, "1.234567890123456e15"},
		{123456789012345678, "1.2345678901234568e17"}, {99999999999999.9, "99999999999999.9"},
		{0.0001, "0.0001"}, {0.00001, "0.00001"}, {1e-15, "0.000000000000001"}, {1.2345678901e-15, "0.0000000000000012345678901"},
		{1e-16, "1e-16"}, {1.5e-16, "1.5e-16"}, {1e-20, "1e-20"}, {-1.5e-7, "-0.00000015"}, {2.5e-5, "0.000025"},
		{1.2345678901234567e-7, "0.00000012345678901234566"}, {1e20, "1e20"}, {1e21, "1e21"}, {1e100, "1e100"},
		{-1.2e-100, "-1.2e-100"}, {5e-324, "5e-324"}, {1.7976931348623157e308, "1.7976931348623157e308"},
		{0.30000000000000004, "0.30000000000000004"}, {100000, "100000"}, {0, "0"}, {3.141592653589793, "3.141592653589793"},
		{123.4567890123456, "123.4567890123456"}, {0.1234567890123456, "0.1234567890123456"},
	} {
		if got := string(appendFloat(nil, tc.f, 64, notFixedDecimals)); got != tc.want {
			t.Errorf("%v: %q, want %q", tc.f, got, tc.want)
		}
		if back, err := strconv.ParseFloat(tc.want, 64); err != nil || back != tc.f {
			t.Errorf("%q does not read back as %v", tc.want, tc.f)
		}
	}
	// FLOAT: the float32 shortest form (MariaDB's text protocol would say
	// 3.14159 and 123457000).
	for _, tc := range []struct {
		f    float32
		want string
	}{
		{3.14159274, "3.1415927"}, {123456789, "123456790"}, {1e15, "1e15"}, {999999.9, "999999.9"}, {1e-5, "0.00001"},
	} {
		if got := string(appendFloat(nil, float64(tc.f), 32, 39)); got != tc.want {
			t.Errorf("float32 %v: %q, want %q", tc.f, got, tc.want)
		}
	}
	if got := string(appendFloat(nil, 3.1, 64, 2)); got != "3.10" {
		t.Errorf("DOUBLE(10,2): %q", got)
	}
}

func TestBinaryRowMalformed(t *testing.T) {
	cols := []Column{{Type: TypeLong}, {Type: TypeVarString}, {Type: TypeDateTime}, {Type: TypeTime}}
	good, err := AppendBinaryRow(nil, cols, [][]byte{[]byte("7"), []byte("ab"), []byte("2024-01-02 03:04:05.5"), []byte("-01:02:03")})
	if err != nil {
		t.Fatal(err)
	}
	for i := range len(good) {
		if _, err := ParseBinaryRow(good[:i], cols, nil); !errors.Is(err, ErrMalformed) {
			t.Errorf("truncated at %d: err = %v", i, err)
		}
	}
	for name, p := range map[string][]byte{
		"trailing byte":     append(bytes.Clone(good), 0),
		"wrong header":      append([]byte{1}, good[1:]...),
		"bad datetime size": {0, 0, 0, 1, 0, 0, 0, 0, 5, 1, 2, 3, 4, 5},
		"non-NULL NULL":     {0, 0},
	} {
		c := cols
		if name == "non-NULL NULL" {
			c = []Column{{Type: TypeNull}}
		}
		if _, err := ParseBinaryRow(p, c, nil); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	for _, tc := range []struct {
		col Column
		v   string
	}{
		{Column{Type: TypeTiny}, "128"}, {Column{Type: TypeTiny, Flags: FlagUnsigned}, "-1"},
		{Column{Type: TypeLong}, "1.5"}, {Column{Type: TypeLongLong, Flags: FlagUnsigned}, "18446744073709551616"},
		{Column{Type: TypeDouble}, "abc"}, {Column{Type: TypeDate}, "2024-13-01"}, {Column{Type: TypeDateTime}, "2024-01-01T00:00:00"},
		{Column{Type: TypeTime}, "1:00:00"}, {Column{Type: TypeTime}, "10:60:00"}, {Column{Type: TypeTime}, "10:00:00."},
		{Column{Type: TypeShort}, ""},
	} {
		if _, err := AppendBinaryRow(nil, []Column{tc.col}, [][]byte{[]byte(tc.v)}); err == nil {
			t.Errorf("type 0x%02x: %q accepted", tc.col.Type, tc.v)
		}
	}
	if _, err := AppendBinaryRow(nil, cols, nil); err == nil {
		t.Error("row of the wrong width accepted")
	}
}

// A warm BinaryRowDecoder allocates nothing per row.
func TestBinaryRowDecoderNoAllocs(t *testing.T) {
	cols := []Column{{Type: TypeLongLong}, {Type: TypeDouble, Decimals: 31}, {Type: TypeVarString}, {Type: TypeDateTime, Decimals: 6}}
	p, err := AppendBinaryRow(nil, cols, [][]byte{[]byte("-42"), []byte("2.5"), []byte("name"), []byte("2024-01-02 03:04:05.000006")})
	if err != nil {
		t.Fatal(err)
	}
	d := BinaryRowDecoder{Cols: cols}
	if _, err := d.Decode(p); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = d.Decode(p) }); n != 0 {
		t.Fatalf("%v allocations per row", n)
	}
	row, _ := d.Decode(p)
	if string(row[0]) != "-42" || string(row[1]) != "2.5" || string(row[2]) != "name" || string(row[3]) != "2024-01-02 03:04:05.000006" {
		t.Fatalf("%q", row)
	}

}
