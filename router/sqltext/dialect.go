package sqltext

import (
	"errors"
	"fmt"
)

// Dialect selects the lexical rules: quotes, comments, placeholders.
type Dialect uint8

// The dialects. The zero Dialect is invalid, so a forgotten setting fails
// loudly instead of silently lexing with the wrong rules.
const (
	Postgres Dialect = iota + 1
	MySQL
)

func (d Dialect) String() string {
	switch d {
	case Postgres:
		return "postgres"
	case MySQL:
		return "mysql"
	}
	return fmt.Sprintf("Dialect(%d)", uint8(d))
}

func (d Dialect) valid() bool { return d == Postgres || d == MySQL }

// Sentinel errors.
var (
	// ErrUnterminated reports an unterminated quoted string, quoted
	// identifier, dollar-quote, block comment or MySQL executable comment.
	ErrUnterminated = errors.New("sqltext: unterminated quote or comment")
	// ErrParamNumber reports a PostgreSQL $n outside 1..65535 (the wire
	// protocol cannot bind more parameters than that).
	ErrParamNumber = errors.New("sqltext: parameter number out of range")
	// ErrDialect reports a Dialect that is neither Postgres nor MySQL.
	ErrDialect = errors.New("sqltext: unknown dialect")
)

// maxParam is the highest $n PostgreSQL's protocol can bind.
const maxParam = 65535

func unterminated(what string, at int) error {
	return fmt.Errorf("%w: %s starting at byte %d", ErrUnterminated, what, at)
}

// EqualFold reports whether word equals kw, ignoring ASCII case. Unlike
// strings.EqualFold it does no Unicode folding, which is what SQL keyword
// matching needs (and it is faster).
func EqualFold(word, kw string) bool {
	if len(word) != len(kw) {
		return false
	}
	for i := 0; i < len(word); i++ {
		a, b := word[i], kw[i]
		if a == b {
			continue
		}
		if 'A' <= a && a <= 'Z' {
			a += 'a' - 'A'
		}
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		if a != b {
			return false
		}
	}
	return true
}

// Byte classes, as a constant table (it cannot be mutated, unlike an
// array variable); TestClassTable checks it against the definitions.
const (
	clIdent      = 1 << iota // identifier character: letter, digit, _, $, any byte >= 0x80
	clSpace                  // whitespace: space \t \n \v \f \r
	clDigit                  // 0-9
	clPGOp                   // PostgreSQL operator character: + - * / < > = ~ ! @ # % ^ & | ` ?
	clIdentStart             // letter, _, any byte >= 0x80
)

const classTable = "" +
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x02\x02\x02\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
	"\x02\x08\x00\x08\x01\x08\x08\x00\x00\x00\x08\x08\x00\x08\x00\x08\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x00\x00\x08\x08\x08\x08" +
	"\x08\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x00\x00\x00\x08\x11" +
	"\x08\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x00\x08\x00\x08\x00" +
	"\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11" +
	"\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11" +
	"\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11" +
	"\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11"

func isDigit(c byte) bool  { return c-'0' < 10 }
func isLetter(c byte) bool { return (c|0x20)-'a' < 26 }
func isHex(c byte) bool    { return isDigit(c) || (c|0x20)-'a' < 6 }
func isOct(c byte) bool    { return c-'0' < 8 }
func isBin(c byte) bool    { return c == '0' || c == '1' }

// isSpace is SQL whitespace: space, \t, \n, \v, \f, \r.
func isSpace(c byte) bool { return classTable[c]&clSpace != 0 }

// isIdentStart: letters, '_' and non-ASCII bytes (UTF-8 names) in both dialects.
func isIdentStart(c byte) bool { return classTable[c]&clIdentStart != 0 }

// isIdentCont covers both dialects: letters, digits, '_', '$' and non-ASCII.
func isIdentCont(c byte) bool { return classTable[c]&clIdent != 0 }

func isPGOpChar(c byte) bool { return classTable[c]&clPGOp != 0 }

// identEnd returns the end of the run of identifier characters at i.
func identEnd(s string, i int) int {
	for i < len(s) && isIdentCont(s[i]) {
		i++
	}
	return i
}

// lineEnd returns the index of the first '\n' or '\r' at or after i, or
// len(s).
func lineEnd(s string, i int) int {
	for i < len(s) && s[i] != '\n' && s[i] != '\r' {
		i++
	}
	return i
}
