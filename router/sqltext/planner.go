package sqltext

// planner decides, in one pass over the tokens, which literals of a
// statement become placeholders. It remembers three significant tokens
// back and peeks ahead with a copy of the lexer, so it stores no token
// list; see the package documentation for the rules.
type planner struct {
	d   Dialect
	src string

	bounds bounds
	mode   uint8
	// The significant tokens of the statement (comments and spaces
	// skipped) go round a ring: hist[nSig&3] is the current one, and
	// back(1..3) the three before it, zero before the statement's start.
	// (A ring, not three fields shifted along each token: that copying
	// showed up as a fifth of the CPU profile.)
	hist [4]sig
	nSig uint
	// Open ORDER BY / GROUP BY / DISTINCT ON lists: the paren depth of
	// each, innermost last. Past maxClauses nested lists the planner stops
	// tracking depths and keeps every list-item literal (overflow).
	clauses    [maxClauses]int
	nClauses   int
	overflow   bool
	distinctOn bool // DISTINCT ON just seen: the next '(' opens a list
	// typeMod is the depth inside the '(' of a type modifier
	// (numeric(10,2)) whose constants must stay, or -1.
	typeMod int

	maxParam   int // PostgreSQL: highest $n
	nParams    int // MySQL: ? seen so far
	nLits      int
	normalized bool
	hints      Hints
}

const maxClauses = 16

// Statement modes.
const (
	modeStart   = iota // before the first word
	modeExplain        // after EXPLAIN, before the explained statement
	modeOn             // a normalized statement
	modeOff            // a statement that is not normalized
)

// sig is what the planner remembers of a significant token.
type sig struct {
	kind       TokKind // 0: none (start of statement)
	c, c1      byte    // an operator's or punctuation's first two bytes (0 if none)
	start, end int
}

// span is one placeholder of the output, in text order: a parameter the
// text already has, or a literal.
type span struct {
	start, end int
	param      int // > 0: PostgreSQL $param, or MySQL's param-th ?
	kind       TokKind
	run        bool // MySQL: a run of adjacent strings ('a' 'b')
}

// plan returns the placeholders of the text, in text order.
func (p *planner) plan(l *lexer, spans []span) ([]span, error) {
	src := p.src
	for l.pos < len(src) {
		t, err := l.next()
		if err != nil {
			return spans, err
		}
		if t.Kind == TokSpace {
			continue
		}
		if t.Kind == TokComment {
			p.comment(t)
			continue
		}
		if t.Kind == TokPunct || t.Kind == TokWord {
			if p.bounds.see(p.d, src, t) {
				p.endStatement()
				continue
			}
		} else {
			p.bounds.other()
		}
		cur := &p.hist[p.nSig&3]
		*cur = sig{kind: t.Kind, start: t.Start, end: t.End}
		if t.Kind == TokOp || t.Kind == TokPunct {
			cur.c = src[t.Start]
			if t.End-t.Start > 1 {
				cur.c1 = src[t.Start+1]
			}
		}
		if p.mode == modeStart || p.mode == modeExplain {
			p.startStatement(cur)
		}
		distinctOn := p.distinctOn
		p.distinctOn = false

		switch t.Kind {
		case TokParam:
			n, err := p.paramNumber(t)
			if err != nil {
				return spans, err
			}
			spans = append(spans, span{start: t.Start, end: t.End, param: n, kind: TokParam})
		case TokWord:
			if p.mode == modeOn {
				p.word(t)
			}
		case TokPunct:
			if p.mode == modeOn {
				p.punct(t, cur, distinctOn)
			}
		case TokString, TokNumber:
			if p.mode != modeOn {
				break
			}
			s := span{start: t.Start, end: t.End, kind: t.Kind}
			if p.literalOK(l, s) {
				if p.d == MySQL && t.Kind == TokString {
					s.end, s.run = p.stringRun(l, s.end)
				}
				spans = append(spans, s)
				p.nLits++
			}
		case TokOp:
			// A minus glued to a number where no operand precedes it is
			// the number's sign. Whether or not the signed number may be
			// replaced, the two are decided together.
			if p.mode != modeOn || cur.c != '-' || t.End-t.Start != 1 || l.pos == len(src) || !p.unaryOK() {
				break
			}
			peek := *l
			if nt, err := peek.next(); err == nil && nt.Kind == TokNumber {
				*l = peek
				s := span{start: t.Start, end: nt.End, kind: TokNumber}
				if p.literalOK(l, s) {
					spans = append(spans, s)
					p.nLits++
				}
				*cur = sig{kind: TokNumber, start: t.Start, end: nt.End}
			}
		}
		p.nSig++
	}
	return spans, l.finish()
}

