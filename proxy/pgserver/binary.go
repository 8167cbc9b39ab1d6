package pgserver

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
)

// A merged fan-out asks its shards for text (the merge compares and adds
// text values) and encodes each column the way the client asked. These
// are the binary encodings of the types drivers commonly request in
// binary (pgx does for most built-ins); others are refused clearly.

const (
	oidBytea       = 17
	oidName        = 19
	oidJSON        = 114
	oidBPChar      = 1042
	oidDate        = 1082
	oidTimestamp   = 1114
	oidTimestamptz = 1184
	oidJSONB       = 3802
	oidUnknown     = 705
)

var pgEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// textToBinary encodes one text-format value in binary format.
func textToBinary(oid uint32, v []byte) ([]byte, error) {
	s := string(v)
	switch oid {
	case oidText, oidVarchar, oidBPChar, oidName, oidJSON, oidUnknown:
		return v, nil
	case oidJSONB:
		return append([]byte{1}, v...), nil
	case oidBool:
		return []byte{map[bool]byte{true: 1, false: 0}[s == "t" || s == "true"]}, nil
	case oidInt2, oidInt4, oidInt8, oidOID:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, err
		}
		switch oid {
		case oidInt2:
			return binary.BigEndian.AppendUint16(nil, uint16(n)), nil
		case oidInt4, oidOID:
			return binary.BigEndian.AppendUint32(nil, uint32(n)), nil
		}
		return binary.BigEndian.AppendUint64(nil, uint64(n)), nil
	case oidFloat4, oidFloat8:
		f, err := strconv.ParseFloat(strings.Replace(s, "Infinity", "Inf", 1), 64)
		if err != nil {
			return nil, err
		}
		if oid == oidFloat4 {
			return binary.BigEndian.AppendUint32(nil, math.Float32bits(float32(f))), nil
		}
		return binary.BigEndian.AppendUint64(nil, math.Float64bits(f)), nil
	case oidUUID:
		b, err := hex.DecodeString(strings.ReplaceAll(s, "-", ""))
		if err != nil || len(b) != 16 {
			return nil, fmt.Errorf("bad uuid %q", s)
		}
		return b, nil
	case oidBytea:
		if h, ok := strings.CutPrefix(s, `\x`); ok {
			return hex.DecodeString(h)
		}
		return nil, fmt.Errorf("bytea not in hex format")
	case oidDate:
		t, err := time.Parse("2006-01-02", s)
		if err != nil {
			return nil, err
		}
		days := int32(t.Sub(pgEpoch).Hours() / 24)
		return binary.BigEndian.AppendUint32(nil, uint32(days)), nil
	case oidTimestamp, oidTimestamptz:
		t, err := parseTimestamp(s, oid == oidTimestamptz)
		if err != nil {
			return nil, err
		}
		us := t.Sub(pgEpoch).Microseconds()
		return binary.BigEndian.AppendUint64(nil, uint64(us)), nil
	case oidNumeric:
		return numericBinary(s)
	}
	return nil, fmt.Errorf("no binary encoding for type oid %d", oid)
}

// parseTimestamp reads PostgreSQL's ISO output ("2024-01-02 03:04:05.123456"
// with "+00"/"+05:30" for timestamptz).
func parseTimestamp(s string, tz bool) (time.Time, error) {
	layout := "2006-01-02 15:04:05.999999"
	if tz {
		for _, l := range []string{layout + "-07", layout + "-07:00", layout + "-07:00:00"} {
			if t, err := time.Parse(l, s); err == nil {
				return t, nil
			}
		}
		return time.Time{}, fmt.Errorf("bad timestamptz %q", s)
	}
	return time.Parse(layout, s)
}

// numericBinary encodes a decimal text as PostgreSQL's binary numeric:
// ndigits, weight, sign, dscale, then base-10000 digits.
func numericBinary(s string) ([]byte, error) {
	if s == "NaN" {
		return []byte{0, 0, 0, 0, 0xC0, 0, 0, 0}, nil
	}
	sign := uint16(0)
	if strings.HasPrefix(s, "-") {
		sign, s = 0x4000, s[1:]
	}
	intPart, frac, _ := strings.Cut(s, ".")
	if _, ok := new(big.Int).SetString(intPart+frac, 10); !ok {
		return nil, fmt.Errorf("bad numeric %q", s)
	}
	dscale := len(frac)
	// Pad to whole base-10000 groups on both sides of the point.
	intPart = strings.Repeat("0", (4-len(intPart)%4)%4) + intPart
	frac += strings.Repeat("0", (4-len(frac)%4)%4)
	all := intPart + frac
	var digits []uint16
	for i := 0; i < len(all); i += 4 {
		d, _ := strconv.Atoi(all[i : i+4])
		digits = append(digits, uint16(d))
	}
	weight := len(intPart)/4 - 1
	for len(digits) > 0 && digits[0] == 0 { // leading zero groups
		digits, weight = digits[1:], weight-1
	}
	for len(digits) > 0 && digits[len(digits)-1] == 0 { // trailing zero groups
		digits = digits[:len(digits)-1]
	}
	if len(digits) == 0 {
		weight, sign = 0, 0
	}
	out := binary.BigEndian.AppendUint16(nil, uint16(len(digits)))
	out = binary.BigEndian.AppendUint16(out, uint16(int16(weight)))
	out = binary.BigEndian.AppendUint16(out, sign)
	out = binary.BigEndian.AppendUint16(out, uint16(dscale))
	for _, d := range digits {
		out = binary.BigEndian.AppendUint16(out, d)
	}
	return out, nil
}

// numericText decodes PostgreSQL's binary numeric into its text, with
// dscale fraction digits as the server prints it.
func numericText(b []byte) (string, bool) {
	if len(b) < 8 {
		return "", false
	}
	n := int(binary.BigEndian.Uint16(b))
	weight := int(int16(binary.BigEndian.Uint16(b[2:])))
	sign := binary.BigEndian.Uint16(b[4:])
	dscale := int(binary.BigEndian.Uint16(b[6:]))
	if len(b) != 8+2*n || dscale > 1000 {
		return "", false
	}
	switch sign {
	case 0xC000:
		return "NaN", true
	case 0xD000:
		return "Infinity", true
	case 0xF000:
		return "-Infinity", true
	case 0, 0x4000:
	default:
		return "", false
	}
	// Digits as base-10 text, the point after group weight.
	var sb strings.Builder
	for i := 0; i < n; i++ {
		d := binary.BigEndian.Uint16(b[8+2*i:])
		if d > 9999 {
			return "", false
		}
		fmt.Fprintf(&sb, "%04d", d)
	}
	all := sb.String()
	point := 4 * (weight + 1) // digits before the point
	switch {
	case point <= 0:
		all = strings.Repeat("0", -point) + all
		point = 0
	case point > len(all):
		all += strings.Repeat("0", point-len(all))
	}
	intPart := strings.TrimLeft(all[:point], "0")
	if intPart == "" {
		intPart = "0"
	}
	frac := all[point:]
	if len(frac) < dscale {
		frac += strings.Repeat("0", dscale-len(frac))
	}
	frac = frac[:dscale]
	out := intPart
	if dscale > 0 {
		out += "." + frac
	}
	if sign == 0x4000 && strings.Trim(out, "0.") != "" {
		out = "-" + out
	}
	return out, true
}
