package router

import "github.com/shardgate/shardgate/router/sqltext"

// Statement is what a dialect analyzer (router/postgres, router/mysql) knows
// about one SQL statement: a dialect-neutral summary of exactly the facts
// routing and merging need. It is computed once per statement shape (the
// text with literals replaced by placeholders), cached, shared between
// sessions, and never mutated after Analyze returns.
//
// Values are never stored here: every literal or bound parameter appears
// as a ValueRef naming a placeholder, so one Statement serves every
// execution of its shape. Offsets are byte offsets into the text that was
// analyzed (the normalized text), used to rewrite it per target.
type Statement struct {
	Kind    Kind
	Explain bool // EXPLAIN of the statement described (routed like it, never a write)

	// Tables lists every table reference anywhere in the statement: FROM,
	// JOIN, subqueries, CTE bodies, the DML target, INSERT ... SELECT's
	// source. CTE names are not tables and are left out. Order: as written.
	Tables []TableRef

	// Where is the routing-relevant predicate of the top-level statement:
	// its WHERE clause (SELECT, UPDATE, DELETE) AND-ed with the ON
	// conditions of inner joins. nil means no predicate.
	Where *Cond

	// JoinLinks are the column equalities (CondColEq) of LEFT/RIGHT/FULL
	// join ON/USING conditions: they prove two tables are joined on a
	// column, so co-located tables may scatter together, but they filter
	// no rows and so never narrow the shards.
	JoinLinks []*Cond

	// Subqueries are SELECTs nested anywhere (WHERE, FROM, CTEs, scalar),
	// each with its own Tables and Where, so that keys inside them count.
	Subqueries []*Statement

	ForUpdate bool // SELECT ... FOR UPDATE/SHARE, LOCK IN SHARE MODE: a write for routing
	// PrimaryFunc names a function the statement calls that changes or
	// reads primary-only state (nextval, advisory and user-level locks):
	// a SELECT calling it routes as a write. "" for none.
	PrimaryFunc string
	// Cursor: DECLARE ... CURSOR FOR this SELECT (PostgreSQL). It must
	// reach one shard (FETCH, MOVE and CLOSE follow the transaction
	// there); CursorHold: WITH HOLD, which outlives the transaction.
	Cursor, CursorHold bool

	Insert *Insert // KindInsert (and REPLACE)
	Update *Update // KindUpdate
	Select *Select // KindSelect: what a fan-out merge needs

	// Opaque explains why a statement of a routable kind contains something
	// the router cannot reason about safely (set by analyzers, e.g.
	// "UNION over sharded tables"); Route refuses it if it would fan out.
	Opaque string

	// Target for USE / SET / SHOW / COPY and other single-object commands.
	Object string // USE: database name; COPY: table; SET: variable name; DECLARE, FETCH, MOVE, CLOSE: cursor
	// CopyFrom is true for COPY ... FROM STDIN, false for COPY ... TO STDOUT.
	CopyFrom bool
	// SetLocal is SET LOCAL (PostgreSQL), which lasts only the transaction.
	SetLocal bool
	// SetGlobal is SET GLOBAL / SET PERSIST (MySQL): server-wide, not
	// session state.
	SetGlobal bool
	// Autocommit is the value a MySQL SET gives autocommit among other
	// variables (MariaDB Connector/J logs in with "set autocommit=1,
	// sql_mode=..."), as written; SetRest is that SET without it, and
	// Object then names its first other variable.
	Autocommit, SetRest string
	// ReadOnly is what BEGIN / START TRANSACTION / SET TRANSACTION say of
	// the transaction's access mode: 1 READ ONLY, -1 READ WRITE, 0 nothing.
	// A transaction declared READ ONLY may read from several shards under
	// single_shard: the servers refuse its writes, so it has nothing to
	// commit atomically.
	ReadOnly int8
	// SessionReadOnly is what a SET says of the access mode of the
	// session's later transactions (PostgreSQL SET SESSION
	// CHARACTERISTICS AS TRANSACTION, default_transaction_read_only;
	// MySQL SET SESSION TRANSACTION, tx_read_only): 1 READ ONLY, -1 READ
	// WRITE (RESET and DEFAULT included), 0 nothing. The servers get the
	// SET on every connection the session uses, so they enforce it, and
	// its transactions count as declared READ ONLY.
	SessionReadOnly int8
	// SessionSets are the settings a SET SESSION CHARACTERISTICS AS
	// TRANSACTION amounts to, each as its own SET: {name, statement} of
	// default_transaction_isolation, _read_only and _deferrable. A session
	// keeps them one by one, so a later SET or RESET of one replaces it.
	SessionSets [][2]string
	// SetConfig: the statement is PostgreSQL's SELECT set_config(name,
	// value, is_local) and nothing else, a SET in function form; the
	// planner reads Object and SetLocal from the values. ConfigLocals are
	// the is_local arguments of set_config calls anywhere else in the
	// statement: each must be true (lasting only the transaction), or the
	// statement would change the session where the proxy cannot see it.
	SetConfig    *[3]ValueRef
	ConfigLocals []ValueRef
	// ExportSnapshot: the statement is SELECT pg_export_snapshot() alone;
	// ImportSnapshot is the id of SET TRANSACTION SNAPSHOT 'id'. A
	// server's snapshot id means nothing on another shard, so the session
	// exports one per shard and imports each where it belongs.
	ExportSnapshot bool
	ImportSnapshot string
}

