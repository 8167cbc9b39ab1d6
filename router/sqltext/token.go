package sqltext

import "strings"

// TokKind classifies a token.
type TokKind uint8

// Token kinds. The zero TokKind is invalid.
const (
	// TokWord is a keyword or an unquoted identifier; in MySQL also a user
	// or system variable (@x, @'x', @@session).
	TokWord TokKind = iota + 1
	// TokQuotedIdent is "ident" (PostgreSQL, also U&"...") or `ident` (MySQL).
	TokQuotedIdent
	// TokString is a string constant including its prefix: E'', U&'', B'',
	// X'', N'', $tag$...$tag$ (PostgreSQL); '', "", N'', _charset''
	// (MySQL). PostgreSQL strings continued across a newline ('a'\n'b')
	// are one token.
	TokString
	// TokNumber is a numeric constant, in MySQL also X'1F' and b'101'.
	TokNumber
	// TokParam is a placeholder: $n (PostgreSQL) or ? (MySQL).
	TokParam
	// TokOp is an operator (including ::, ->, ||) or any byte no other rule
	// claims.
	TokOp
	// TokPunct is one of ( ) , ; . [ ].
	TokPunct
	// TokComment is a -- or # line comment (without its newline), a
	// /* */ block comment, or one of the markers of a MySQL executable
	// comment: "/*!50000" (or "/*M!") and "*/", whose content is lexed as
	// code.
	TokComment
	// TokSpace is a run of whitespace.
	TokSpace
)

var tokKindNames = [...]string{"?", "word", "qident", "string", "number", "param", "op", "punct", "comment", "space"}

func (k TokKind) String() string {
	if int(k) < len(tokKindNames) {
		return tokKindNames[k]
	}
	return "?"
}

// Token is one lexical token: the byte range [Start, End) of the text and
// the paren depth before it (so a '(' and its ')' differ by one: "f(a)"
// gives f:0 (:0 a:1 ):1). Depth never goes below zero.
type Token struct {
	Kind       TokKind
	Start, End int
	Depth      int
}

// Text returns the token's text in src.
func (t Token) Text(src string) string { return src[t.Start:t.End] }

// Tokens lexes text completely. The tokens cover it contiguously: each
// starts where the previous ended. On error it returns the tokens before
// the one that could not be lexed.
func Tokens(d Dialect, text string) ([]Token, error) {
	if !d.valid() {
		return nil, ErrDialect
	}
	// About one token per two bytes in typical SQL; capped so that a long
	// string constant does not reserve room for tokens that never come.
	return appendTokens(make([]Token, 0, min(len(text)/2+2, 4096)), d, text)
}

func appendTokens(dst []Token, d Dialect, src string) ([]Token, error) {
	l := lexer{src: src, d: d}
	for l.pos < len(src) {
		t, err := l.next()
		if err != nil {
			return dst, err
		}
		dst = append(dst, t)
	}
	if err := l.finish(); err != nil {
		return dst, err
	}
	return dst, nil
}

// lexer scans one token per call. Its whole state is a position, the paren
// depth and (MySQL) whether it is between the markers of an executable
// comment.
type lexer struct {
	src       string
	pos       int
	depth     int
	d         Dialect
	inExec    bool // MySQL: inside /*! ... */
	execStart int
}

// next lexes the token at l.pos; the caller ensures l.pos < len(l.src).
func (l *lexer) next() (Token, error) {
	s, start := l.src, l.pos
	t := Token{Start: start, Depth: l.depth}
	kind, end := TokPunct, start+1
	var err error
	switch s[start] {
	case ' ', '\t', '\n', '\v', '\f', '\r':
		kind = TokSpace
		for end < len(s) && isSpace(s[end]) {
			end++
		}
	case '(':
		l.depth++
	case ')':
		if l.depth > 0 {
			l.depth--
		}
	case ',', ';', '[', ']':
	default:
		if l.d == MySQL {
			kind, end, err = l.mysql()
		} else {
			kind, end, err = l.postgres()
		}
		if err != nil {
			return t, err
		}
	}
	t.Kind, t.End = kind, end
	l.pos = end
	return t, nil
}

// finish reports what is still open at the end of the input.
func (l *lexer) finish() error {
	if l.inExec {
		return unterminated("executable comment", l.execStart)
	}
	return nil
}

// scanRun scans digits of one class with single '_' separators between
// them (PostgreSQL 16's 1_000 and 0x_FF): (_? digit)* after the first
// digit, which must be at i unless lead allows a leading '_'.
func scanRun(s string, i int, class func(byte) bool, lead bool) int {
	start := i
	for i < len(s) {
		if class(s[i]) {
			i++
			continue
		}
		if s[i] == '_' && i+1 < len(s) && class(s[i+1]) && (i > start || lead) {
			i += 2
			continue
		}
		break
	}
	return i
}

// scanDoubled scans a quoted token whose only escape is a doubled quote
// ("ident", `ident`); q is the index of the opening quote.
func scanDoubled(s string, q int, what string) (int, error) {
	quote := s[q]
	i := q + 1
	for {
		k := indexByte(s, i, quote)
		if k < 0 {
			return 0, unterminated(what, q)
		}
		if k+1 < len(s) && s[k+1] == quote {
			i = k + 2
			continue
		}
		return k + 1, nil
	}
}

// indexByte returns the index in s of the first c at or after i, or -1.
func indexByte(s string, i int, c byte) int {
	if k := strings.IndexByte(s[i:], c); k >= 0 {
		return i + k
	}
	return -1
}

// indexByte2 returns the index in s of the first a or b at or after i, or -1.
func indexByte2(s string, i int, a, b byte) int {
	for ; i < len(s); i++ {
		if c := s[i]; c == a || c == b {
			return i
		}
	}
	return -1
}
