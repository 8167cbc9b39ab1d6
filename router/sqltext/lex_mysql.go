package sqltext

import "strings"

// MySQL (and MariaDB) lexical rules, after sql/sql_lex.cc.

func (l *lexer) mysql() (TokKind, int, error) {
	s, start := l.src, l.pos
	c := s[start]
	var c1 byte // the byte after c, 0 at the end
	if start+1 < len(s) {
		c1 = s[start+1]
	}
	switch {
	case c == '\'' || c == '"':
		end, err := scanMyString(s, start)
		return TokString, end, err
	case c == '`':
		end, err := scanDoubled(s, start, "quoted identifier")
		return TokQuotedIdent, end, err
	case c == '?':
		return TokParam, start + 1, nil
	case c == '#':
		return TokComment, lineEnd(s, start+1), nil
	case c == '-' && c1 == '-' && (start+2 == len(s) || isMyCommentSpace(s[start+2])):
		return TokComment, lineEnd(s, start+2), nil
	case c == '/' && c1 == '*':
		return l.myComment()
	case c == '*' && c1 == '/' && l.inExec:
		l.inExec = false
		return TokComment, start + 2, nil
	case c == '@':
		return myVariable(s, start)
	case c == '.':
		if isDigit(c1) {
			return myNumber(s, start)
		}
		return TokPunct, start + 1, nil
	case isDigit(c):
		return myNumber(s, start)
	case isIdentStart(c) || c == '$':
		return myWord(s, start)
	}
	return TokOp, myOperator(s, start), nil
}

// isMyCommentSpace: "--" starts a comment only before whitespace or a
// control character ("--x" and "1--1" are minus signs).
func isMyCommentSpace(c byte) bool { return isSpace(c) || c < 0x20 || c == 0x7f }

// myComment lexes a /* */ comment, or the opening marker of an executable
// comment (/*!, /*!50000, MariaDB's /*M!100100) whose content the next
// calls lex as code, up to its "*/" marker. Comments do not nest: inside an
// executable comment, "/*" starts an ordinary comment.
func (l *lexer) myComment() (TokKind, int, error) {
	s, start := l.src, l.pos
	i := start + 2
	if !l.inExec && i < len(s) && (s[i] == '!' || s[i] == 'M' && i+1 < len(s) && s[i+1] == '!') {
		if s[i] == 'M' {
			i++
		}
		i++
		k := i
		for k < len(s) && isDigit(s[k]) && k-i < 6 {
			k++
		}
		if k-i < 5 { // no version: the digits (if any) are content
			k = i
		}
		l.inExec, l.execStart = true, start
		return TokComment, k, nil
	}
	k := strings.Index(s[i:], "*/")
	if k < 0 {
		return 0, 0, unterminated("comment", start)
	}
	return TokComment, i + k + 2, nil
}

// scanMyString scans a '...' or "..." string at q: backslash escapes the
// next byte and a doubled quote is a quote.
func scanMyString(s string, q int) (int, error) {
	quote := s[q]
	i := q + 1
	for {
		k := indexByte2(s, i, quote, '\\')
		if k < 0 || k+1 >= len(s) && s[k] == '\\' {
			return 0, unterminated("string", q)
		}
		if s[k] == '\\' || k+1 < len(s) && s[k+1] == quote {
			i = k + 2
			continue
		}
		return k + 1, nil
	}
}

// myVariable lexes @name, @'name', @"name", @`name` (user variables; names
// may contain '.') and @@name (system variables), or a lone '@'.
func myVariable(s string, start int) (TokKind, int, error) {
	i := start + 1
	if i >= len(s) {
		return TokOp, i, nil
	}
	switch c := s[i]; {
	case c == '@':
		if e := identEnd(s, i+1); e > i+1 {
			return TokWord, e, nil
		}
	case c == '\'' || c == '"':
		end, err := scanMyString(s, i)
		return TokWord, end, err
	case c == '`':
		end, err := scanDoubled(s, i, "quoted identifier")
		return TokWord, end, err
	case isIdentCont(c) || c == '.':
		for i < len(s) && (isIdentCont(s[i]) || s[i] == '.') {
			i++
		}
		return TokWord, i, nil
	}
	return TokOp, start + 1, nil
}

