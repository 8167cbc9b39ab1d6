package pgserver

import (
	"encoding/binary"
	"math"
	"testing"

	"github.com/shardgate/shardgate/router"
)

func TestDecodeParam(t *testing.T) {
	be := func(n int, v uint64) []byte {
		b := make([]byte, 8)
		binary.BigEndian.PutUint64(b, v)
		return b[8-n:]
	}
	for _, tc := range []struct {
		v      []byte
		format int16
		oid    uint32
		want   router.Param
	}{
		{nil, 1, oidInt8, router.Param{Kind: router.ParamNull}},
		{[]byte("42"), 0, oidInt8, router.Param{Kind: router.ParamText, Text: "42"}},
		{be(2, 0xfffe), 1, oidInt2, router.Param{Kind: router.ParamInt, Int: -2}},
		{be(4, 7), 1, oidInt4, router.Param{Kind: router.ParamInt, Int: 7}},
		{be(8, 1<<40), 1, oidInt8, router.Param{Kind: router.ParamInt, Int: 1 << 40}},
		{be(8, math.Float64bits(800.5)), 1, oidFloat8, router.Param{Kind: router.ParamText, Text: "800.5"}},
		{be(8, math.Float64bits(7)), 1, oidFloat8, router.Param{Kind: router.ParamText, Text: "7"}},
		{be(4, uint64(math.Float32bits(0.1))), 1, oidFloat4, router.Param{Kind: router.ParamText, Text: "0.1"}},
		{[]byte("abc"), 1, oidText, router.Param{Kind: router.ParamText, Text: "abc"}},
		{[]byte{0, 0, 0, 0, 0xC0, 0, 0, 0}, 1, oidNumeric, router.Param{Kind: router.ParamText, Text: "NaN"}},
		{[]byte{0, 1, 0, 0, 0, 0, 0, 0, 0, 7}, 1, oidNumeric, router.Param{Kind: router.ParamText, Text: "7"}},
		{[]byte{0, 1, 0xff, 0xff, 0x40, 0, 0, 2}, 1, oidNumeric, router.Param{Kind: router.ParamBytes, Bytes: []byte{0, 1, 0xff, 0xff, 0x40, 0, 0, 2}}},
		{be(4, 1), 1, oidFloat8, router.Param{Kind: router.ParamBytes, Bytes: be(4, 1)}},
	} {
		got := decodeParam(tc.v, tc.format, tc.oid)
		if got.Kind != tc.want.Kind || got.Int != tc.want.Int || got.Text != tc.want.Text || string(got.Bytes) != string(tc.want.Bytes) {
			t.Errorf("decodeParam(%x, %d, %d) = %+v, want %+v", tc.v, tc.format, tc.oid, got, tc.want)
		}
	}
}

// numericText undoes numericBinary for every shape of decimal text.
func TestNumericTextRoundTrip(t *testing.T) {
	for _, s := range []string{"0", "7", "-7", "800.5", "0.0001", "-0.00012300", "12345678.9", "10000", "100000000.00", "0.5", "123456789012345678901234567890.123456789"} {
		b, err := numericBinary(s)
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := numericText(b); !ok || got != s {
			t.Errorf("numericText(numericBinary(%q)) = %q, %v", s, got, ok)
		}
	}
}
