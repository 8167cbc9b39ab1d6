package mysqlwire

import (
	"bytes"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/shardgate/shardgate/router"
)

func TestPrepareOK(t *testing.T) {
	ok := PrepareOK{StatementID: 7, Columns: 3, Params: 2, Warnings: 1}
	got, err := ParsePrepareOK(AppendPrepareOK(nil, ok))
	if err != nil || got != ok {
		t.Fatalf("%+v %v", got, err)
	}
	// Old servers end after the filler.
	if got, err := ParsePrepareOK(AppendPrepareOK(nil, ok)[:10]); err != nil || got.Warnings != 0 || got.Params != 2 {
		t.Fatalf("short: %+v %v", got, err)
	}
	for _, bad := range [][]byte{nil, {0, 1, 2}, {0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0}} {
		if _, err := ParsePrepareOK(bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("% x: err = %v", bad, err)
		}
	}
}

func le(n int, v uint64) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(v >> (8 * i))
	}
	return b
}

// executeUnbound is an execute packet with new-params-bound = 0 and the
// given null bitmap and value bytes.
func executeUnbound(id uint32, nulls []byte, values ...[]byte) []byte {
	p := append([]byte{ComStmtExecute}, le(4, uint64(id))...)
	p = append(p, 0, 1, 0, 0, 0)
	p = append(p, nulls...)
	p = append(p, 0)
	for _, v := range values {
		p = append(p, v...)
	}
	return p
}

func TestStmtExecute(t *testing.T) {
	params := []Param{
		{Type: uint16(TypeLongLong), Value: le(8, uint64(math.MaxUint64-41))}, // -42
		{Type: uint16(TypeLongLong) | ParamUnsigned, Value: le(8, math.MaxUint64)},
		{Type: uint16(TypeVarString), Value: []byte("héllo")},
		{Null: true, Type: uint16(TypeString)},
		{Type: uint16(TypeDouble), Value: le(8, math.Float64bits(2.5))},
		{Type: uint16(TypeDateTime), Value: []byte{0xe8, 0x07, 1, 2, 3, 4, 5}},
		{Type: uint16(TypeTime), Value: []byte{1, 1, 0, 0, 0, 2, 3, 4}},
		{Type: uint16(TypeTiny), Value: []byte{0xff}},
		{Type: uint16(TypeBlob), Value: []byte{}},
		{Null: true, Type: uint16(TypeNull)},
	}
	p := AppendStmtExecute(nil, 9, 0, params)
	ex, err := ParseStmtExecute(p, len(params), nil, nil)
	if err != nil || ex.StatementID != 9 || ex.Flags != 0 || !paramsEqual(ex.Params, params) {
		t.Fatalf("round trip: %+v %v", ex, err)
	}
	types := ex.Types()

	// new-params-bound = 0: the values are decoded with the previous types.
	nulls := []byte{0x08, 0x02}
	var values [][]byte
	for _, prm := range params {
		if prm.Null {
			continue
		}
		switch t := byte(prm.Type); {
		case fixedSize(t) > 0:
			values = append(values, prm.Value)
		case !lenEncType(t):
			values = append(values, append([]byte{byte(len(prm.Value))}, prm.Value...))
		default:
			values = append(values, AppendLenEncString(nil, prm.Value))
		}
	}
	unbound := executeUnbound(9, nulls, values...)
	ex, err = ParseStmtExecute(unbound, len(params), types, nil)
	if err != nil || !paramsEqual(ex.Params, params) {
		t.Fatalf("unbound: %+v %v", ex.Params, err)
	}
	if _, err := ParseStmtExecute(unbound, len(params), nil, nil); !errors.Is(err, ErrProtocol) {
		t.Fatalf("unbound without prevTypes: err = %v", err)
	}
	if _, err := ParseStmtExecute(unbound, len(params), types[:3], nil); !errors.Is(err, ErrProtocol) {
		t.Fatalf("unbound with too few prevTypes: err = %v", err)
	}

	// Long data: the parameter takes it, whatever its NULL bit, and has
	// no bytes in the value area (a client sending long data marks the
	// parameter NULL or not: both are seen).
	withLong := AppendStmtExecute(nil, 9, 0, []Param{{Type: uint16(TypeLong), Value: le(4, 5)}, {Type: uint16(TypeBlob), Null: true}, {Type: uint16(TypeLongLong), Null: true}})
	ex, err = ParseStmtExecute(withLong, 3, nil, map[int][]byte{1: []byte("chunk1chunk2"), 2: nil})
	want := []Param{{Type: uint16(TypeLong), Value: le(4, 5)}, {Type: uint16(TypeBlob), Value: []byte("chunk1chunk2")}, {Type: uint16(TypeBlob), Value: []byte{}}}
	if err != nil || !paramsEqual(ex.Params, want) {
		t.Fatalf("long data: %+v %v", ex.Params, err)
	}
	// Re-encoded for a backend, long data travels inline.
	again, err := ParseStmtExecute(AppendStmtExecute(nil, 1, 0, ex.Params), 3, nil, nil)
	if err != nil || !paramsEqual(again.Params, want) {
		t.Fatalf("long data re-encoded: %+v %v", again.Params, err)
	}

	// No parameters: the packet ends after the iteration count.
	if ex, err := ParseStmtExecute(AppendStmtExecute(nil, 3, 1, nil), 0, nil, nil); err != nil || ex.StatementID != 3 || ex.Flags != 1 || ex.Params != nil {
		t.Fatalf("no params: %+v %v", ex, err)
	}
}

