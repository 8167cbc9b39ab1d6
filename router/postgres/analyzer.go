// Package postgres is the PostgreSQL dialect of the router: it parses one
// statement with PostgreSQL's own grammar (pg_query, cgo) and describes it
// as a router.Statement.
package postgres

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"
	"github.com/pganalyze/pg_query_go/v6/parser"

	"github.com/shardgate/shardgate/router"
)

// Analyzer is the PostgreSQL router.Analyzer. It is stateless and safe for
// concurrent use.
type Analyzer struct{}

var _ router.Analyzer = Analyzer{}

// analysis carries one Analyze call; it has no state today but keeps the
// walking methods together.
type analysis struct{}

// Analyze parses exactly one statement and describes it. Placeholders ($n)
// become ValueRef slots and constants literals. It returns an error wrapping
// router.ErrSyntax for text PostgreSQL's grammar rejects and
// router.ErrMultiStatement for more than one statement. Text with no
// statement at all (blanks, comments) is a KindOther statement with nothing
// in it: any backend answers it with an empty-query response.
func (Analyzer) Analyze(sql string) (st *router.Statement, err error) {
	defer func() {
		if r := recover(); r != nil {
			st, err = nil, fmt.Errorf("%w: internal error analyzing statement: %v", router.ErrSyntax, r)
		}
	}()
	tree, err := pg.Parse(sql)
	if err != nil {
		var pe *parser.Error
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("%w: %s", router.ErrSyntax, pe.Message)
		}
		return nil, fmt.Errorf("%w: %s", router.ErrSyntax, err.Error())
	}
	switch len(tree.Stmts) {
	case 0: // only blanks, comments or semicolons: PostgreSQL answers EmptyQueryResponse
		return &router.Statement{Kind: router.KindOther}, nil
	case 1:
	default:
		return nil, router.ErrMultiStatement
	}
	var a analysis
	root := tree.Stmts[0].Stmt
	st = a.statement(root).st
	st.PrimaryFunc = primaryFunc(root)
	setConfigCalls(st, root)
	if sel := root.GetSelectStmt(); sel != nil && len(sel.FromClause) == 0 && sel.WhereClause == nil && len(sel.TargetList) == 1 {
		if fc := sel.TargetList[0].GetResTarget().GetVal().GetFuncCall(); fc != nil && len(fc.Args) == 0 {
			name, ok := builtinName(fc.Funcname)
			st.ExportSnapshot = ok && name == "pg_export_snapshot"
		}
	}
	return st, nil
}

// settingIfExists recognizes pg_dump's way of setting a variable only
// where the server has it: SELECT set_config(name, ...) FROM pg_settings
// WHERE name = 'x'. It returns 'x', as if the call named it.
func settingIfExists(sel *pg.SelectStmt, arg *pg.Node) (router.ValueRef, bool) {
	if len(sel.FromClause) != 1 || !isColumn(arg, "name") {
		return router.ValueRef{}, false
	}
	rv := sel.FromClause[0].GetRangeVar()
	if rv == nil || rv.Relname != "pg_settings" || rv.Schemaname != "" && rv.Schemaname != "pg_catalog" {
		return router.ValueRef{}, false
	}
	w := sel.WhereClause.GetAExpr()
	if w == nil || w.Kind != pg.A_Expr_Kind_AEXPR_OP || len(w.Name) != 1 || w.Name[0].GetString_().GetSval() != "=" {
		return router.ValueRef{}, false
	}
	switch {
	case isColumn(w.Lexpr, "name"):
		return value(w.Rexpr)
	case isColumn(w.Rexpr, "name"):
		return value(w.Lexpr)
	}
	return router.ValueRef{}, false
}

// isColumn reports whether n is the unqualified column reference col.
func isColumn(n *pg.Node, col string) bool {
	f := n.GetColumnRef().GetFields()
	return len(f) == 1 && f[0].GetString_().GetSval() == col
}

