// Package mysql is the MySQL/MariaDB dialect of the router: it parses one
// statement with the TiDB parser and summarizes it as a router.Statement.
package mysql

import (
	"fmt"
	"slices"
	"sync"

	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
	pmysql "github.com/pingcap/tidb/pkg/parser/mysql"
	"github.com/pingcap/tidb/pkg/parser/test_driver" // registers the literal types the parser needs

	"github.com/shardgate/shardgate/router"
)

// Analyzer analyzes MySQL/MariaDB statements. It is safe for concurrent
// use: parsers (which are not) are pooled. The zero value is usable.
type Analyzer struct {
	parsers sync.Pool
}

var _ router.Analyzer = (*Analyzer)(nil)

// NewAnalyzer returns an Analyzer.
func NewAnalyzer() *Analyzer {
	return &Analyzer{}
}

func newParser() *parser.Parser {
	p := parser.New()
	p.SetMariaDB(true)
	p.EnableWindowFunc(true)
	// MySQL's default mode: no ANSI_QUOTES, so "x" is a string, `x` an
	// identifier; backslash escapes on; || is OR.
	mode, err := pmysql.GetSQLMode(pmysql.DefaultSQLMode)
	if err == nil {
		p.SetSQLMode(mode)
	}
	return p
}

// Analyze parses one statement and summarizes it. Errors wrap
// router.ErrSyntax (with the parser's message) or router.ErrMultiStatement.
func (a *Analyzer) Analyze(sql string) (st *router.Statement, err error) {
	p, _ := a.parsers.Get().(*parser.Parser)
	if p == nil {
		p = newParser()
	}
	phase := "parser" // which code panicked, for the error message
	defer func() {
		if r := recover(); r != nil {
			// The parser may be in any state: drop it rather than pool it.
			// Known case: the test_driver's decimal type panics on a number
			// literal of more than about 80 digits.
			st, err = nil, fmt.Errorf("%w: internal %s error: %v", router.ErrSyntax, phase, r)
			return
		}
		a.parsers.Put(p)
	}()
	sql = maintenanceAsOptimize(dropReturning(dropWork(mariadbComments(sql))))
	stmts, _, perr := p.ParseSQL(sql)
	phase = "analyzer"
	if perr != nil {
		return nil, fmt.Errorf("%w: %s", router.ErrSyntax, perr.Error())
	}
	switch len(stmts) {
	case 0:
		return nil, fmt.Errorf("%w: empty statement", router.ErrSyntax)
	case 1:
	default:
		return nil, router.ErrMultiStatement
	}
	// stmts aliases the parser's own slice: use it before the parser goes
	// back to the pool (the deferred Put runs after this).
	an := &analysis{sql: sql, params: paramOffsets(stmts[0])}
	st = an.statement(stmts[0])
	st.PrimaryFunc = primaryFunc(stmts[0])
	return st, nil
}

// primaryOnly are the functions whose state lives on one server: user-level
// locks (which must all meet on the primary to exclude each other) and
// MariaDB's sequences.
var primaryOnly = map[string]bool{
	"get_lock": true, "release_lock": true, "release_all_locks": true,
	"is_free_lock": true, "is_used_lock": true,
	"nextval": true, "setval": true, "lastval": true,
}

// primaryFunc returns the first primaryOnly function the statement calls,
// subqueries included.
func primaryFunc(n ast.Node) string {
	v := &funcFinder{}
	n.Accept(v)
	return v.found
}

type funcFinder struct{ found string }

func (f *funcFinder) Enter(n ast.Node) (ast.Node, bool) {
	if fc, ok := n.(*ast.FuncCallExpr); ok && f.found == "" && primaryOnly[fc.FnName.L] {
		f.found = fc.FnName.L
	}
	return n, f.found != ""
}

func (f *funcFinder) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// analysis is the state of one Analyze call.
type analysis struct {
	sql string // the text analyzed
	// params holds the byte offsets of the ? markers, sorted: the slot of
	// a marker is its index here plus one.
	params []int
}

// slot returns the 1-based placeholder number of the marker at offset.
func (an *analysis) slot(offset int) (int, bool) {
	i, ok := slices.BinarySearch(an.params, offset)
	return i + 1, ok
}

// paramOffsets collects the offsets of every ? marker in the statement.
func paramOffsets(n ast.Node) []int {
	v := &markerVisitor{}
	n.Accept(v)
	slices.Sort(v.offsets)
	return slices.Compact(v.offsets)
}

type markerVisitor struct{ offsets []int }

func (v *markerVisitor) Enter(n ast.Node) (ast.Node, bool) {
	if m, ok := n.(*test_driver.ParamMarkerExpr); ok {
		v.offsets = append(v.offsets, m.Offset)
	}
	return n, false
}

func (v *markerVisitor) Leave(n ast.Node) (ast.Node, bool) { return n, true }
