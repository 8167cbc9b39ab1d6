package sqltext

// Split returns the top-level statements of sql: the text between ';'
// outside quotes, comments and dollar-quotes (and, as psql does, outside
// PostgreSQL BEGIN ATOMIC ... END bodies and MySQL executable comments),
// each trimmed of surrounding whitespace (a line comment at the end keeps
// its own trailing spaces: MySQL's "-- " needs them). Pieces with nothing
// but whitespace and comments are dropped. The strings share sql's memory.
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
// reports the ';' tokens that separate statements.
type bounds struct {
	n      int  // significant tokens so far in this statement
	// The planner skips see for tokens it knows cannot matter (see
	// planner.plan): keep the two in step.
	atomic int  // PostgreSQL: inside BEGIN ATOMIC ... END (and its CASE ... END)
	begin  bool // PostgreSQL: the previous token is BEGIN, not first in its statement
	exec   bool // MySQL: inside an executable comment
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
	case TokPunct:
		if src[t.Start] == ';' && b.atomic == 0 && !b.exec {
			*b = bounds{}
			return true
		}
	}
	begin := b.begin
	b.begin = false
	if d == Postgres && t.Kind == TokWord {
		switch w := t.Text(src); len(w) {
		case 3:
			if b.atomic > 0 && EqualFold(w, "end") {
				b.atomic--
			}
		case 4:
			if b.atomic > 0 && EqualFold(w, "case") {
				b.atomic++
			}
		case 5:
			b.begin = b.n > 0 && EqualFold(w, "begin")
		case 6:
			if begin && EqualFold(w, "atomic") {
				b.atomic++
			}
		}
	}
	b.n++
	return false
}