// accessMode reads READ ONLY / READ WRITE from the options of BEGIN or
// SET TRANSACTION (see Statement.ReadOnly).
func accessMode(opts []*pg.Node) int8 {
	var mode int8
	for _, o := range opts {
		if d := o.GetDefElem(); d != nil && d.Defname == "transaction_read_only" {
			mode = -1
			if d.Arg.GetAConst().GetIval().GetIval() != 0 {
				mode = 1
			}
		}
	}
	return mode
}

// setConfigCalls finds the statement's calls of set_config (see
// Statement.SetConfig). SELECT set_config(...) alone is a KindSet.
func setConfigCalls(st *router.Statement, root *pg.Node) {
	var calls []*pg.FuncCall
	visit(root, func(n *pg.Node) bool {
		if fc := n.GetFuncCall(); fc != nil {
			if name, ok := builtinName(fc.Funcname); ok && name == "set_config" {
				calls = append(calls, fc)
			}
		}
		return true
	})
	if len(calls) == 0 {
		return
	}
	if sel := root.GetSelectStmt(); len(calls) == 1 && sel != nil && len(sel.TargetList) == 1 &&
		sel.TargetList[0].GetResTarget().GetVal().GetFuncCall() == calls[0] && len(calls[0].Args) == 3 &&
		sel.Op == pg.SetOperation_SETOP_NONE && sel.GroupClause == nil && sel.HavingClause == nil {
		var args [3]router.ValueRef
		ok := len(sel.FromClause) == 0 && sel.WhereClause == nil
		for i, a := range calls[0].Args {
			isValue := false
			if i == 0 && !ok {
				args[i], isValue = settingIfExists(sel, a)
				ok = isValue
			} else {
				args[i], isValue = value(a)
			}
			ok = ok && isValue
		}
		if ok {
			st.Kind, st.SetConfig = router.KindSet, &args
			return
		}
	}
	for _, fc := range calls {
		var local router.ValueRef // none: refused
		if len(fc.Args) == 3 {
			local, _ = value(fc.Args[2])
		}
		st.ConfigLocals = append(st.ConfigLocals, local)
	}
}

// primaryOnly are the functions a standby refuses or answers for itself
// alone: sequences, advisory locks (which must all meet on one server to
// exclude each other), NOTIFY, transaction ids.
var primaryOnly = map[string]bool{
	"nextval": true, "setval": true, "currval": true, "lastval": true,
	"pg_advisory_lock": true, "pg_advisory_lock_shared": true,
	"pg_try_advisory_lock": true, "pg_try_advisory_lock_shared": true,
	"pg_advisory_xact_lock": true, "pg_advisory_xact_lock_shared": true,
	"pg_try_advisory_xact_lock": true, "pg_try_advisory_xact_lock_shared": true,
	"pg_advisory_unlock": true, "pg_advisory_unlock_shared": true, "pg_advisory_unlock_all": true,
	"pg_notify": true, "txid_current": true, "pg_current_xact_id": true,
}

// primaryFunc returns the first primaryOnly function the statement calls.
func primaryFunc(root *pg.Node) string {
	found := ""
	visit(root, func(n *pg.Node) bool {
		if found != "" {
			return false
		}
		if fc := n.GetFuncCall(); fc != nil {
			if name, ok := builtinName(fc.Funcname); ok && primaryOnly[name] {
				found = name
				return false
			}
		}
		return true
	})
	return found
}

