package mysqlwire

import (
	"encoding/binary"
	"fmt"

	"github.com/shardgate/shardgate/proxy/merge"
)

// Column is a column definition (Protocol::ColumnDefinition41).
type Column struct {
	Catalog, Schema, Table, OrgTable, Name, OrgName string
	Charset                                         uint16 // collation id; 63 is binary
	Length                                          uint32 // display width
	Type                                            byte
	Flags                                           uint16
	Decimals                                        byte
}

// ParseColumnCount decodes the first packet of a result set: the number of
// columns. Zero, NULL and anything that does not fill the packet exactly
// are malformed (that first packet can also be OK, ERR or a LOCAL INFILE
// request: test those first).
func ParseColumnCount(p []byte) (int, error) {
	v, null, n, err := ReadLenEncInt(p)
	switch {
	case err != nil:
		return 0, err
	case null || n != len(p):
		return 0, fmt.Errorf("%w: column count packet of %d bytes", ErrMalformed, len(p))
	case v == 0 || v > 4096:
		// MySQL tables have at most 4096 columns; a result set no more.
		return 0, fmt.Errorf("%w: column count %d", ErrMalformed, v)
	}
	return int(v), nil
}

// ParseColumn decodes a column definition. Bytes after the fixed fields
// (COM_FIELD_LIST's default value) are ignored.
func ParseColumn(p []byte) (Column, error) {
	r := reader{b: p, what: "column definition"}
	var c Column
	c.Catalog = string(r.lenEncString())
	c.Schema = string(r.lenEncString())
	c.Table = string(r.lenEncString())
	c.OrgTable = string(r.lenEncString())
	c.Name = string(r.lenEncString())
	c.OrgName = string(r.lenEncString())
	if fixed := r.lenEncInt(); r.err == nil && fixed < 12 {
		r.fail("fixed-length fields of %d bytes", fixed)
	}
	c.Charset = r.u16()
	c.Length = r.u32()
	c.Type = r.u8()
	c.Flags = r.u16()
	c.Decimals = r.u8()
	return c, r.err
}

// AppendColumn appends a column definition's payload.
func AppendColumn(dst []byte, c Column) []byte {
	catalog := c.Catalog
	if catalog == "" {
		catalog = "def" // what every server sends
	}
	dst = appendLenEncStr(dst, catalog)
	dst = appendLenEncStr(dst, c.Schema)
	dst = appendLenEncStr(dst, c.Table)
	dst = appendLenEncStr(dst, c.OrgTable)
	dst = appendLenEncStr(dst, c.Name)
	dst = appendLenEncStr(dst, c.OrgName)
	dst = append(dst, 0x0c)
	dst = binary.LittleEndian.AppendUint16(dst, c.Charset)
	dst = binary.LittleEndian.AppendUint32(dst, c.Length)
	dst = append(dst, c.Type)
	dst = binary.LittleEndian.AppendUint16(dst, c.Flags)
	return append(dst, c.Decimals, 0, 0)
}

// MergeType says how the merge compares and adds this column's text
// values. FLOAT is merge.Float, not merge.Float32: MySQL prints a FLOAT
// column with at most 6 significant digits, and a sum of FLOATs is a
// DOUBLE in MySQL anyway, so float32 arithmetic would print digits MySQL
// never shows. Dates and times compare correctly as bytes (fixed-width
// ISO text); BIT is raw bytes.
func (c Column) MergeType() merge.Type {
	switch c.Type {
	case TypeTiny, TypeShort, TypeInt24, TypeLong, TypeLongLong, TypeYear:
		if c.Flags&FlagUnsigned != 0 {
			return merge.Uint
		}
		return merge.Int
	case TypeDecimal, TypeNewDecimal:
		return merge.Decimal
	case TypeFloat, TypeDouble:
		return merge.Float
	case TypeTime:
		return merge.Time
	}
	return merge.Bytes
}
