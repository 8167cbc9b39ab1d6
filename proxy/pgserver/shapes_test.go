package pgserver

import (
	"testing"

	"github.com/shardgate/shardgate/router/sqltext"
)

func TestLiteralType(t *testing.T) {
	num := func(text string) sqltext.Slot { return sqltext.Slot{Lit: sqltext.Literal{Text: text}, Raw: text} }
	str := func(raw, text string) sqltext.Slot {
		return sqltext.Slot{Lit: sqltext.Literal{Text: text, String: true}, Raw: raw}
	}
	for _, c := range []struct {
		slot sqltext.Slot
		oid  uint32
		ok   bool
	}{
		{num("42"), oidInt4, true},
		{num("-5"), oidInt4, true},
		{num("2147483647"), oidInt4, true},
		{num("-2147483648"), oidInt4, true}, // PostgreSQL folds the minus: int4
		{num("2147483648"), oidInt8, true},
		{num("-9223372036854775808"), oidInt8, true},
		{num("9223372036854775808"), oidNumeric, true},
		{num("1.5"), oidNumeric, true},
		{num(".5"), oidNumeric, true},
		{num("1e3"), oidNumeric, true},
		{num("0x1F"), 0, false}, // PostgreSQL 16 syntax: the server decides
		{num("1_000"), 0, false},
		{str("'abc'", "abc"), oidUnspecified, true},
		{str("'it''s'", "it's"), oidUnspecified, true},
		{str("$$x$$", "x"), oidUnspecified, true},
		{str("$t$x$t$", "x"), oidUnspecified, true},
		{str(`E'a\nb'`, "a\nb"), 0, false},
		{str("B'101'", "101"), 0, false},
		{str("X'1F'", "1F"), 0, false},
		{str("N'abc'", "abc"), 0, false},
		{str("U&'d\\0061t'", "dat"), 0, false},
		{sqltext.Slot{Param: 1, Raw: "$1"}, 0, false},
		{sqltext.Slot{Lit: sqltext.Literal{Null: true}, Raw: "NULL"}, 0, false},
	} {
		oid, ok := literalType(c.slot)
		if oid != c.oid || ok != c.ok {
			t.Errorf("literalType(%q) = %d, %v; want %d, %v", c.slot.Raw, oid, ok, c.oid, c.ok)
		}
	}
}