// statement analyzes a top-level statement (or EXPLAIN's, PREPARE's).
func (a *analysis) statement(n *pg.Node) *built {
	switch x := n.GetNode().(type) {
	case *pg.Node_SelectStmt, *pg.Node_InsertStmt, *pg.Node_UpdateStmt, *pg.Node_DeleteStmt, *pg.Node_MergeStmt:
		return a.stmtChild(n, nil)
	case *pg.Node_ExplainStmt:
		return a.explain(x.ExplainStmt)
	case *pg.Node_DeclareCursorStmt:
		// Routed as its query; FETCH, MOVE and CLOSE name no table and
		// follow the transaction to its shard.
		d := x.DeclareCursorStmt
		b := a.stmtChild(d.Query, nil)
		if b == nil {
			return newBuilt(router.KindOther)
		}
		const cursorOptHold = 0x0020 // CURSOR_OPT_HOLD, parsenodes.h
		b.st.Cursor, b.st.CursorHold = true, d.Options&cursorOptHold != 0
		b.st.Object = d.Portalname
		return b
	case *pg.Node_FetchStmt: // FETCH and MOVE: the cursor they read
		b := newBuilt(router.KindOther)
		b.st.Object = x.FetchStmt.Portalname
		return b
	case *pg.Node_ClosePortalStmt: // CLOSE ALL: Object ""
		b := newBuilt(router.KindOther)
		b.st.Object = x.ClosePortalStmt.Portalname
		return b
	case *pg.Node_TransactionStmt:
		return transaction(x.TransactionStmt)
	case *pg.Node_VariableSetStmt:
		return setStmt(x.VariableSetStmt)
	case *pg.Node_VariableShowStmt:
		b := newBuilt(router.KindShow)
		b.st.Object = x.VariableShowStmt.Name
		return b
	case *pg.Node_ConstraintsSetStmt: // SET CONSTRAINTS: lasts the transaction
		b := newBuilt(router.KindSet)
		b.st.Object, b.st.SetLocal = "constraints", true
		return b
	case *pg.Node_CopyStmt:
		return a.copyStmt(x.CopyStmt)
	case *pg.Node_PrepareStmt:
		b := newBuilt(router.KindPrepare)
		b.st.Object = x.PrepareStmt.Name
		if c := a.prepared(x.PrepareStmt.Query); c != nil {
			b.addChild(c)
		}
		return b.finish()
	case *pg.Node_ExecuteStmt:
		b := newBuilt(router.KindPrepare)
		b.st.Object = x.ExecuteStmt.Name
		a.walkList(b, x.ExecuteStmt.Params, nil)
		return b.finish()
	case *pg.Node_DeallocateStmt: // DEALLOCATE ALL: Object ""
		b := newBuilt(router.KindPrepare)
		b.st.Object = x.DeallocateStmt.Name
		return b
	}
	return a.utility(n)
}

// prepared analyzes PREPARE's statement, which may be any statement.
func (a *analysis) prepared(n *pg.Node) *built {
	if n.GetNode() == nil {
		return nil
	}
	return a.statement(n)
}

// explain describes the explained statement, with Explain set. EXPLAIN
// ANALYZE executes the statement, so that of a write is described as the
// write itself (it must reach a primary), as the MySQL analyzer does.
func (a *analysis) explain(e *pg.ExplainStmt) *built {
	b := a.statement(e.Query)
	analyze := false
	for _, o := range e.Options {
		if d := o.GetDefElem(); d != nil && d.Defname == "analyze" {
			analyze = d.Arg == nil || !isFalse(d.Arg)
		}
	}
	b.st.Explain = !(analyze && (isWrite(b.st.Kind) || b.st.ForUpdate))
	return b
}

// isFalse reports an option argument written false/off/0.
func isFalse(n *pg.Node) bool {
	switch v := n.GetNode().(type) {
	case *pg.Node_String_:
		s := v.String_.GetSval()
		return s == "false" || s == "off" || s == "0"
	case *pg.Node_Boolean:
		return !v.Boolean.GetBoolval()
	case *pg.Node_Integer:
		return v.Integer.GetIval() == 0
	}
	return false
}

func transaction(t *pg.TransactionStmt) *built {
	var b *built
	switch t.Kind {
	case pg.TransactionStmtKind_TRANS_STMT_BEGIN, pg.TransactionStmtKind_TRANS_STMT_START:
		b = newBuilt(router.KindBegin)
		b.st.ReadOnly = accessMode(t.Options)
	case pg.TransactionStmtKind_TRANS_STMT_COMMIT:
		b = newBuilt(router.KindCommit)
	case pg.TransactionStmtKind_TRANS_STMT_ROLLBACK:
		b = newBuilt(router.KindRollback)
	case pg.TransactionStmtKind_TRANS_STMT_SAVEPOINT, pg.TransactionStmtKind_TRANS_STMT_RELEASE,
		pg.TransactionStmtKind_TRANS_STMT_ROLLBACK_TO:
		b = newBuilt(router.KindSavepoint)
		b.st.Object = t.SavepointName
	default: // PREPARE TRANSACTION, COMMIT PREPARED, ROLLBACK PREPARED
		b = newBuilt(router.KindOther)
		b.st.Object = t.Gid
		b.st.Opaque = "two-phase commit"
	}
	return b
}