// comment collects hints and follows MySQL executable comment markers.
func (p *planner) comment(t Token) {
	p.bounds.see(p.d, p.src, t)
	if text := t.Text(p.src); isHintComment(p.d, text) {
		parseHints(text, &p.hints)
	}
}

// startStatement decides, at the first significant tokens of a
// statement, whether it is normalized.
func (p *planner) startStatement(cur *sig) {
	if p.mode == modeStart && cur.kind == TokPunct && cur.c == '(' {
		return
	}
	fl := p.flags(cur)
	switch {
	case fl&fStmt != 0:
		p.mode, p.normalized = modeOn, true
	case p.mode == modeExplain:
		// Skip EXPLAIN's options (ANALYZE, (FORMAT JSON), FORMAT=TREE)
		// up to the explained statement.
	case fl&fExplain != 0:
		p.mode = modeExplain
	default:
		p.mode = modeOff
	}
}

func (p *planner) endStatement() {
	p.mode = modeStart
	p.hist, p.nSig = [4]sig{}, 0
	p.nClauses, p.overflow, p.distinctOn, p.typeMod = 0, false, false, -1
}

// back returns the k-th significant token before the current one.
func (p *planner) back(k uint) *sig { return &p.hist[(p.nSig-k)&3] }

// flags classifies a significant token that is a word (lookup is only
// paid for the words whose meaning a decision needs).
func (p *planner) flags(s *sig) kwFlags {
	if s.kind != TokWord {
		return 0
	}
	return lookup(p.src[s.start:s.end]).flags(p.d)
}

// is reports whether s is the word w (lower case), ignoring case.
func (p *planner) is(s *sig, w string) bool {
	return s.kind == TokWord && s.end-s.start == len(w) && EqualFold(p.src[s.start:s.end], w)
}

// paramNumber returns a parameter's number: $n, or the ordinal of a ?.
func (p *planner) paramNumber(t Token) (int, error) {
	if p.d == MySQL {
		p.nParams++
		return p.nParams, nil
	}
	n, ok := pgParam(p.src[t.Start+1 : t.End])
	if !ok {
		return 0, ErrParamNumber
	}
	p.maxParam = max(p.maxParam, n)
	return n, nil
}

// pgParam parses the digits of $n; ok is false outside 1..maxParam.
func pgParam(digits string) (int, bool) {
	n := 0
	for i := 0; i < len(digits); i++ {
		n = n*10 + int(digits[i]-'0')
		if n > maxParam {
			return 0, false
		}
	}
	return n, n > 0
}

// word follows the ORDER BY / GROUP BY / DISTINCT ON lists.
func (p *planner) word(t Token) {
	w := p.src[t.Start:t.End]
	if len(w) == 2 {
		switch {
		case EqualFold(w, "by") && (p.is(p.back(1), "order") || p.is(p.back(1), "group")):
			p.openList(t.Depth)
			return
		case EqualFold(w, "on") && p.is(p.back(1), "distinct"):
			p.distinctOn = true
			return
		}
	}
	if p.nClauses > 0 && p.clauses[p.nClauses-1] == t.Depth && lookup(w).flags(p.d)&fEnd != 0 {
		p.nClauses--
	}
}

func (p *planner) punct(t Token, cur *sig, distinctOn bool) {
	switch cur.c {
	case '(':
		if distinctOn {
			p.openList(t.Depth + 1)
		}
		if p.typeMod < 0 && p.back(1).kind == TokWord &&
			(p.flags(p.back(1))&fTypeMod != 0 || p.is(p.back(2), "as") || p.back(2).isOp(':', ':')) {
			p.typeMod = t.Depth + 1
		}
	case ')':
		// t.Depth is the depth inside the parens this closes.
		for p.nClauses > 0 && p.clauses[p.nClauses-1] >= t.Depth {
			p.nClauses--
		}
		if p.typeMod >= t.Depth {
			p.typeMod = -1
		}
	}
}

// openList notes an ORDER BY / GROUP BY / DISTINCT ON list at depth.
func (p *planner) openList(depth int) {
	switch {
	case p.nClauses > 0 && p.clauses[p.nClauses-1] == depth:
		// GROUP BY a ORDER BY 1: the next list at the same level
	case p.nClauses == maxClauses:
		p.overflow = true
	default:
		p.clauses[p.nClauses] = depth
		p.nClauses++
	}
}