func TestStmtExecuteMalformed(t *testing.T) {
	good := AppendStmtExecute(nil, 1, 0, []Param{
		{Type: uint16(TypeLongLong), Value: le(8, 1)}, {Type: uint16(TypeVarString), Value: []byte("abc")},
		{Type: uint16(TypeDate), Value: []byte{0xe8, 7, 1, 1}},
	})
	for i := range len(good) {
		if _, err := ParseStmtExecute(good[:i], 3, nil, nil); !errors.Is(err, ErrMalformed) {
			t.Errorf("truncated at %d: err = %v", i, err)
		}
	}
	for name, p := range map[string][]byte{
		"not an execute":   append([]byte{ComQuery}, good[1:]...),
		"bound flag 2":     append(append(bytes.Clone(good[:11]), 2), good[12:]...),
		"unknown type":     AppendStmtExecute(nil, 1, 0, []Param{{Type: 0x20, Value: []byte("x")}}),
		"NULL in values":   append(AppendStmtExecute(nil, 1, 0, []Param{{Type: uint16(TypeVarString)}})[:14], 0xfb),
		"lenenc too short": append(AppendStmtExecute(nil, 1, 0, []Param{{Type: uint16(TypeVarString)}})[:14], 0xfc, 1),
	} {
		n := 3
		if name != "not an execute" && name != "bound flag 2" {
			n = 1
		}
		if _, err := ParseStmtExecute(p, n, nil, nil); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	// Trailing bytes are ignored, as the server ignores them.
	if _, err := ParseStmtExecute(append(bytes.Clone(good), 1, 2, 3), 3, nil, nil); err != nil {
		t.Errorf("trailing bytes: %v", err)
	}
}

func paramsEqual(a, b []Param) bool {
	return slices.EqualFunc(a, b, func(x, y Param) bool {
		return x.Type == y.Type && x.Null == y.Null && bytes.Equal(x.Value, y.Value) && (x.Value == nil) == (y.Value == nil || x.Null)
	})
}

func TestRouterParam(t *testing.T) {
	for _, tc := range []struct {
		p    Param
		want router.Param
	}{
		{Param{Type: uint16(TypeLongLong), Value: le(8, uint64(math.MaxUint64-41))}, router.Param{Kind: router.ParamInt, Int: -42}},
		{Param{Type: uint16(TypeLongLong) | ParamUnsigned, Value: le(8, 1<<63-1)}, router.Param{Kind: router.ParamInt, Int: 1<<63 - 1}},
		{Param{Type: uint16(TypeLongLong) | ParamUnsigned, Value: le(8, 1<<63)}, router.Param{Kind: router.ParamText, Text: "9223372036854775808"}},
		{Param{Type: uint16(TypeLong), Value: le(4, 0xffffffff)}, router.Param{Kind: router.ParamInt, Int: -1}},
		{Param{Type: uint16(TypeLong) | ParamUnsigned, Value: le(4, 0xffffffff)}, router.Param{Kind: router.ParamInt, Int: 4294967295}},
		{Param{Type: uint16(TypeInt24), Value: le(4, 7)}, router.Param{Kind: router.ParamInt, Int: 7}},
		{Param{Type: uint16(TypeShort), Value: le(2, 0x8000)}, router.Param{Kind: router.ParamInt, Int: -32768}},
		{Param{Type: uint16(TypeYear), Value: le(2, 2024)}, router.Param{Kind: router.ParamInt, Int: 2024}},
		{Param{Type: uint16(TypeTiny), Value: []byte{0xff}}, router.Param{Kind: router.ParamInt, Int: -1}},
		{Param{Type: uint16(TypeTiny) | ParamUnsigned, Value: []byte{0xff}}, router.Param{Kind: router.ParamInt, Int: 255}},
		{Param{Type: uint16(TypeVarString), Value: []byte("42")}, router.Param{Kind: router.ParamText, Text: "42"}},
		{Param{Type: uint16(TypeString), Value: []byte("abc")}, router.Param{Kind: router.ParamText, Text: "abc"}},
		{Param{Type: uint16(TypeBlob), Value: []byte{1, 2}}, router.Param{Kind: router.ParamText, Text: "\x01\x02"}},
		{Param{Type: uint16(TypeNewDecimal), Value: []byte("1.50")}, router.Param{Kind: router.ParamText, Text: "1.50"}},
		{Param{Type: uint16(TypeVarChar), Value: []byte("v")}, router.Param{Kind: router.ParamText, Text: "v"}},
		{Param{Null: true, Type: uint16(TypeLongLong)}, router.Param{Kind: router.ParamNull}},
		{Param{Type: uint16(TypeNull)}, router.Param{Kind: router.ParamNull}},
		{Param{Type: uint16(TypeDouble), Value: le(8, math.Float64bits(7))}, router.Param{Kind: router.ParamInt, Int: 7}},
		{Param{Type: uint16(TypeDouble), Value: le(8, math.Float64bits(-12345678901))}, router.Param{Kind: router.ParamInt, Int: -12345678901}},
		{Param{Type: uint16(TypeDouble), Value: le(8, math.Float64bits(7.5))}, router.Param{Kind: router.ParamText, Text: "7.5"}},
		{Param{Type: uint16(TypeDouble), Value: le(8, math.Float64bits(1<<63))}, router.Param{Kind: router.ParamText, Text: "9.223372036854776e+18"}},
		{Param{Type: uint16(TypeDouble), Value: le(8, math.Float64bits(-(1 << 63)))}, router.Param{Kind: router.ParamInt, Int: math.MinInt64}},
		{Param{Type: uint16(TypeDouble), Value: le(8, math.Float64bits(math.NaN()))}, router.Param{Kind: router.ParamText, Text: "NaN"}},
		{Param{Type: uint16(TypeFloat), Value: le(4, uint64(math.Float32bits(42)))}, router.Param{Kind: router.ParamInt, Int: 42}},
		{Param{Type: uint16(TypeFloat), Value: le(4, uint64(math.Float32bits(0.25)))}, router.Param{Kind: router.ParamText, Text: "0.25"}},
		{Param{Type: uint16(TypeDouble), Value: le(4, 1)}, router.Param{Kind: router.ParamBytes, Bytes: le(4, 1)}},
		{Param{Type: uint16(TypeDate), Value: []byte{1, 2, 3, 4}}, router.Param{Kind: router.ParamBytes, Bytes: []byte{1, 2, 3, 4}}},
		{Param{Type: uint16(TypeLongLong), Value: []byte{1}}, router.Param{Kind: router.ParamBytes, Bytes: []byte{1}}},
	} {
		got := RouterParam(tc.p)
		if got.Kind != tc.want.Kind || got.Int != tc.want.Int || got.Text != tc.want.Text || !bytes.Equal(got.Bytes, tc.want.Bytes) {
			t.Errorf("RouterParam(%+v) = %+v, want %+v", tc.p, got, tc.want)
		}
	}
}

func TestParseLongData(t *testing.T) {
	p := append([]byte{ComStmtSendLongData}, le(4, 77)...)
	p = append(p, le(2, 3)...)
	id, param, data, err := ParseLongData(append(p, "chunk"...))
	if err != nil || id != 77 || param != 3 || string(data) != "chunk" {
		t.Fatalf("%d %d %q %v", id, param, data, err)
	}
	if _, _, data, err := ParseLongData(p); err != nil || len(data) != 0 {
		t.Fatalf("empty chunk: %q %v", data, err)
	}
	for _, bad := range [][]byte{nil, p[:6], append([]byte{ComStmtExecute}, p[1:]...)} {
		if _, _, _, err := ParseLongData(bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("% x: err = %v", bad, err)
		}
	}
}

// go-sql-driver's prepared statements, as an Acceptor's session would see
// them: every Go type it binds decodes and routes.
func TestStmtExecuteGoSQLDriver(t *testing.T) {
	s := startTestServer(t, acceptConfig(AuthNativePassword, &users{pw: map[string]string{"app": "pw"}}))
	cfg, err := mysql.ParseDSN(fmt.Sprintf("app:pw@tcp(%s)/shop?interpolateParams=false", s.addr))
	if err != nil {
		t.Fatal(err)
	}
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(conn)
	defer db.Close()
	db.SetMaxOpenConns(1)
	stmt, err := db.PrepareContext(t.Context(), "INSERT INTO t VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
	if err != nil {
		t.Fatal(err)
	}
	defer stmt.Close()
	when := time.Date(2024, 1, 2, 3, 4, 5, 600000000, time.UTC)
	for range 2 { // go-sql-driver sends the types every time; twice anyway
		if _, err := stmt.ExecContext(t.Context(), int64(-42), uint64(math.MaxUint64), "héllo", []byte{0, 1}, 2.5, when, nil, true); err != nil {
			t.Fatal(err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.executes) != 2 {
		t.Fatalf("%d executes recorded", len(s.executes))
	}
	ex := s.executes[1]
	want := []router.Param{
		{Kind: router.ParamInt, Int: -42},
		{Kind: router.ParamText, Text: "18446744073709551615"},
		{Kind: router.ParamText, Text: "héllo"},
		{Kind: router.ParamText, Text: "\x00\x01"},
		{Kind: router.ParamText, Text: "2.5"},
		{Kind: router.ParamText, Text: "2024-01-02 03:04:05.6"},
		{Kind: router.ParamNull},
		{Kind: router.ParamInt, Int: 1},
	}
	for i, w := range want {
		got := RouterParam(ex.Params[i])
		if got.Kind != w.Kind || got.Int != w.Int || got.Text != w.Text || !bytes.Equal(got.Bytes, w.Bytes) {
			t.Errorf("param %d (type 0x%x): %+v, want %+v", i, ex.Params[i].Type, got, w)
		}
	}
}
