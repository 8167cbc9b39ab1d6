package sqltext

import "strings"

// PostgreSQL lexical rules, after src/backend/parser/scan.l.

// String flavours: what a backslash and a doubled quote mean inside.
const (
	pgPlain  = iota // '...', N'...', U&'...': '' is a quote, \ is literal
	pgEscape        // E'...': \ escapes, '' is a quote
	pgBits          // B'...', X'...': no escapes at all
)

func (l *lexer) postgres() (TokKind, int, error) {
	s, start := l.src, l.pos
	c := s[start]
	var c1 byte // the byte after c, 0 at the end
	if start+1 < len(s) {
		c1 = s[start+1]
	}
	switch {
	case c == '\'':
		end, err := scanPGString(s, start, pgPlain)
		return TokString, end, err
	case c == '"':
		end, err := scanDoubled(s, start, "quoted identifier")
		return TokQuotedIdent, end, err
	case c == '$':
		return pgDollar(s, start)
	case c == '.':
		if isDigit(c1) {
			return TokNumber, pgNumber(s, start), nil
		}
		if c1 == '.' { // PL/pgSQL's range "1..10"
			return TokOp, start + 2, nil
		}
		return TokPunct, start + 1, nil
	case isDigit(c):
		return TokNumber, pgNumber(s, start), nil
	case isIdentStart(c):
		return pgWord(s, start)
	case c == ':':
		if c1 == ':' || c1 == '=' {
			return TokOp, start + 2, nil
		}
		return TokOp, start + 1, nil
	case c == '-' && c1 == '-':
		return TokComment, lineEnd(s, start+2), nil
	case c == '/' && c1 == '*':
		end, err := pgBlockComment(s, start)
		return TokComment, end, err
	case isPGOpChar(c):
		return TokOp, pgOperator(s, start), nil
	}
	return TokOp, start + 1, nil
}

// pgWord lexes an identifier or keyword, or a string whose prefix letter
// starts like one (E”, B”, X”, N”, U&”, U&"").
func pgWord(s string, start int) (TokKind, int, error) {
	if start+1 < len(s) && (s[start+1] == '\'' || s[start+1] == '&') {
		c1 := s[start+1]
		switch s[start] | 0x20 {
		case 'e':
			if c1 == '\'' {
				end, err := scanPGString(s, start+1, pgEscape)
				return TokString, end, err
			}
		case 'b', 'x':
			if c1 == '\'' {
				end, err := scanPGString(s, start+1, pgBits)
				return TokString, end, err
			}
		case 'n':
			if c1 == '\'' {
				end, err := scanPGString(s, start+1, pgPlain)
				return TokString, end, err
			}
		case 'u':
			if c1 == '&' && start+2 < len(s) {
				switch s[start+2] {
				case '\'':
					end, err := scanPGString(s, start+2, pgPlain)
					return TokString, end, err
				case '"':
					end, err := scanDoubled(s, start+2, "quoted identifier")
					return TokQuotedIdent, end, err
				}
			}
		}
	}
	return TokWord, identEnd(s, start+1), nil
}

// scanPGString scans a quoted string whose opening quote is at q, then
// any continuation: PostgreSQL concatenates string constants separated by
// whitespace that includes a newline, and so does this lexer.
func scanPGString(s string, q int, flavour int) (int, error) {
	i := q + 1
	for {
		var k int
		if flavour == pgEscape {
			k = indexByte2(s, i, '\'', '\\')
		} else {
			k = indexByte(s, i, '\'')
		}
		if k < 0 {
			return 0, unterminated("string", q)
		}
		if s[k] == '\\' {
			if k+1 >= len(s) {
				return 0, unterminated("string", q)
			}
			i = k + 2
			continue
		}
		if flavour != pgBits && k+1 < len(s) && s[k+1] == '\'' {
			i = k + 2
			continue
		}
		// Closing quote at k.
		if next := pgContinuation(s, k+1); next >= 0 {
			i = next + 1
			continue
		}
		return k + 1, nil
	}
}