func (s *sig) isOp(c, c1 byte) bool {
	return s.kind == TokOp && s.c == c && s.c1 == c1 && s.end-s.start == 2
}

func (s *sig) isPunct(c byte) bool { return s.kind == TokPunct && s.c == c }

// unaryOK reports whether a '-' here is a sign: nothing that can end an
// operand comes before it.
func (p *planner) unaryOK() bool {
	switch pr := p.back(1); pr.kind {
	case 0, TokOp:
		return true
	case TokPunct:
		return pr.c == '(' || pr.c == ',' || pr.c == '['
	case TokWord:
		// BY is unreserved in PostgreSQL, but not after ORDER or GROUP.
		return p.flags(pr)&fUnary != 0 || p.is(pr, "by") && (p.is(p.back(2), "order") || p.is(p.back(2), "group"))
	}
	return false
}

// literalOK reports whether the literal s (the lexer is just past it) may
// become a placeholder.
func (p *planner) literalOK(l *lexer, s span) bool {
	src := p.src
	if p.typeMod >= 0 && l.depth >= p.typeMod {
		return false
	}
	str := s.kind == TokString
	switch pr := p.back(1); pr.kind {
	case 0:
	case TokOp:
		if pr.isOp(':', ':') || str && p.d == MySQL && pr.c == '-' && pr.c1 == '>' { // x::'a', j->'$.a'
			return false
		}
	case TokPunct:
		if pr.c != '(' && pr.c != ',' && pr.c != '[' {
			return false
		}
	case TokWord:
		if p.flags(pr)&fLit == 0 && !p.valueAfter() {
			return false
		}
	default:
		return false
	}
	if p.inList() {
		return false
	}
	if p.d == Postgres {
		// "$n" must not merge with a neighbour: WHERE'a' or 'a'5.
		if s.start > 0 && isIdentCont(src[s.start-1]) || s.end < len(src) && isIdentCont(src[s.end]) {
			return false
		}
		if str && src[s.start]|0x20 == 'u' && p.nextIsUescape(*l) {
			return false
		}
	}
	return true
}

// valueAfter covers words that take a value only in context: PostgreSQL's
// AT TIME ZONE 'UTC' (not WITH TIME ZONE '...'), MySQL's LIMIT n OFFSET m.
func (p *planner) valueAfter() bool {
	if p.d == Postgres {
		return p.is(p.back(1), "zone") && p.is(p.back(2), "time") && p.is(p.back(3), "at")
	}
	return p.is(p.back(1), "offset") && (p.back(2).kind == TokNumber || p.back(2).kind == TokParam) && p.is(p.back(3), "limit")
}

// inList reports whether a literal is a whole item of an ORDER BY, GROUP
// BY or DISTINCT ON list (a position, not a value).
func (p *planner) inList() bool {
	if p.nClauses == 0 && !p.overflow {
		return false
	}
	return p.is(p.back(1), "by") || p.back(1).isPunct(',') || p.back(1).isPunct('(')
}

// nextIsUescape reports whether the next significant token is UESCAPE.
func (p *planner) nextIsUescape(l lexer) bool {
	for l.pos < len(l.src) {
		t, err := l.next()
		if err != nil {
			return false
		}
		switch t.Kind {
		case TokSpace, TokComment:
			continue
		case TokWord:
			return EqualFold(t.Text(l.src), "uescape")
		}
		return false
	}
	return false
}

// stringRun extends a MySQL string literal ending at end over the quoted
// strings that follow it: adjacent strings are one value ('a' 'b' is
// 'ab'), even across comments, but not across an executable comment's
// marker. It advances l past the run and returns its end.
func (p *planner) stringRun(l *lexer, end int) (int, bool) {
	run := false
	for peek := *l; peek.pos < len(peek.src); {
		t, err := peek.next()
		if err != nil {
			break
		}
		switch t.Kind {
		case TokSpace:
			continue
		case TokComment:
			if !isExecMarker(t.Text(p.src)) {
				// Read now; if the run stops before it, the main loop
				// reads it again, which changes nothing (first value wins).
				p.comment(t)
				continue
			}
		case TokString:
			if c := p.src[t.Start]; c == '\'' || c == '"' {
				*l, end, run = peek, t.End, true
				continue
			}
		}
		break
	}
	return end, run
}
