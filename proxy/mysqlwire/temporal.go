package mysqlwire

import "encoding/binary"

// dateTime is a binary DATE, DATETIME or TIMESTAMP value.
type dateTime struct {
	year       uint16
	month, day uint8
	h, m, s    uint8
	micro      uint32
}

// appendText writes d as the text protocol shows a value of column c:
// DATE without a time, the others with c.Decimals fractional digits.
func (d dateTime) appendText(dst []byte, c Column) []byte {
	dst = appendPadded(dst, uint64(d.year), 4)
	dst = append(dst, '-')
	dst = appendPadded(dst, uint64(d.month), 2)
	dst = append(dst, '-')
	dst = appendPadded(dst, uint64(d.day), 2)
	if c.Type == TypeDate || c.Type == TypeNewDate {
		return dst
	}
	dst = append(dst, ' ')
	dst = appendClock(dst, uint64(d.h), d.m, d.s)
	return appendFraction(dst, d.micro, c.Decimals)
}

// appendBinary writes d in its shortest binary form (length byte first):
// 0 bytes for the zero date, 4 without a time, 7 without microseconds.
func (d dateTime) appendBinary(dst []byte) []byte {
	switch {
	case d == dateTime{}:
		return append(dst, 0)
	case d.h == 0 && d.m == 0 && d.s == 0 && d.micro == 0:
		dst = append(dst, 4)
	case d.micro == 0:
		dst = append(dst, 7)
	default:
		dst = append(dst, 11)
	}
	l := dst[len(dst)-1]
	dst = binary.LittleEndian.AppendUint16(dst, d.year)
	dst = append(dst, d.month, d.day)
	if l >= 7 {
		dst = append(dst, d.h, d.m, d.s)
	}
	if l == 11 {
		dst = binary.LittleEndian.AppendUint32(dst, d.micro)
	}
	return dst
}

// timeVal is a binary TIME value: a signed duration.
type timeVal struct {
	neg     bool
	days    uint32
	h, m, s uint8
	micro   uint32
}

// appendText writes t as "[-]hh:mm:ss[.ffffff]", hours including days.
func (t timeVal) appendText(dst []byte, decimals byte) []byte {
	if t.neg {
		dst = append(dst, '-')
	}
	dst = appendClock(dst, uint64(t.days)*24+uint64(t.h), t.m, t.s)
	return appendFraction(dst, t.micro, decimals)
}

// appendBinary writes t in its shortest binary form (length byte first).
func (t timeVal) appendBinary(dst []byte) []byte {
	switch {
	case t == timeVal{}:
		return append(dst, 0)
	case t.micro == 0:
		dst = append(dst, 8)
	default:
		dst = append(dst, 12)
	}
	neg := byte(0)
	if t.neg {
		neg = 1
	}
	dst = append(dst, neg)
	dst = binary.LittleEndian.AppendUint32(dst, t.days)
	dst = append(dst, t.h, t.m, t.s)
	if t.micro != 0 {
		dst = binary.LittleEndian.AppendUint32(dst, t.micro)
	}
	return dst
}

func appendClock(dst []byte, h uint64, m, s uint8) []byte {
	dst = appendPadded(dst, h, 2)
	dst = append(dst, ':')
	dst = appendPadded(dst, uint64(m), 2)
	dst = append(dst, ':')
	return appendPadded(dst, uint64(s), 2)
}

// appendFraction writes decimals (1..6) fractional digits of micro; with
// no fixed decimals (31 and up) all 6, and only when micro is not 0.
func appendFraction(dst []byte, micro uint32, decimals byte) []byte {
	n := int(decimals)
	if decimals >= notFixedDecimals {
		if micro == 0 {
			return dst
		}
		n = 6
	}
	if n == 0 {
		return dst
	}
	n = min(n, 6)
	var digits [6]byte
	for i := 5; i >= 0; i-- {
		digits[i] = byte('0' + micro%10)
		micro /= 10
	}
	dst = append(dst, '.')
	return append(dst, digits[:n]...)
}

// appendPadded writes v in decimal with at least width digits.
func appendPadded(dst []byte, v uint64, width int) []byte {
	var buf [20]byte
	i := len(buf)
	for v > 0 || len(buf)-i < width {
		i--
		buf[i] = byte('0' + v%10)
		v /= 10
	}
	return append(dst, buf[i:]...)
}

// parseDateTime reads "YYYY-MM-DD[ hh:mm:ss[.f{1,6}]]".
func parseDateTime(v []byte) (dateTime, bool) {
	var d dateTime
	p := textScanner{b: v}
	y, mo, da := p.digits(4), p.sep('-').digits(2), p.sep('-').digits(2)
	d.year, d.month, d.day = uint16(y), uint8(mo), uint8(da)
	if p.more() {
		h, m, s := p.sep(' ').digits(2), p.sep(':').digits(2), p.sep(':').digits(2)
		d.h, d.m, d.s = uint8(h), uint8(m), uint8(s)
		d.micro = p.fraction()
	}
	return d, !p.bad && !p.more() && d.month <= 12 && d.day <= 31 && d.h < 24 && d.m < 60 && d.s < 60
}

// parseTime reads "[-]h+:mm:ss[.f{1,6}]".
func parseTime(v []byte) (timeVal, bool) {
	var t timeVal
	p := textScanner{b: v}
	if p.more() && v[0] == '-' {
		t.neg = true
		p.pos++
	}
	h := p.hours()
	m, s := p.sep(':').digits(2), p.sep(':').digits(2)
	t.days, t.h, t.m, t.s = uint32(h/24), uint8(h%24), uint8(m), uint8(s)
	t.micro = p.fraction()
	return t, !p.bad && !p.more() && m < 60 && s < 60
}

// textScanner reads fixed-layout digits; the first failure sticks.
type textScanner struct {
	b   []byte
	pos int
	bad bool
}

func (p *textScanner) more() bool { return p.pos < len(p.b) }

func (p *textScanner) sep(c byte) *textScanner {
	if p.pos < len(p.b) && p.b[p.pos] == c {
		p.pos++
	} else {
		p.bad = true
	}
	return p
}

// digits reads exactly n digits.
func (p *textScanner) digits(n int) uint64 {
	var v uint64
	for range n {
		if p.pos >= len(p.b) || p.b[p.pos] < '0' || p.b[p.pos] > '9' {
			p.bad = true
			return 0
		}
		v = v*10 + uint64(p.b[p.pos]-'0')
		p.pos++
	}
	return v
}

// hours reads 2 to 10 digits of TIME hours (which may exceed 24).
func (p *textScanner) hours() uint64 {
	start := p.pos
	var v uint64
	for p.pos < len(p.b) && p.b[p.pos] >= '0' && p.b[p.pos] <= '9' && p.pos-start < 10 {
		v = v*10 + uint64(p.b[p.pos]-'0')
		p.pos++
	}
	if p.pos-start < 2 || v/24 > 0xffffffff {
		p.bad = true
	}
	return v
}

// fraction reads an optional ".f{1,6}" as microseconds.
func (p *textScanner) fraction() uint32 {
	if !p.more() || p.b[p.pos] != '.' {
		return 0
	}
	p.pos++
	var micro uint32
	n := 0
	for p.pos < len(p.b) && p.b[p.pos] >= '0' && p.b[p.pos] <= '9' && n < 6 {
		micro = micro*10 + uint32(p.b[p.pos]-'0')
		p.pos++
		n++
	}
	if n == 0 {
		p.bad = true
	}
	for ; n < 6; n++ {
		micro *= 10
	}
	return micro
}