// pgContinuation reports where the next part of a continued string starts
// (the index of its quote) if the text at i is PostgreSQL's
// whitespace_with_newline followed by a quote, else -1: horizontal space
// and -- comments, a newline, then any whitespace and -- comments that end
// in a newline.
func pgContinuation(s string, i int) int {
	n := len(s)
	for i < n {
		c := s[i]
		if c == ' ' || c == '\t' || c == '\f' {
			i++
			continue
		}
		if c == '-' && i+1 < n && s[i+1] == '-' {
			i = lineEnd(s, i+2)
			continue
		}
		break
	}
	if i >= n || (s[i] != '\n' && s[i] != '\r') {
		return -1
	}
	for i < n {
		c := s[i]
		if isSpace(c) {
			i++
			continue
		}
		if c == '-' && i+1 < n && s[i+1] == '-' {
			if i = lineEnd(s, i+2); i >= n {
				return -1
			}
			continue
		}
		break
	}
	if i < n && s[i] == '\'' {
		return i
	}
	return -1
}

// pgDollar lexes what starts with '$': a parameter $n, a dollar-quoted
// string $tag$...$tag$ (the tag cannot start with a digit), or a lone '$'.
func pgDollar(s string, start int) (TokKind, int, error) {
	i := start + 1
	if i < len(s) && isDigit(s[i]) {
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		return TokParam, i, nil
	}
	if i < len(s) && isIdentStart(s[i]) {
		for i < len(s) && isIdentCont(s[i]) && s[i] != '$' {
			i++
		}
	}
	if i >= len(s) || s[i] != '$' {
		return TokOp, start + 1, nil
	}
	delim := s[start : i+1]
	k := strings.Index(s[i+1:], delim)
	if k < 0 {
		return 0, 0, unterminated("dollar-quoted string", start)
	}
	return TokString, i + 1 + k + len(delim), nil
}

// pgNumber lexes a numeric constant at start (a digit, or '.' before a
// digit): 42, 4.2, 4., .5, 1e10, 1.5E-3, 0x1F, 0o17, 0b101, 1_000. What
// PostgreSQL calls trailing junk (12abc) is left to the next token.
func pgNumber(s string, start int) int {
	n := len(s)
	if s[start] == '0' && start+2 < n {
		var class func(byte) bool
		switch s[start+1] | 0x20 {
		case 'x':
			class = isHex
		case 'o':
			class = isOct
		case 'b':
			class = isBin
		}
		if class != nil {
			if e := scanRun(s, start+2, class, true); e > start+2 {
				return e
			}
		}
	}
	i := start
	for i < n && isDigit(s[i]) {
		i++
	}
	if i < n && s[i] == '_' {
		i = scanRun(s, start, isDigit, false)
	}
	// "1..5" is 1 followed by "..", as in PostgreSQL.
	if i < n && s[i] == '.' && (i+1 >= n || s[i+1] != '.') {
		i = scanRun(s, i+1, isDigit, false)
	}
	if i < n && (s[i]|0x20) == 'e' {
		j := i + 1
		if j < n && (s[j] == '+' || s[j] == '-') {
			j++
		}
		if j < n && isDigit(s[j]) {
			i = scanRun(s, j, isDigit, false)
		}
	}
	return i
}

// pgBlockComment scans a /* */ comment, which nests in PostgreSQL.
func pgBlockComment(s string, start int) (int, error) {
	depth := 0
	for i := start; i+1 < len(s); {
		k := indexByte2(s, i, '/', '*')
		if k < 0 || k+1 >= len(s) {
			break
		}
		switch {
		case s[k] == '/' && s[k+1] == '*':
			depth++
			i = k + 2
		case s[k] == '*' && s[k+1] == '/':
			depth--
			i = k + 2
			if depth == 0 {
				return i, nil
			}
		default:
			i = k + 1
		}
	}
	return 0, unterminated("comment", start)
}

// pgOperator lexes an operator the way PostgreSQL does: the longest run of
// operator characters, cut before an embedded "--" or "/*", and stripped
// of trailing '+' and '-' unless it contains one of ~ ! @ # ^ & | ` ? %
// (so "=-5" is "=" then "-" then "5", which lets the minus fold into the
// number).
func pgOperator(s string, start int) int {
	end := start + 1
	for end < len(s) && isPGOpChar(s[end]) {
		if end+1 < len(s) && (s[end] == '-' && s[end+1] == '-' || s[end] == '/' && s[end+1] == '*') {
			break
		}
		end++
	}
	if end-start > 1 && (s[end-1] == '+' || s[end-1] == '-') &&
		strings.IndexAny(s[start:end], "~!@#^&|`?%") < 0 {
		for end-start > 1 && (s[end-1] == '+' || s[end-1] == '-') {
			end--
		}
	}
	return end
}
