package mysqlwire

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"

	"github.com/shardgate/shardgate/router"
)

// PrepareOK is the first packet of a successful COM_STMT_PREPARE answer.
// Params parameter definitions (then an EOF) and Columns column
// definitions (then an EOF) follow it, each group only when not empty.
type PrepareOK struct {
	StatementID     uint32
	Columns, Params uint16
	Warnings        uint16
}

// ParsePrepareOK decodes COM_STMT_PREPARE_OK.
func ParsePrepareOK(p []byte) (PrepareOK, error) {
	r := reader{b: p, what: "COM_STMT_PREPARE_OK"}
	if h := r.u8(); r.err == nil && h != headerOK {
		r.fail("header 0x%02x", h)
	}
	var ok PrepareOK
	ok.StatementID = r.u32()
	ok.Columns = r.u16()
	ok.Params = r.u16()
	r.u8() // filler
	if r.left() >= 2 {
		ok.Warnings = r.u16()
	}
	return ok, r.err
}

// AppendPrepareOK appends a COM_STMT_PREPARE_OK payload.
func AppendPrepareOK(dst []byte, ok PrepareOK) []byte {
	dst = append(dst, headerOK)
	dst = binary.LittleEndian.AppendUint32(dst, ok.StatementID)
	dst = binary.LittleEndian.AppendUint16(dst, ok.Columns)
	dst = binary.LittleEndian.AppendUint16(dst, ok.Params)
	dst = append(dst, 0)
	return binary.LittleEndian.AppendUint16(dst, ok.Warnings)
}

// Param is one bound parameter of COM_STMT_EXECUTE.
type Param struct {
	// Type is the type byte, | ParamUnsigned for an unsigned integer.
	Type uint16
	Null bool
	// Value is the value's wire bytes: little-endian for numbers, the
	// bytes after the length byte for temporals, the bytes after the
	// length prefix for strings. It aliases the packet (or long data).
	Value []byte
}

// StmtExecute is a decoded COM_STMT_EXECUTE.
type StmtExecute struct {
	StatementID uint32
	Flags       byte // cursor type
	Params      []Param
}

// Types lists the parameter types, for the next execute's prevTypes.
func (s StmtExecute) Types() []uint16 {
	t := make([]uint16, len(s.Params))
	for i, p := range s.Params {
		t[i] = p.Type
	}
	return t
}

// ParseStmtExecute decodes COM_STMT_EXECUTE (payload starting with 0x17)
// for a statement of numParams parameters.
//
// When the new-params-bound flag is 0 the packet carries no types: the
// values are of the types of the previous execute of the statement,
// prevTypes (libmariadb, libmysqlclient, Connector/J and sysbench send 0
// on every execute after the first; go-mysql's own server turns such
// values into NULLs, which would silently misroute). Without prevTypes
// that is an error.
//
// longData holds the COM_STMT_SEND_LONG_DATA bytes per parameter index:
// such a parameter takes that value, whatever its NULL bit says, and has
// nothing in the value area. If its declared type is not a string type
// it becomes TypeBlob (what the server makes of long data), so that the
// value can be re-encoded inline for a backend.
// Bytes after the last value are ignored, as the server does.
func ParseStmtExecute(p []byte, numParams int, prevTypes []uint16, longData map[int][]byte) (StmtExecute, error) {
	r := reader{b: p, what: "COM_STMT_EXECUTE"}
	if c := r.u8(); r.err == nil && c != ComStmtExecute {
		r.fail("command 0x%02x", c)
	}
	var s StmtExecute
	s.StatementID = r.u32()
	s.Flags = r.u8()
	r.u32() // iteration count: always 1
	if r.err != nil || numParams == 0 {
		return s, r.err
	}
	if numParams < 0 || numParams > 0xffff {
		return s, fmt.Errorf("mysqlwire: COM_STMT_EXECUTE for %d parameters", numParams)
	}
	nulls := r.bytes((numParams + 7) / 8)
	bound := r.u8()
	var types []byte
	switch {
	case r.err != nil:
		return s, r.err
	case bound == 1:
		types = r.bytes(2 * numParams)
		if r.err != nil {
			return s, r.err
		}
	case bound != 0:
		return s, fmt.Errorf("%w: COM_STMT_EXECUTE new-params-bound flag %d", ErrMalformed, bound)
	case len(prevTypes) != numParams:
		return s, fmt.Errorf("%w: COM_STMT_EXECUTE without parameter types, and %d types known for %d parameters",
			ErrProtocol, len(prevTypes), numParams)
	}
	s.Params = make([]Param, numParams)
	for i := range s.Params {
		prm := &s.Params[i]
		if types != nil {
			prm.Type = uint16(types[2*i]) | uint16(types[2*i+1]&0x80)<<8
		} else {
			prm.Type = prevTypes[i] & (0xff | ParamUnsigned)
		}
		if data, ok := longData[i]; ok {
			if !knownLenEncType(byte(prm.Type)) {
				prm.Type = uint16(TypeBlob)
			}
			prm.Value = data
			if prm.Value == nil {
				prm.Value = []byte{}
			}
			continue
		}
		if nulls[i/8]&(1<<(i%8)) != 0 || byte(prm.Type) == TypeNull {
			prm.Null = true
			continue
		}
		var err error
		prm.Value, err = readParamValue(&r, byte(prm.Type))
		if err != nil {
			return s, fmt.Errorf("COM_STMT_EXECUTE parameter %d (type 0x%02x): %w", i, byte(prm.Type), err)
		}
	}
	return s, nil
}

