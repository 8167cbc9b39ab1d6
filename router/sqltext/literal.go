package sqltext

import (
	"strings"
	"unicode/utf8"
)

// pgStringText returns the value of a PostgreSQL string token: its
// content without quotes or prefix, escapes resolved, continued parts
// joined. Escapes PostgreSQL would reject are kept as written.
func pgStringText(raw string) string {
	if raw[0] == '$' {
		tag := raw[:strings.IndexByte(raw[1:], '$')+2]
		return raw[len(tag) : len(raw)-len(tag)]
	}
	flavour, q := pgPlain, 0
	switch raw[0] | 0x20 {
	case 'e':
		flavour, q = pgEscape, 1
	case 'b', 'x':
		flavour, q = pgBits, 1
	case 'n':
		q = 1
	case 'u':
		q = 2
	}
	body := raw[q+1 : len(raw)-1]
	simple := strings.IndexByte(body, '\'') < 0 // one part, no doubled quote
	if simple && (flavour == pgPlain && q != 2 || flavour == pgBits || strings.IndexByte(body, '\\') < 0) {
		return body
	}
	b := make([]byte, 0, len(body))
	for i := q + 1; ; {
		// i is just past the opening quote of a part.
		for i < len(raw) {
			c := raw[i]
			if c == '\'' {
				if flavour != pgBits && i+1 < len(raw) && raw[i+1] == '\'' {
					b = append(b, '\'')
					i += 2
					continue
				}
				break
			}
			if c == '\\' && flavour == pgEscape {
				b, i = appendPGEscape(b, raw, i)
				continue
			}
			if c == '\\' && q == 2 {
				b, i = appendUnicodeEscape(b, raw, i)
				continue
			}
			b = append(b, c)
			i++
		}
		next := pgContinuation(raw, i+1)
		if next < 0 {
			return string(b)
		}
		i = next + 1
	}
}

// appendPGEscape resolves the backslash escape at raw[i] of an E” string.
func appendPGEscape(b []byte, raw string, i int) ([]byte, int) {
	c := raw[i+1]
	switch c {
	case 'b':
		return append(b, '\b'), i + 2
	case 'f':
		return append(b, '\f'), i + 2
	case 'n':
		return append(b, '\n'), i + 2
	case 'r':
		return append(b, '\r'), i + 2
	case 't':
		return append(b, '\t'), i + 2
	case 'x':
		v, j := hexValue(raw, i+2, 2)
		if j == i+2 {
			return append(b, 'x'), i + 2
		}
		return append(b, byte(v)), j
	case 'u', 'U':
		width := 4
		if c == 'U' {
			width = 8
		}
		return appendCodePoint(b, raw, i, i+2, width)
	}
	if isOct(c) {
		v, j := 0, i+1
		for j < i+4 && j < len(raw) && isOct(raw[j]) {
			v = v*8 + int(raw[j]-'0')
			j++
		}
		return append(b, byte(v)), j
	}
	return append(b, c), i + 2
}

// appendUnicodeEscape resolves the escape at raw[i] of a U&” string:
// \\, \XXXX or \+XXXXXX.
func appendUnicodeEscape(b []byte, raw string, i int) ([]byte, int) {
	if i+1 < len(raw) && raw[i+1] == '\\' {
		return append(b, '\\'), i + 2
	}
	if i+1 < len(raw) && raw[i+1] == '+' {
		return appendCodePoint(b, raw, i, i+2, 6)
	}
	return appendCodePoint(b, raw, i, i+1, 4)
}

// appendCodePoint appends the code point written as width hex digits at
// raw[j] for the escape at raw[i]; a UTF-16 surrogate pair written as two
// escapes is joined. Without the digits the backslash is kept as written.
func appendCodePoint(b []byte, raw string, i, j, width int) ([]byte, int) {
	v, e := hexValue(raw, j, width)
	if e-j != width || v > utf8.MaxRune {
		return append(b, raw[i]), i + 1
	}
	r := rune(v)
	if 0xD800 <= r && r < 0xDC00 && e+1 < len(raw) && raw[e] == '\\' {
		k := e + 1 // U&'': \XXXX
		if raw[i+1] == 'u' || raw[i+1] == 'U' {
			k = e + 2 // E'': \uXXXX
		}
		if lo, e2 := hexValue(raw, k, 4); e2-k == 4 && 0xDC00 <= lo && lo < 0xE000 && (k == e+1 || raw[e+1] == 'u') {
			return utf8.AppendRune(b, 0x10000+(r-0xD800)<<10+(rune(lo)-0xDC00)), e2
		}
	}
	return utf8.AppendRune(b, r), e
}

// hexValue reads up to width hex digits at raw[i].
func hexValue(raw string, i, width int) (int, int) {
	v, j := 0, i
	for j < i+width && j < len(raw) && isHex(raw[j]) {
		c := raw[j]
		d := int(c - '0')
		if !isDigit(c) {
			d = int(c|0x20-'a') + 10
		}
		v = v*16 + d
		j++
	}
	return v, j
}

// myStringText returns the value of a MySQL string token: without
// quotes, prefix (N, _charset) or escapes. \% and \_ keep their
// backslash, as MySQL does (they are for LIKE patterns).
func myStringText(raw string) string {
	q := 0
	for raw[q] != '\'' && raw[q] != '"' {
		q++
	}
	quote := raw[q]
	body := raw[q+1 : len(raw)-1]
	if strings.IndexByte(body, '\\') < 0 && strings.IndexByte(body, quote) < 0 {
		return body
	}
	b := make([]byte, 0, len(body))
	for i := 0; i < len(body); i++ {
		c := body[i]
		if c == quote { // doubled
			i++
		} else if c == '\\' && i+1 < len(body) {
			i++
			switch c = body[i]; c {
			case '0':
				c = 0
			case 'b':
				c = '\b'
			case 'n':
				c = '\n'
			case 'r':
				c = '\r'
			case 't':
				c = '\t'
			case 'Z':
				c = 0x1a
			case '%', '_':
				b = append(b, '\\')
			}
		}
		b = append(b, c)
	}
	return string(b)
}