// setStmt describes SET / RESET. SET TRANSACTION lasts the transaction, so
// it is SetLocal like SET LOCAL.
func setStmt(s *pg.VariableSetStmt) *built {
	b := newBuilt(router.KindSet)
	b.st.SetLocal = s.IsLocal
	switch {
	case s.Kind == pg.VariableSetKind_VAR_RESET_ALL:
		b.st.Object = "all"
		b.st.SessionReadOnly = -1
	case s.Kind == pg.VariableSetKind_VAR_SET_MULTI && s.Name == "SESSION CHARACTERISTICS":
		b.st.Object = "session characteristics"
		b.st.SessionReadOnly = accessMode(s.Args)
		b.st.SessionSets = characteristics(s.Args)
	case s.Kind == pg.VariableSetKind_VAR_SET_MULTI && s.Name == "TRANSACTION":
		b.st.Object, b.st.SetLocal = "transaction", true
		b.st.ReadOnly = accessMode(s.Args)
	case s.Kind == pg.VariableSetKind_VAR_SET_MULTI && s.Name == "TRANSACTION SNAPSHOT":
		b.st.Object, b.st.SetLocal = "transaction snapshot", true
		if len(s.Args) == 1 {
			b.st.ImportSnapshot = s.Args[0].GetAConst().GetSval().GetSval()
		}
	default:
		b.st.Object = strings.ToLower(s.Name)
		if b.st.Object == "default_transaction_read_only" && !s.IsLocal {
			b.st.SessionReadOnly = boolSetting(s)
		}
	}
	return b
}

// characteristics writes the modes of SET SESSION CHARACTERISTICS AS
// TRANSACTION as the settings they change (see Statement.SessionSets).
func characteristics(opts []*pg.Node) [][2]string {
	var out [][2]string
	onOff := func(n *pg.Node) string {
		if n.GetAConst().GetIval().GetIval() != 0 {
			return "on"
		}
		return "off"
	}
	for _, o := range opts {
		d := o.GetDefElem()
		if d == nil {
			continue
		}
		var name, value string
		switch d.Defname {
		case "transaction_isolation":
			name, value = "default_transaction_isolation", "'"+d.Arg.GetAConst().GetSval().GetSval()+"'"
		case "transaction_read_only":
			name, value = "default_transaction_read_only", onOff(d.Arg)
		case "transaction_deferrable":
			name, value = "default_transaction_deferrable", onOff(d.Arg)
		default:
			continue
		}
		out = append(out, [2]string{name, "SET " + name + " = " + value})
	}
	return out
}

// boolSetting reads the value a SET or RESET gives a boolean setting as
// a mode: 1 on, -1 off (RESET and DEFAULT: the server's default, taken
// for off), 0 when it cannot be read (the server then judges the SET).
func boolSetting(s *pg.VariableSetStmt) int8 {
	if s.Kind != pg.VariableSetKind_VAR_SET_VALUE {
		return -1 // RESET, SET ... TO DEFAULT
	}
	if len(s.Args) != 1 {
		return 0
	}
	c := s.Args[0].GetAConst()
	v := c.GetSval().GetSval()
	if c.GetIval() != nil {
		v = strconv.Itoa(int(c.GetIval().GetIval()))
	}
	return router.AccessMode(v)
}

// copyStmt describes COPY t FROM STDIN / COPY t TO STDOUT / COPY (query) TO.
func (a *analysis) copyStmt(c *pg.CopyStmt) *built {
	b := newBuilt(router.KindCopy)
	b.st.CopyFrom = c.IsFrom
	if c.Relation != nil {
		b.addTable(c.Relation, nil)
		b.st.Object = c.Relation.Relname
	}
	if q := a.stmtChild(c.Query, nil); q != nil {
		b.addChild(q)
	}
	if c.Filename != "" || c.IsProgram {
		b.st.Opaque = "COPY with a server-side file or program"
	}
	return b.finish()
}