// Kind classifies a statement for routing and for the proxy's bookkeeping.
type Kind uint8

const (
	KindOther     Kind = iota // anything not listed: sent to any one shard
	KindSelect                // SELECT, VALUES, TABLE, WITH ... SELECT
	KindInsert                // INSERT and REPLACE
	KindUpdate                // UPDATE
	KindDelete                // DELETE
	KindDDL                   // CREATE/ALTER/DROP/TRUNCATE/RENAME/COMMENT/GRANT...: every shard primary
	KindBegin                 // BEGIN, START TRANSACTION
	KindCommit                // COMMIT, END
	KindRollback              // ROLLBACK (whole transaction)
	KindSavepoint             // SAVEPOINT, RELEASE, ROLLBACK TO SAVEPOINT
	KindSet                   // SET (session or local variable), SET NAMES, RESET
	KindUse                   // USE db (MySQL)
	KindShow                  // SHOW ...
	KindCopy                  // COPY (PostgreSQL)
	KindPrepare               // PREPARE / EXECUTE / DEALLOCATE in SQL text
	KindLock                  // LOCK TABLE (PostgreSQL): wherever the tables have rows
)

var kindNames = [...]string{"other", "select", "insert", "update", "delete", "ddl", "begin", "commit",
	"rollback", "savepoint", "set", "use", "show", "copy", "prepare", "lock"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind?"
}

// TableRef is one mention of a table.
type TableRef struct {
	Schema string // "" when not qualified
	Name   string // as the dialect resolves it: PostgreSQL folds unquoted names to lower case
	Alias  string // "" when none
}

// ValueRef names a value: placeholder number Slot (1-based: $n in
// PostgreSQL, the n-th ? in MySQL, counting in text order) in the analyzed
// text, or an inline literal when the text was analyzed un-normalized.
type ValueRef struct {
	Slot int      // > 0: placeholder number
	Lit  *Literal // when Slot == 0
}

// Literal is a constant written in the statement text: the tokenizer's
// type, so a literal lifted out of the text and one analyzed inline are
// the same value.
type Literal = sqltext.Literal

// CondOp is the shape of a Cond node.
type CondOp uint8

const (
	CondOpaque CondOp = iota // anything else: as far as routing knows, it may be true for any row
	CondAnd
	CondOr
	CondEq    // Col = Values[0] (either side order in the SQL)
	CondIn    // Col IN (Values...)
	CondColEq // Col = Col2 (join equality)
)

// Cond is the routing-relevant part of a predicate. Casts around a column
// or a value (id = $1::bigint) are seen through; anything else that is not
// AND, OR, =, IN (list) is CondOpaque. NOT over anything is CondOpaque.
type Cond struct {
	Op       CondOp
	Children []*Cond // CondAnd, CondOr
	Col      ColumnRef
	Col2     ColumnRef // CondColEq
	Values   []ValueRef
}

// ColumnRef is a possibly qualified column name.
type ColumnRef struct {
	Qualifier string // table alias or table name; "" when unqualified
	Name      string
}

// Insert is what routing needs of INSERT / REPLACE.
type Insert struct {
	Table   TableRef
	Columns []string // as written; nil when the statement lists none
	// Rows of a VALUES list: one ValueRef per column, in column order. A
	// cell that is not a plain value (DEFAULT, an expression) is the zero
	// ValueRef (Slot 0, Lit nil). The router finds the rows' text itself
	// (with the tokenizer) when it splits a multi-row INSERT.
	Rows   [][]ValueRef
	Select *Statement // INSERT ... SELECT: its source
	Upsert bool       // ON CONFLICT / ON DUPLICATE KEY UPDATE
	// UpsertSets lists the columns an ON CONFLICT DO UPDATE / ON DUPLICATE
	// KEY UPDATE assigns (changing the key there is refused). One set to
	// the value being inserted (id = EXCLUDED.id, id = VALUES(id): ORMs'
	// upserts assign every column so) is not listed: the row gets the key
	// the insert was routed by, so it stays on its shard.
	UpsertSets []string
	Returning  bool
	Replace    bool // MySQL REPLACE
}

