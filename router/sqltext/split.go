package sqltext

// Split returns the top-level statements of sql: the text between ';'
// outside quotes, comments and dollar-quotes, MySQL executable comments,
// and the routine bodies of CREATE statements (see bounds), each trimmed
// of surrounding whitespace (a line comment at the end keeps its own
// trailing spaces: MySQL's "-- " needs them). Pieces with nothing but
// whitespace and comments are dropped. The strings share sql's memory.
func Split(d Dialect, sql string) ([]string, error) {
	if !d.valid() {
		return nil, ErrDialect
	}
	l := lexer{src: sql, d: d}
	var b bounds
	var out []string
	start, end, code := -1, -1, false
	for l.pos < len(sql) {
		t, err := l.next()
		if err != nil {
			return nil, err
		}
		if b.see(d, sql, t) {
			if code {
				out = append(out, sql[start:end])
			}
			start, end, code = -1, -1, false
			continue
		}
		if t.Kind == TokSpace {
			continue
		}
		if start < 0 {
			start = t.Start
		}
		end = t.End
		if t.Kind != TokComment {
			code = true
		}
	}
	if err := l.finish(); err != nil {
		return nil, err
	}
	if code {
		out = append(out, sql[start:end])
	}
	return out, nil
}

// bounds finds where statements end. Fed every token in order, it
// reports the ';' tokens that separate statements. A ';' does not
// separate inside a MySQL executable comment, nor inside the body of a
// routine that a CREATE or ALTER statement defines: PostgreSQL's BEGIN
// ATOMIC ... END, MySQL's BEGIN ... END (CREATE PROCEDURE, TRIGGER,
// EVENT), with CASE ... END and MySQL's END IF / END LOOP / END WHILE /
// END REPEAT inside. (MariaDB's anonymous BEGIN NOT ATOMIC block is not
// recognized; its statements come out one by one.)
type bounds struct {
	n       int  // significant tokens so far in this statement
	block   int  // nesting inside a routine body
	routine bool // the statement starts with CREATE or ALTER
	begin   bool // PostgreSQL: the previous token is BEGIN
	end     bool // MySQL: the previous token is END in a body; the next says what it ends
	exec    bool // MySQL: inside an executable comment
}

// other is see for a significant token that is neither punctuation nor a
// word: all see does with it (the planner's shortcut).
func (b *bounds) other() {
	if b.end {
		b.end = false
		b.block--
	}
	b.begin = false
	b.n++
}

func (b *bounds) see(d Dialect, src string, t Token) bool {
	switch t.Kind {
	case TokSpace:
		return false
	case TokComment:
		if d == MySQL && isExecMarker(t.Text(src)) {
			b.exec = src[t.Start] == '/'
		}
		return false
	case TokWord:
		if b.n == 0 || b.routine {
			b.word(d, t.Text(src))
			return false
		}
	case TokPunct:
		if b.end {
			b.end = false
			b.block--
		}
		if src[t.Start] == ';' && b.block == 0 && !b.exec {
			*b = bounds{}
			return true
		}
	}
	b.other()
	return false
}

// word follows the routine bodies of CREATE and ALTER statements.
func (b *bounds) word(d Dialect, w string) {
	first, begin, end := b.n == 0, b.begin, b.end
	b.n++
	b.begin, b.end = false, false
	if first {
		b.routine = EqualFold(w, "create") || EqualFold(w, "alter")
		return
	}
	if end { // MySQL: END IF, END LOOP... close what was not counted
		if EqualFold(w, "if") || EqualFold(w, "loop") || EqualFold(w, "while") || EqualFold(w, "repeat") {
			return
		}
		b.block--
		if EqualFold(w, "case") { // END CASE
			return
		}
	}
	switch {
	case EqualFold(w, "begin"):
		if d == MySQL {
			b.block++
		} else {
			b.begin = true
		}
	case EqualFold(w, "atomic"):
		if begin {
			b.block++
		}
	case b.block == 0:
	case EqualFold(w, "case"):
		b.block++
	case EqualFold(w, "end"):
		if d == MySQL {
			b.end = true
		} else {
			b.block--
		}
	}
}
