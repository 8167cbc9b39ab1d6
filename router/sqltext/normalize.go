package sqltext

import (
	"strconv"
	"strings"
)

// Literal is a constant written in SQL text. Its fields match
// router.Literal so that one converts to the other.
type Literal struct {
	// Text is the value: a string's content unquoted and unescaped per
	// the dialect's rules (PostgreSQL B'0101'/X'1F': the digits), a
	// number's text as written, sign included ("-5", "4.2", "1e10",
	// "0x1F", "1_000", MySQL "X'1F'").
	Text   string
	String bool // a quoted string (as opposed to a number)
	Null   bool // unused by the tokenizer: NULL is a keyword, left as is
}

// Slot describes one placeholder of a normalized text.
type Slot struct {
	// Param > 0: this placeholder is the original text's bound parameter
	// number Param (PostgreSQL $Param, MySQL the Param-th ?).
	Param int
	Lit   Literal // when Param == 0: the literal's value
	// Raw is the original text exactly (quotes, prefix, sign), to put it
	// back. For a PostgreSQL parameter it is the text of its first
	// occurrence ("" when the text skips that number).
	Raw string
}

// Hints come from block comments anywhere in the text: /* shard=80- */,
// /* key=42 */, /* role=primary */, several pairs in one comment. The
// values are as written ("" when absent); the router validates them.
type Hints struct{ Shard, Key, Role string }

// Normalized is a statement with its literals replaced by placeholders.
type Normalized struct {
	// Text is the input with each replaced literal swapped for a
	// placeholder ($n in PostgreSQL, ? in MySQL) and nothing else changed:
	// comments, spacing and case stay, so Denormalize restores the input
	// byte for byte.
	Text string
	// Slots[i] describes placeholder number i+1 of Text: in PostgreSQL
	// $1..$m are the statement's own parameters (m its highest $n) and the
	// literals follow in text order; in MySQL slot i is the i-th ? of Text.
	Slots []Slot
	Hints Hints
	// Normalized is false when no statement of the text is of a kind that
	// is normalized (SET, SHOW, DDL...), or when it has more literals than
	// a statement can have placeholders (65535): then Text is the input
	// and Slots lists its own parameters only.
	Normalized bool
}

// Normalize replaces the literals of sql by placeholders (see the package
// documentation for which) and collects hint comments.
func Normalize(d Dialect, sql string) (Normalized, error) {
	if !d.valid() {
		return Normalized{Text: sql}, ErrDialect
	}
	var spanBuf [16]span
	p := planner{d: d, src: sql, typeMod: -1}
	l := lexer{src: sql, d: d}
	spans, err := p.plan(&l, spanBuf[:0])
	if err != nil {
		return Normalized{Text: sql}, err
	}
	if n := p.maxParam + p.nLits; p.d == MySQL && len(spans) > maxParam || p.d == Postgres && n > maxParam {
		// More placeholders than a statement can have (both servers
		// bind at most 65535): keep the literals. Such a statement (a
		// bulk INSERT) is not worth a cache entry anyway.
		spans = paramsOnly(spans)
		p.nLits, p.normalized = 0, false
	}
	return p.build(spans), nil
}

func paramsOnly(spans []span) []span {
	out := spans[:0]
	for _, s := range spans {
		if s.param > 0 {
			out = append(out, s)
		}
	}
	return out
}

// build writes the normalized text and the slots.
func (p *planner) build(spans []span) Normalized {
	out := Normalized{Text: p.src, Hints: p.hints, Normalized: p.normalized}
	if len(spans) == 0 {
		return out
	}
	src, my := p.src, p.d == MySQL
	n := p.maxParam + p.nLits
	if my {
		n = len(spans)
	}
	slots := make([]Slot, n)
	for i := 0; i < p.maxParam; i++ {
		slots[i].Param = i + 1
	}
	out.Slots = slots

	var b strings.Builder
	if p.nLits > 0 {
		size, num := len(src), p.maxParam
		for _, s := range spans {
			if s.param == 0 {
				num++
				size += placeholderLen(p.d, num) - (s.end - s.start)
			}
		}
		b.Grow(size)
	}
	var nb [20]byte
	prev, lit := 0, 0 // end of the text written so far; literals so far
	for i, s := range spans {
		start, end := s.start, s.end
		raw := src[start:end]
		if s.param > 0 {
			if my {
				slots[i] = Slot{Param: s.param, Raw: raw}
			} else if slots[s.param-1].Raw == "" {
				slots[s.param-1].Raw = raw
			}
			continue
		}
		lit++
		var sl *Slot
		b.WriteString(src[prev:start])
		prev = end
		if my {
			sl = &slots[i]
			b.WriteByte('?')
		} else {
			sl = &slots[p.maxParam+lit-1]
			b.WriteByte('$')
			b.Write(strconv.AppendInt(nb[:0], int64(p.maxParam+lit), 10))
		}
		sl.Raw = raw
		sl.Lit = literal(p.d, s, raw)
	}
	if p.nLits > 0 {
		b.WriteString(src[prev:])
		out.Text = b.String()
	}
	return out
}

func placeholderLen(d Dialect, n int) int {
	if d == MySQL {
		return 1
	}
	l := 2
	for n >= 10 {
		n /= 10
		l++
	}
	return l
}

// literal computes the value of a literal span.
func literal(d Dialect, s span, raw string) Literal {
	switch {
	case s.kind != TokString:
		return Literal{Text: raw} // a number, maybe with its folded minus
	case d == Postgres:
		return Literal{Text: pgStringText(raw), String: true}
	case !s.run:
		return Literal{Text: myStringText(raw), String: true}
	}
	// A MySQL run of adjacent strings is one value.
	var b strings.Builder
	l := lexer{src: raw, d: MySQL}
	for l.pos < len(raw) {
		t, err := l.next()
		if err != nil {
			break
		}
		if t.Kind == TokString {
			b.WriteString(myStringText(t.Text(raw)))
		}
	}
	return Literal{Text: b.String(), String: true}
}