// Update is what routing needs of UPDATE.
type Update struct {
	Sets []string // assigned column names, unqualified
}

// Select is what merging a fan-out needs of a SELECT. Analyzers report
// meaning only; the router finds clause text with the tokenizer when it
// rewrites (LIMIT, hidden columns, AVG).
type Select struct {
	Items    []SelectItem
	Distinct bool // SELECT DISTINCT (DISTINCT ON in PostgreSQL sets Opaque)
	// GroupBy holds, per GROUP BY expression, the index in Items it
	// matches (by position, alias or same expression), or -1.
	GroupBy []int
	Having  bool
	// HavingConds are the conjuncts of the HAVING, in the order written,
	// when each compares an aggregate (or, in MySQL, a select item by its
	// alias) with a constant or a placeholder; nil for any other HAVING.
	HavingConds []HavingCond
	OrderBy     []OrderItem
	Limit       *ValueRef
	Offset      *ValueRef
	// Compound is "UNION", "UNION ALL", "INTERSECT", "EXCEPT" or "".
	Compound string
	Window   bool // a window function anywhere in the select list
	HasFrom  bool // false for SELECT 1, SELECT version(), SELECT $1
}

// HavingCond is one conjunct of a HAVING that a merge can apply once it
// has combined the shards' groups: HAVING count(*) > 5 AND sum(x) <= $1.
type HavingCond struct {
	Agg  Aggregate // COUNT, SUM, MIN, MAX or AVG (not DISTINCT); AggNone with Item
	Item int       // the select item it names by alias (MySQL), or -1
	// Op is =, <>, <, <=, > or >=, as if the aggregate were on the left;
	// AggLeft says on which side it was written.
	Op      string
	AggLeft bool
	Value   ValueRef
}

// FlipComparison is the operator with its operands swapped: 5 < x is
// x > 5.
func FlipComparison(op string) string {
	switch op {
	case "<":
		return ">"
	case "<=":
		return ">="
	case ">":
		return "<"
	case ">=":
		return "<="
	case "!=":
		return "<>"
	}
	return op
}

// SelectItem is one entry of the select list.
type SelectItem struct {
	Star        bool      // * or t.*
	Agg         Aggregate // AggNone for anything that is not an aggregate call at the top
	Distinct    bool      // COUNT(DISTINCT x) and friends: not mergeable
	ContainsAgg bool      // an aggregate nested in an expression, e.g. SUM(a)+1: not mergeable
	// Coalesced: the item is COALESCE(agg, default) (MySQL also IFNULL),
	// the ORMs' way to get 0 rather than NULL over no rows. Agg is the
	// wrapped aggregate; the default applies once, to the combined value.
	Coalesced bool
	Alias     string     // AS name, "" when none
	Column    *ColumnRef // the item when it is a plain column reference
}

// Aggregate is an aggregate function at the top of a select item.
type Aggregate uint8

const (
	AggNone Aggregate = iota
	AggCount
	AggSum
	AggMin
	AggMax
	AggAvg
	AggOther // any other aggregate (string_agg, array_agg, stddev...): not mergeable
)

// OrderItem is one ORDER BY key.
type OrderItem struct {
	// Item is the index in Select.Items the key matches (ORDER BY 2, an
	// alias, or the same expression as an item), or -1.
	Item       int
	Column     *ColumnRef // the key when it is a plain column reference
	Desc       bool
	NullsFirst *bool // nil: the dialect's default (PostgreSQL: NULLS LAST for ASC; MySQL: NULLs first for ASC)
}

// Analyzer turns one statement of its dialect into a Statement. It must
// not keep per-call state (it is shared by all sessions), must return
// ErrSyntax (wrapped, with the parser's message) for text it cannot parse
// and ErrMultiStatement for more than one statement, and must never panic.
type Analyzer interface {
	Analyze(sql string) (*Statement, error)
}

// AppendColEqs appends the column equalities among c's top-level AND
// terms (analyzers collect join links with it).
func AppendColEqs(out []*Cond, c *Cond) []*Cond {
	switch c.Op {
	case CondColEq:
		return append(out, c)
	case CondAnd:
		for _, ch := range c.Children {
			out = AppendColEqs(out, ch)
		}
	}
	return out
}