// myNumber lexes what starts with a digit (or '.' before a digit): 42,
// 4.2, .5, 1e10, 0x1F, 0b101, or an identifier, since MySQL names may
// start with digits (123abc, 0xZZ, 1e).
func myNumber(s string, start int) (TokKind, int, error) {
	n := len(s)
	if s[start] == '0' && start+1 < n && (s[start+1] == 'x' || s[start+1] == 'b') {
		class := isHex
		if s[start+1] == 'b' {
			class = isBin
		}
		j := start + 2
		for j < n && class(s[j]) {
			j++
		}
		if j > start+2 && (j >= n || !isIdentCont(s[j])) {
			return TokNumber, j, nil
		}
		return TokWord, identEnd(s, start), nil
	}
	i := start
	for i < n && isDigit(s[i]) {
		i++
	}
	if i < n && s[i] == '.' {
		i++
		for i < n && isDigit(s[i]) {
			i++
		}
		return TokNumber, myExponent(s, i), nil
	}
	if e := myExponent(s, i); e > i {
		return TokNumber, e, nil
	}
	if i < n && isIdentCont(s[i]) {
		return TokWord, identEnd(s, i), nil
	}
	return TokNumber, i, nil
}

// myExponent returns the end of an exponent (e5, E+5, e-5) at i, or i.
func myExponent(s string, i int) int {
	if i >= len(s) || s[i]|0x20 != 'e' {
		return i
	}
	j := i + 1
	if j < len(s) && (s[j] == '+' || s[j] == '-') {
		j++
	}
	if j >= len(s) || !isDigit(s[j]) {
		return i
	}
	for j < len(s) && isDigit(s[j]) {
		j++
	}
	return j
}

// myWord lexes an identifier or keyword, or a literal whose prefix starts
// like one: N'...', X'1F', b'101', _charset'...' (an introducer glued to
// its string; "_utf8mb4 'x'" with a space stays a word and a string).
func myWord(s string, start int) (TokKind, int, error) {
	if start+1 < len(s) && s[start+1] == '\'' {
		switch s[start] | 0x20 {
		case 'n':
			end, err := scanMyString(s, start+1)
			return TokString, end, err
		case 'x', 'b':
			k := indexByte(s, start+2, '\'')
			if k < 0 {
				return 0, 0, unterminated("string", start)
			}
			return TokNumber, k + 1, nil
		}
	}
	end := identEnd(s, start+1)
	if s[start] == '_' && end > start+1 && end < len(s) && (s[end] == '\'' || s[end] == '"') {
		end, err := scanMyString(s, end)
		return TokString, end, err
	}
	return TokWord, end, nil
}

// myOperator returns the end of the operator at start: <=> ->> or a
// two-byte operator, else one byte.
func myOperator(s string, start int) int {
	if start+1 >= len(s) {
		return start + 1
	}
	c, c1 := s[start], s[start+1]
	switch c {
	case '<':
		if c1 == '=' && start+2 < len(s) && s[start+2] == '>' {
			return start + 3
		}
		if c1 == '=' || c1 == '>' || c1 == '<' {
			return start + 2
		}
	case '-':
		if c1 == '>' {
			if start+2 < len(s) && s[start+2] == '>' {
				return start + 3
			}
			return start + 2
		}
	case '>':
		if c1 == '=' || c1 == '>' {
			return start + 2
		}
	case '!':
		if c1 == '=' {
			return start + 2
		}
	case '&', '|':
		if c1 == c {
			return start + 2
		}
	case ':':
		if c1 == '=' {
			return start + 2
		}
	}
	return start + 1
}
