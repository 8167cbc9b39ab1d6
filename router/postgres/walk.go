package postgres

import (
	"slices"

	pg "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/shardgate/shardgate/router"
)

// built is a Statement under construction. Tables are collected with the
// byte offset of their mention so that the final list is in text order
// whatever order the tree is walked in.
type built struct {
	st     *router.Statement
	tables []locTable
}

type locTable struct {
	loc int32
	ref router.TableRef
}

func newBuilt(k router.Kind) *built {
	return &built{st: &router.Statement{Kind: k}}
}

// finish fixes the table list. Called once per built, after its children
// have been added.
func (b *built) finish() *built {
	slices.SortStableFunc(b.tables, func(x, y locTable) int { return int(x.loc) - int(y.loc) })
	if len(b.tables) > 0 {
		b.st.Tables = make([]router.TableRef, len(b.tables))
		for i, t := range b.tables {
			b.st.Tables[i] = t.ref
		}
	}
	return b
}

// addTable records a table mention unless it names a CTE visible in sc;
// it reports whether rv is a table.
func (b *built) addTable(rv *pg.RangeVar, sc *scope) bool {
	if rv == nil || rv.Relname == "" {
		return false
	}
	if rv.Schemaname == "" && rv.Catalogname == "" && sc.isCTE(rv.Relname) {
		return false
	}
	b.tables = append(b.tables, locTable{rv.Location, tableRef(rv)})
	return true
}

// absorb takes a nested statement's tables without listing it as a
// subquery (INSERT ... SELECT's source).
func (b *built) absorb(c *built) {
	b.tables = append(b.tables, c.tables...)
}

// addChild lists a nested statement as a subquery; its tables count as the
// parent's too. A locking or writing child makes a SELECT parent a write.
func (b *built) addChild(c *built) {
	b.st.Subqueries = append(b.st.Subqueries, c.st)
	b.absorb(c)
	if b.st.Kind == router.KindSelect && (c.st.ForUpdate || isWrite(c.st.Kind)) {
		b.st.ForUpdate = true
	}
}

func isWrite(k router.Kind) bool {
	return k == router.KindInsert || k == router.KindUpdate || k == router.KindDelete
}

func tableRef(rv *pg.RangeVar) router.TableRef {
	t := router.TableRef{Schema: rv.Schemaname, Name: rv.Relname}
	if rv.Alias != nil {
		t.Alias = rv.Alias.Aliasname
	}
	return t
}

// scope is the chain of names visible at a point of the statement: the
// CTE names of WITH clauses (which hide tables of the same name), and the
// FROM entries of each enclosing SELECT/UPDATE/DELETE level (which tell
// whether a column in a predicate can belong to a table).
type scope struct {
	ctes   []string
	level  bool       // a FROM level (else a WITH clause)
	from   []fromName // level: its FROM entries so far
	parent *scope
}

// fromName is the name a FROM entry exposes and whether it is a table (as
// opposed to a CTE reference, a subquery, a function, a join alias).
type fromName struct {
	name  string
	table bool
}

func (s *scope) isCTE(name string) bool {
	for ; s != nil; s = s.parent {
		if slices.Contains(s.ctes, name) {
			return true
		}
	}
	return false
}

// newLevel starts a FROM level below sc.
func newLevel(sc *scope) *scope { return &scope{level: true, parent: sc} }

func (s *scope) addFrom(name string, table bool) {
	s.from = append(s.from, fromName{name, table})
}

// resolve reports where a column of a predicate at level s binds: table
// is false when it binds to a FROM entry that is no table (a qualifier
// naming a subquery, CTE or function; an unqualified name at a level whose
// FROM has entries but no table, where the router would look for it in an
// enclosing level instead); outer is true when it binds to an enclosing
// level (a correlated reference). A column found nowhere is a table's as
// far as the router can tell: it resolves names the same way.
func (s *scope) resolve(c router.ColumnRef) (table, outer bool) {
	first := true
	for ; s != nil; s = s.parent {
		if !s.level {
			continue
		}
		here := first
		first = false
		if c.Qualifier != "" {
			for _, f := range s.from {
				if f.name == c.Qualifier {
					return f.table, !here
				}
			}
			continue
		}
		if len(s.from) == 0 {
			continue
		}
		for _, f := range s.from {
			if f.table {
				return true, !here
			}
		}
		return false, !here
	}
	return true, !first
}

