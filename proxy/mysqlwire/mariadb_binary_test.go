package mysqlwire

import (
	"bytes"
	"encoding/binary"
	"math"
	"strconv"
	"testing"
)

// allTypesTable has a column of every common type; its rows hold the
// extremes, zeros, zero dates, negative times and NULLs.
const allTypesTable = `CREATE TABLE bt (
 id INT PRIMARY KEY,
 ti TINYINT, tu TINYINT UNSIGNED, si SMALLINT, su SMALLINT UNSIGNED, mi MEDIUMINT, mu MEDIUMINT UNSIGNED,
 i INT, iu INT UNSIGNED, bi BIGINT, bu BIGINT UNSIGNED, iz INT(6) ZEROFILL, y YEAR,
 f FLOAT, d DOUBLE, df DOUBLE(10,3), ff FLOAT(7,2), de DECIMAL(20,6),
 dt DATE, dtm DATETIME, dtm3 DATETIME(3), ts TIMESTAMP(6) NULL, tm TIME, tm2 TIME(2),
 c CHAR(5), vc VARCHAR(20), tx TEXT, bl BLOB, vb VARBINARY(10), bits BIT(12), en ENUM('a','b'), st SET('x','y'), js JSON
)`

var allTypesRows = []string{
	`(1, -128, 255, -32768, 65535, -8388608, 16777215, -2147483648, 4294967295, -9223372036854775808, 18446744073709551615, 42, 2024,
	  3.14159274, 3.141592653589793, 12.5, 1.25, -12345678901234.123456,
	  '2024-02-29', '2024-12-31 23:59:59', '2000-01-01 00:00:00.123', '2038-01-19 03:14:07.999999', '-838:59:59', '12:34:56.78',
	  'ab', 'héllo wörld', 'text', x'00ff10', x'', b'101010101010', 'b', 'x,y', '{"a": [1, 2]}')`,
	`(2, 127, 0, 32767, 0, 8388607, 0, 2147483647, 0, 9223372036854775807, 0, 0, 0,
	  -1e30, 1e-300, -0.001, 0, 0,
	  '0000-00-00', '0000-00-00 00:00:00', '1999-12-31 23:59:59.000', '1970-01-02 00:00:00.000001', '00:00:00', '-00:00:01.5',
	  '', '', '', '', '', b'0', 'a', '', 'null')`,
	`(3, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 1, 1901,
	  1.5e-7, 1e15, 99999.999, -99.99, 0.000001,
	  '1000-01-01', '1000-01-01 00:00:00', '2024-01-02 03:04:05.6', '1999-01-01 00:00:00', '838:59:59', '100:00:00',
	  'x', 'y', 'z', 'w', 'v', b'111111111111', 'a', 'y', '[]')`,
	`(4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`,
}

