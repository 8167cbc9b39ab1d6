package sqltext

// kwFlags say what a word allows after it.
type kwFlags uint8

const (
	// fStmt: starts a statement kind that is normalized.
	fStmt kwFlags = 1 << iota
	// fLit: a value may follow, so a literal right after it can become a
	// placeholder. In MySQL only reserved words qualify: after any other
	// word a string may be a column alias (SELECT a 'x').
	fLit
	// fUnary: a reserved word, never an operand, so in "WORD -5" the minus
	// belongs to the number. (Unreserved words such as PostgreSQL's FIRST
	// may be column names: "first -5" is a subtraction.)
	fUnary
	// fEnd: ends an ORDER BY / GROUP BY list at the same paren depth.
	fEnd
	// fTypeMod: a '(' right after it holds constants the grammar requires
	// to be literal: type modifiers and precisions (numeric(10,2),
	// varchar(255), timestamp(3), now(6)).
	fTypeMod
	// fExplain: EXPLAIN (MySQL also DESCRIBE, DESC) at the start of a
	// statement, whose options are skipped up to the explained statement.
	fExplain
)

// keyword is what lookup knows of a word, per dialect. The few words the
// normalizer reasons about one by one (ORDER, BY, DISTINCT, ON, AS, AT,
// TIME, ZONE, OFFSET, UESCAPE) it compares itself.
type keyword struct{ pg, my kwFlags }

func (k keyword) flags(d Dialect) kwFlags {
	if d == MySQL {
		return k.my
	}
	return k.pg
}

// maxKeywordLen is the length of the longest word lookup knows.
const maxKeywordLen = 19 // sql_calc_found_rows

const (
	expr    = fLit | fUnary        // a reserved word an expression follows
	exprEnd = fLit | fUnary | fEnd // ... that also starts a new clause
)

// lookup classifies a word, ignoring ASCII case; words it does not know
// get the zero keyword.
func lookup(w string) keyword {
	if len(w) < 2 || len(w) > maxKeywordLen {
		return keyword{}
	}
	var buf [maxKeywordLen]byte
	for i := 0; i < len(w); i++ {
		c := w[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	// The compiler compares string(buf[:n]) with the cases without
	// allocating.
	switch string(buf[:len(w)]) {
	// Statement starts.
	case "select":
		return keyword{fStmt | exprEnd, fStmt | exprEnd}
	case "insert", "update", "delete", "table":
		return keyword{fStmt, fStmt}
	case "replace":
		return keyword{0, fStmt}
	case "with", "values":
		return keyword{fStmt | fEnd, fStmt | fEnd}
	case "explain":
		return keyword{fExplain, fExplain}
	case "describe", "desc":
		return keyword{0, fExplain}

	// Reserved words an expression follows.
	case "where", "having", "from", "for", "limit", "on":
		return keyword{exprEnd, exprEnd}
	case "and", "or", "not", "when", "then", "else", "case", "like", "between",
		"all", "in", "both", "leading", "trailing", "to", "distinct":
		return keyword{expr, expr}
	case "by": // unreserved in PostgreSQL
		return keyword{fLit, expr}
	case "offset": // unreserved in MySQL: a value only after LIMIT n
		return keyword{exprEnd, fEnd}
	case "returning":
		return keyword{exprEnd, fEnd}
	case "ilike", "any", "some", "symmetric", "variadic":
		return keyword{expr, 0}
	case "first", "next": // FETCH FIRST n ROWS; unreserved in PostgreSQL
		return keyword{fLit, 0}
	case "div", "mod", "xor", "regexp", "rlike", "distinctrow", "high_priority",
		"straight_join", "sql_small_result", "sql_big_result", "sql_calc_found_rows":
		return keyword{0, expr}
	case "interval": // a typed literal in PostgreSQL, an expression in MySQL
		return keyword{fTypeMod, expr | fTypeMod}

	// Words that end an ORDER BY / GROUP BY list and take no value.
	case "fetch", "window", "union", "intersect", "except", "into", "lock",
		"procedure", "set":
		return keyword{fEnd, fEnd}

	// Types and functions whose parenthesized arguments must be constants.
	case "char", "character", "varchar", "varying", "nchar", "nvarchar",
		"decimal", "dec", "numeric", "fixed", "float", "double", "real",
		"bit", "varbit", "binary", "varbinary", "time", "timetz", "timestamp",
		"timestamptz", "datetime", "second", "now", "current_timestamp",
		"current_time", "localtime", "localtimestamp", "sysdate", "curtime",
		"utc_time", "utc_timestamp":
		return keyword{fTypeMod, fTypeMod}
	}
	return keyword{}
}
