package mysqlwire

import "testing"

// Every parser must refuse bad input with an error: a panic or an
// over-read fails these targets (the Go runtime bounds-checks, so an
// over-read is a panic too).

// FuzzParseStmtExecute decodes arbitrary execute packets for a fuzzed
// parameter count, previous types and long-data set; what decodes must
// survive re-encoding for a backend unchanged.
func FuzzParseStmtExecute(f *testing.F) {
	f.Add(AppendStmtExecute(nil, 1, 0, []Param{{Type: uint16(TypeLongLong), Value: le(8, 42)}, {Type: uint16(TypeVarString), Value: []byte("x")}}), uint8(2), []byte{}, uint8(0))
	f.Add(executeUnbound(1, []byte{0}, le(8, 42), []byte{1, 'x'}), uint8(2), []byte{8, 0, 0xfd, 0}, uint8(0))
	f.Add(AppendStmtExecute(nil, 1, 0, []Param{{Type: uint16(TypeDate), Value: []byte{1, 2, 3, 4}}, {Null: true}, {Type: uint16(TypeBlob)}}), uint8(3), []byte{}, uint8(4))
	f.Add([]byte{ComStmtExecute, 1, 0, 0, 0, 0, 1, 0, 0, 0}, uint8(0), []byte{}, uint8(0))
	f.Fuzz(func(t *testing.T, p []byte, n uint8, prev []byte, long uint8) {
		var prevTypes []uint16
		for i := 0; i+1 < len(prev); i += 2 {
			prevTypes = append(prevTypes, uint16(prev[i])|uint16(prev[i+1])<<8)
		}
		var longData map[int][]byte
		for i := range 8 {
			if long&(1<<i) != 0 {
				if longData == nil {
					longData = map[int][]byte{}
				}
				longData[i] = []byte{byte(i)}
			}
		}
		ex, err := ParseStmtExecute(p, int(n), prevTypes, longData)
		if err != nil {
			return
		}
		for _, prm := range ex.Params {
			_ = RouterParam(prm)
		}
		again, err := ParseStmtExecute(AppendStmtExecute(nil, ex.StatementID, ex.Flags, ex.Params), int(n), nil, nil)
		if err != nil {
			t.Fatalf("re-encoded execute does not parse: %v", err)
		}
		if again.StatementID != ex.StatementID || !paramsEqual(again.Params, ex.Params) {
			t.Fatalf("re-encoding changed the parameters:\n%+v\n%+v", ex.Params, again.Params)
		}
	})
}

// fuzzTypes are the column types FuzzParseBinaryRow draws from.
var fuzzTypes = []byte{TypeTiny, TypeShort, TypeInt24, TypeLong, TypeLongLong, TypeYear, TypeFloat, TypeDouble,
	TypeNull, TypeDate, TypeDateTime, TypeTimestamp, TypeTime, TypeNewDecimal, TypeVarString, TypeBlob, TypeBit, TypeJSON}

// FuzzParseBinaryRow decodes arbitrary rows for fuzzed columns (3 bytes
// each: type index, flags, decimals). A decoded row's text, encoded and
// decoded again, must be the same text.
func FuzzParseBinaryRow(f *testing.F) {
	cols := []Column{{Type: TypeLong}, {Type: TypeVarString}, {Type: TypeDateTime, Decimals: 3}, {Type: TypeTime}, {Type: TypeDouble, Decimals: 31}}
	row, _ := AppendBinaryRow(nil, cols, [][]byte{[]byte("-7"), nil, []byte("2024-01-02 03:04:05.123"), []byte("-838:59:59"), []byte("1e-300")})
	f.Add(row, []byte{3, 0, 0, 14, 0, 0, 10, 0, 3, 12, 0, 0, 7, 0, 31})
	f.Add([]byte{0, 0, 5, 0xff}, []byte{4, 0x60, 0})
	f.Add([]byte{0, 0, 0, 0, 0, 0x80, 0x7f}, []byte{6, 0, 31})
	f.Fuzz(func(t *testing.T, p, spec []byte) {
		var cols []Column
		for i := 0; i+2 < len(spec) && len(cols) < 64; i += 3 {
			cols = append(cols, Column{Type: fuzzTypes[int(spec[i])%len(fuzzTypes)], Flags: uint16(spec[i+1]), Length: uint32(spec[i+1] % 16), Decimals: spec[i+2]})
		}
		text, err := ParseBinaryRow(p, cols, nil)
		if err != nil {
			return
		}
		bin, err := AppendBinaryRow(nil, cols, text)
		if err != nil {
			return // binary values with no text form (month 13, day 200): refused, not mangled
		}
		again, err := ParseBinaryRow(bin, cols, nil)
		if err != nil || !rowsEqual([][][]byte{again}, [][][]byte{text}) {
			t.Fatalf("text %q -> % x -> %q, %v", text, bin, again, err)
		}
	})
}