// readParamValue reads one value of type t from r.
func readParamValue(r *reader, t byte) ([]byte, error) {
	var v []byte
	switch {
	case fixedSize(t) > 0:
		v = r.bytes(fixedSize(t))
	case !lenEncType(t): // temporal: length byte, then the value
		n := int(r.u8())
		v = r.bytes(n)
	case knownLenEncType(t):
		v = r.lenEncString()
		if v == nil && r.err == nil {
			v = []byte{}
		}
	default:
		return nil, fmt.Errorf("%w: parameter type 0x%02x", ErrMalformed, t)
	}
	return v, r.err
}

// knownLenEncType lists the string-like types a client may bind.
func knownLenEncType(t byte) bool {
	switch t {
	case TypeDecimal, TypeNewDecimal, TypeVarChar, TypeBit, TypeJSON, TypeEnum, TypeSet,
		TypeTinyBlob, TypeMediumBlob, TypeLongBlob, TypeBlob, TypeVarString, TypeString, TypeGeometry:
		return true
	}
	return false
}

// AppendStmtExecute encodes COM_STMT_EXECUTE for a backend: always with
// new-params-bound = 1 and the types, so the backend never depends on
// what an earlier execute on some other connection bound.
func AppendStmtExecute(dst []byte, stmtID uint32, flags byte, params []Param) []byte {
	dst = append(dst, ComStmtExecute)
	dst = binary.LittleEndian.AppendUint32(dst, stmtID)
	dst = append(dst, flags)
	dst = binary.LittleEndian.AppendUint32(dst, 1)
	if len(params) == 0 {
		return dst
	}
	nullAt := len(dst)
	for range (len(params) + 7) / 8 {
		dst = append(dst, 0)
	}
	dst = append(dst, 1)
	for _, p := range params {
		dst = append(dst, byte(p.Type), byte(p.Type>>8)&0x80)
	}
	for i, p := range params {
		t := byte(p.Type)
		switch {
		case p.Null || t == TypeNull:
			dst[nullAt+i/8] |= 1 << (i % 8)
		case fixedSize(t) > 0:
			dst = append(dst, p.Value...)
		case !lenEncType(t):
			dst = append(dst, byte(len(p.Value)))
			dst = append(dst, p.Value...)
		default:
			dst = AppendLenEncString(dst, p.Value)
		}
	}
	return dst
}

// RouterParam converts a bound value to what the router hashes: integers
// (TINY to LONGLONG and YEAR, sign per ParamUnsigned) are ParamInt, or
// ParamText of the decimal digits for an unsigned value above MaxInt64
// (which an int key then refuses rather than wraps); strings, blobs and
// decimals are ParamText; NULL is ParamNull. A FLOAT or DOUBLE holding a
// whole number in int64's range is ParamInt (mysql2, Node's most used
// driver, binds every JavaScript number as a DOUBLE, keys included), any
// other ParamText of its shortest decimal form, which an int key refuses;
// anything else (temporals, BIT) is ParamBytes of the wire value.
func RouterParam(p Param) router.Param {
	t := byte(p.Type)
	if p.Null || t == TypeNull {
		return router.Param{Kind: router.ParamNull}
	}
	switch t {
	case TypeTiny, TypeShort, TypeYear, TypeInt24, TypeLong, TypeLongLong:
		if len(p.Value) != fixedSize(t) {
			return router.Param{Kind: router.ParamBytes, Bytes: p.Value}
		}
		c := Column{Type: t}
		if p.Type&ParamUnsigned != 0 {
			c.Flags = FlagUnsigned
		}
		var buf [24]byte
		digits := appendNumberText(buf[:0], p.Value, c)
		if n, ok := parseInt(digits); ok {
			return router.Param{Kind: router.ParamInt, Int: n}
		}
		return router.Param{Kind: router.ParamText, Text: string(digits)}
	case TypeFloat, TypeDouble:
		if len(p.Value) != fixedSize(t) {
			return router.Param{Kind: router.ParamBytes, Bytes: p.Value}
		}
		f, bits := float64(math.Float32frombits(binary.LittleEndian.Uint32(p.Value))), 32
		if t == TypeDouble {
			f, bits = math.Float64frombits(binary.LittleEndian.Uint64(p.Value)), 64
		}
		// -2^63 and 2^63 are exact as floats: the range is [-2^63, 2^63).
		if f == math.Trunc(f) && f >= -(1<<63) && f < 1<<63 {
			return router.Param{Kind: router.ParamInt, Int: int64(f)}
		}
		return router.Param{Kind: router.ParamText, Text: strconv.FormatFloat(f, 'g', -1, bits)}
	case TypeDecimal, TypeNewDecimal, TypeVarChar, TypeJSON, TypeEnum, TypeSet,
		TypeTinyBlob, TypeMediumBlob, TypeLongBlob, TypeBlob, TypeVarString, TypeString:
		return router.Param{Kind: router.ParamText, Text: string(p.Value)}
	}
	return router.Param{Kind: router.ParamBytes, Bytes: p.Value}
}

// ParseLongData decodes COM_STMT_SEND_LONG_DATA (0x18): statement id,
// parameter index and a chunk of its value (aliasing p). The server
// answers nothing; chunks of one parameter are concatenated.
func ParseLongData(p []byte) (stmtID uint32, param int, data []byte, err error) {
	r := reader{b: p, what: "COM_STMT_SEND_LONG_DATA"}
	if c := r.u8(); r.err == nil && c != ComStmtSendLongData {
		r.fail("command 0x%02x", c)
	}
	stmtID = r.u32()
	param = int(r.u16())
	data = r.rest()
	return stmtID, param, data, r.err
}