// with analyzes a WITH clause: each CTE body becomes a child statement, and
// the returned scope hides the CTE names from the table list. Without
// RECURSIVE a CTE body sees only the CTEs before it (so `WITH users AS
// (SELECT * FROM users)` reads the real table); with RECURSIVE it sees all.
func (a *analysis) with(b *built, wc *pg.WithClause, sc *scope) *scope {
	if wc == nil || len(wc.Ctes) == 0 {
		return sc
	}
	inner := &scope{parent: sc}
	var ctes []*pg.CommonTableExpr
	for _, n := range wc.Ctes {
		if cte := n.GetCommonTableExpr(); cte != nil {
			ctes = append(ctes, cte)
			if wc.Recursive {
				inner.ctes = append(inner.ctes, cte.Ctename)
			}
		}
	}
	modifying := false
	for _, cte := range ctes {
		if c := a.stmtChild(cte.Ctequery, inner); c != nil {
			b.addChild(c)
			modifying = modifying || isWrite(c.st.Kind) || c.st.Kind == router.KindOther
		}
		if !wc.Recursive {
			inner.ctes = append(inner.ctes, cte.Ctename)
		}
	}
	if modifying {
		b.st.Opaque = "data-modifying CTE"
		if b.st.Kind == router.KindSelect {
			b.st.ForUpdate = true
		}
	}
	return inner
}

// stmtChild analyzes a nested statement (a CTE body, a COPY or PREPARE
// query): SELECT, INSERT, UPDATE, DELETE or MERGE.
func (a *analysis) stmtChild(n *pg.Node, sc *scope) *built {
	switch x := n.GetNode().(type) {
	case *pg.Node_SelectStmt:
		return a.selectStmt(x.SelectStmt, sc)
	case *pg.Node_InsertStmt:
		return a.insertStmt(x.InsertStmt, sc)
	case *pg.Node_UpdateStmt:
		return a.updateStmt(x.UpdateStmt, sc)
	case *pg.Node_DeleteStmt:
		return a.deleteStmt(x.DeleteStmt, sc)
	case *pg.Node_MergeStmt:
		return a.mergeStmt(x.MergeStmt, sc)
	}
	return nil
}

// walk visits an arbitrary subtree (an expression, a FROM item, a utility
// statement) for what it contributes: every RangeVar is a table, every
// nested SELECT (or DML) a child statement. It does not descend into the
// children it creates: they analyze themselves.
func (a *analysis) walk(b *built, n *pg.Node, sc *scope) {
	if n == nil {
		return
	}
	switch x := n.Node.(type) {
	case nil, *pg.Node_ColumnRef, *pg.Node_ParamRef, *pg.Node_AConst, *pg.Node_AStar,
		*pg.Node_String_, *pg.Node_Integer, *pg.Node_Float, *pg.Node_Boolean,
		*pg.Node_BitString, *pg.Node_TypeName, *pg.Node_SetToDefault:
		return
	case *pg.Node_RangeVar:
		b.addTable(x.RangeVar, sc)
	case *pg.Node_SelectStmt, *pg.Node_InsertStmt, *pg.Node_UpdateStmt, *pg.Node_DeleteStmt, *pg.Node_MergeStmt:
		b.addChild(a.stmtChild(n, sc))
	case *pg.Node_AExpr:
		a.walk(b, x.AExpr.Lexpr, sc)
		a.walk(b, x.AExpr.Rexpr, sc)
	case *pg.Node_BoolExpr:
		a.walkList(b, x.BoolExpr.Args, sc)
	case *pg.Node_TypeCast:
		a.walk(b, x.TypeCast.Arg, sc)
	case *pg.Node_List:
		a.walkList(b, x.List.Items, sc)
	case *pg.Node_ResTarget:
		a.walk(b, x.ResTarget.Val, sc)
		a.walkList(b, x.ResTarget.Indirection, sc)
	case *pg.Node_SubLink:
		a.walk(b, x.SubLink.Testexpr, sc)
		a.walk(b, x.SubLink.Subselect, sc)
	case *pg.Node_FuncCall:
		fc := x.FuncCall
		a.walkList(b, fc.Args, sc)
		a.walkList(b, fc.AggOrder, sc)
		a.walk(b, fc.AggFilter, sc)
		if fc.Over != nil {
			a.walkMsg(b, fc.Over.ProtoReflect(), sc)
		}
	default:
		a.walkMsg(b, n.ProtoReflect().Get(whichField(n)).Message(), sc)
	}
}

func (a *analysis) walkList(b *built, ns []*pg.Node, sc *scope) {
	for _, n := range ns {
		a.walk(b, n, sc)
	}
}

// walkMsg is the generic part of walk: it reflects over any message's
// fields, so node types this file does not name are still searched.
func (a *analysis) walkMsg(b *built, m protoreflect.Message, sc *scope) {
	switch x := m.Interface().(type) {
	case *pg.Node:
		a.walk(b, x, sc)
		return
	case *pg.RangeVar:
		b.addTable(x, sc)
		return
	case *pg.SelectStmt:
		b.addChild(a.selectStmt(x, sc))
		return
	case *pg.WithClause:
		// A WITH clause met generically (not on a statement we analyze
		// ourselves): analyze the bodies; names stay unscoped.
		a.with(b, x, sc)
		return
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Kind() != protoreflect.MessageKind {
			return true
		}
		if fd.IsList() {
			l := v.List()
			for i := 0; i < l.Len(); i++ {
				a.walkMsg(b, l.Get(i).Message(), sc)
			}
		} else if !fd.IsMap() {
			a.walkMsg(b, v.Message(), sc)
		}
		return true
	})
}