// FuzzReadPacket reads arbitrary streams with a small MaxPacket.
func FuzzReadPacket(f *testing.F) {
	f.Add(frame(0, []byte{ComQuery, 'x'}, []byte{}))
	f.Add([]byte{0xff, 0xff, 0xff, 0, 1, 2})
	f.Fuzz(func(t *testing.T, in []byte) {
		c, _ := newBufConn(in)
		c.MaxPacket = 1 << 16
		for range 100 {
			p, err := c.ReadPacket()
			if err != nil {
				return
			}
			if len(p) > c.MaxPacket {
				t.Fatalf("payload of %d bytes past MaxPacket", len(p))
			}
		}
	})
}

// FuzzPackets feeds one payload to every other parser.
func FuzzPackets(f *testing.F) {
	f.Add(AppendOK(nil, OK{AffectedRows: 1, Info: "x"}))
	f.Add(AppendEOF(nil, 1, 2))
	f.Add(AppendError(nil, &Error{Code: 1, State: "HY000", Message: "m"}))
	f.Add(AppendColumn(nil, Column{Name: "n", Type: TypeLong}))
	f.Add(AppendTextRow(nil, [][]byte{[]byte("a"), nil}))
	f.Add(AppendPrepareOK(nil, PrepareOK{StatementID: 1, Params: 1}))
	f.Add(append([]byte{10}, "8.0.36\x00\x01\x00\x00\x00abcdefgh\x00\xff\xff\x2d\x02\x00\xff\xff\x15\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00ijklmnopqrst\x00caching_sha2_password\x00"...))
	f.Fuzz(func(t *testing.T, p []byte) {
		if ok, err := ParseOK(p); err == nil {
			if back, err := ParseOK(AppendOK(nil, ok)); err != nil || back.AffectedRows != ok.AffectedRows || back.Status&^StatusSessionStateChanged != ok.Status&^StatusSessionStateChanged {
				t.Fatalf("OK %+v -> %+v %v", ok, back, err)
			}
		}
		_, _, _ = ParseEOF(p)
		if e := ParseError(p); e == nil {
			t.Fatal("ParseError returned nil")
		}
		if c, err := ParseColumn(p); err == nil {
			if back, err := ParseColumn(AppendColumn(nil, c)); err != nil || (back != c && c.Catalog != "") {
				t.Fatalf("column %+v -> %+v %v", c, back, err)
			}
		}
		_, _ = ParseColumnCount(p)
		for n := range 4 {
			if row, err := ParseTextRow(p, n, nil); err == nil {
				// Lengths may come back shorter (0xfd 00 00 00 is 0): compare values.
				again, err := ParseTextRow(AppendTextRow(nil, row), n, nil)
				if err != nil || !rowsEqual([][][]byte{again}, [][][]byte{row}) {
					t.Fatalf("text row % x: %q -> %q, %v", p, row, again, err)
				}
			}
		}
		_, _ = ParsePrepareOK(p)
		_, _, _, _ = ParseLongData(p)
		_, _ = parseHandshakeV10(p)
		_, _, _, _ = ReadLenEncString(p)
	})
}