// The same SELECT through the text protocol (COM_QUERY) and the binary
// protocol (COM_STMT_EXECUTE): ParseBinaryRow must give the text the
// server itself prints, except FLOAT (see floatfmt.go), and
// AppendBinaryRow must give back the server's bytes.
func testBinaryProtocol(t *testing.T, b *Backend) {
	if _, err := b.Simple("SET time_zone = '+00:00'"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Simple(allTypesTable); err != nil {
		t.Fatal(err)
	}
	for _, r := range allTypesRows {
		if _, err := b.Simple("INSERT INTO bt VALUES " + r); err != nil {
			t.Fatalf("insert: %v", err)
		}
	}
	const q = "SELECT * FROM bt ORDER BY id"
	textCols, textRows, err := b.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	ok, _, _ := prepare(t, b, q)
	binCols, binRows := execute(t, b, ok.StatementID, nil)
	if len(binCols) != len(textCols) || len(binRows) != len(textRows) {
		t.Fatalf("binary: %d columns %d rows; text: %d columns %d rows", len(binCols), len(binRows), len(textCols), len(textRows))
	}
	var dec BinaryRowDecoder
	dec.Cols = binCols
	for i, raw := range binRows {
		got, err := dec.Decode(raw)
		if err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
		for j, c := range binCols {
			want := textRows[i][j]
			switch {
			case (got[j] == nil) != (want == nil):
				t.Errorf("row %d %s: binary %q, text %q (NULL differs)", i, c.Name, got[j], want)
			case c.Type == TypeFloat && c.Decimals >= notFixedDecimals && want != nil:
				// The text protocol rounds FLOAT to 6 significant digits.
				g, _ := strconv.ParseFloat(string(got[j]), 32)
				w, _ := strconv.ParseFloat(string(want), 32)
				if math.Abs(g-w) > 1e-5*math.Abs(w) {
					t.Errorf("row %d %s: binary %q, text %q", i, c.Name, got[j], want)
				} else if !bytes.Equal(got[j], want) {
					t.Logf("FLOAT row %d: binary protocol gives %q, text protocol %q", i, got[j], want)
				}
			case !bytes.Equal(got[j], want):
				t.Errorf("row %d %s (type 0x%02x dec %d): binary %q, text %q", i, c.Name, c.Type, c.Decimals, got[j], want)
			}
		}
		back, err := AppendBinaryRow(nil, binCols, got)
		if err != nil {
			t.Fatalf("row %d: AppendBinaryRow: %v", i, err)
		}
		if !bytes.Equal(back, raw) {
			// Allowed only for DOUBLE(M,D) and FLOAT(M,D): their text has D
			// decimals, and the server's double is not always the one
			// nearest to that decimal (-0.001 is stored 0x...aa00, the
			// nearest double is 0x...a9fc). The text must survive.
			again, err := ParseBinaryRow(back, binCols, nil)
			if err != nil || !rowsEqual([][][]byte{again}, [][][]byte{got}) {
				t.Errorf("row %d: AppendBinaryRow differs from the server's bytes:\n got % x\nwant % x", i, back, raw)
			}
			t.Logf("row %d: re-encoded bytes differ from the server's (fixed-decimals float)", i)
		}
	}

	// Bound parameters of every family select the row they match.
	ok, params, prepCols := prepare(t, b, "SELECT id, ? FROM bt WHERE bi = ? AND bu = ? AND vc = ? AND dtm = ? AND tm = ? AND d = ? AND ti <=> ?")
	if ok.Params != 8 || len(params) != 8 || len(prepCols) != 2 {
		t.Fatalf("prepare: %+v params %d cols %d", ok, len(params), len(prepCols))
	}
	le64 := func(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }
	min64 := int64(math.MinInt64)
	dtm, _ := parseDateTime([]byte("2024-12-31 23:59:59"))
	tm, _ := parseTime([]byte("-838:59:59"))
	cols, rows := execute(t, b, ok.StatementID, []Param{
		{Type: uint16(TypeVarString), Value: []byte("echo")},
		{Type: uint16(TypeLongLong), Value: le64(uint64(min64))},
		{Type: uint16(TypeLongLong) | ParamUnsigned, Value: le64(math.MaxUint64)},
		{Type: uint16(TypeString), Value: []byte("héllo wörld")},
		{Type: uint16(TypeDateTime), Value: dtm.appendBinary(nil)[1:]},
		{Type: uint16(TypeTime), Value: tm.appendBinary(nil)[1:]},
		{Type: uint16(TypeDouble), Value: le64(math.Float64bits(3.141592653589793))},
		{Type: uint16(TypeTiny), Value: []byte{0x80}},
	})
	if len(rows) != 1 {
		t.Fatalf("bound parameters matched %d rows, want 1", len(rows))
	}
	got, err := ParseBinaryRow(rows[0], cols, nil)
	if err != nil || string(got[0]) != "1" || string(got[1]) != "echo" {
		t.Fatalf("row %q, %v", got, err)
	}
	_, rows = execute(t, b, ok.StatementID, []Param{{Null: true}, {Null: true}, {Null: true}, {Null: true},
		{Null: true}, {Null: true}, {Null: true}, {Type: uint16(TypeNull)}})
	if len(rows) != 0 {
		t.Fatalf("NULL parameters matched %d rows", len(rows))
	}
}

// prepare sends COM_STMT_PREPARE and reads the whole answer.
func prepare(t *testing.T, b *Backend, q string) (ok PrepareOK, params, cols []Column) {
	t.Helper()
	b.ResetSequence()
	_ = b.WritePacket(append([]byte{ComStmtPrepare}, q...))
	if err := b.Flush(); err != nil {
		t.Fatal(err)
	}
	p, err := b.ReadPacket()
	if err != nil || IsErr(p) {
		t.Fatalf("prepare: %v %v", err, ParseError(p))
	}
	if ok, err = ParsePrepareOK(p); err != nil {
		t.Fatal(err)
	}
	return ok, readDefs(t, b, int(ok.Params)), readDefs(t, b, int(ok.Columns))
}

// readDefs reads n column definitions and the EOF after them (none when n
// is 0).
func readDefs(t *testing.T, b *Backend, n int) []Column {
	t.Helper()
	if n == 0 {
		return nil
	}
	cols := make([]Column, n)
	for i := range cols {
		p, err := b.ReadPacket()
		if err != nil {
			t.Fatal(err)
		}
		if cols[i], err = ParseColumn(p); err != nil {
			t.Fatal(err)
		}
	}
	if p, err := b.ReadPacket(); err != nil || !IsEOF(p) {
		t.Fatalf("after column definitions: % x %v", p, err)
	}
	return cols
}

// execute sends COM_STMT_EXECUTE and returns the result's columns and
// raw binary rows.
func execute(t *testing.T, b *Backend, id uint32, params []Param) ([]Column, [][]byte) {
	t.Helper()
	b.ResetSequence()
	_ = b.WritePacket(AppendStmtExecute(nil, id, 0, params))
	if err := b.Flush(); err != nil {
		t.Fatal(err)
	}
	p, err := b.ReadPacket()
	switch {
	case err != nil:
		t.Fatal(err)
	case IsErr(p):
		t.Fatalf("execute: %v", ParseError(p))
	case IsOK(p):
		return nil, nil
	}
	n, err := ParseColumnCount(p)
	if err != nil {
		t.Fatal(err)
	}
	cols := readDefs(t, b, n)
	var rows [][]byte
	for {
		p, err := b.ReadPacket()
		switch {
		case err != nil:
			t.Fatal(err)
		case IsEOF(p):
			return cols, rows
		case IsErr(p):
			t.Fatalf("execute rows: %v", ParseError(p))
		}
		rows = append(rows, bytes.Clone(p))
	}
}
