package mysql

import (
	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardgate/shardgate/router"
)

// cteScope is the chain of CTE names visible at a point of the statement.
// MySQL resolves CTE names like table names: case-sensitively (with the
// default lower_case_table_names=0 on Linux).
type cteScope struct {
	name string
	next *cteScope
}

func (s *cteScope) has(name string) bool {
	for ; s != nil; s = s.next {
		if s.name == name {
			return true
		}
	}
	return false
}

func (s *cteScope) push(name string) *cteScope { return &cteScope{name: name, next: s} }

// collector walks a part of a statement and records, into st, every table
// it names and every nested query (analyzed on its own as a child).
type collector struct {
	an    *analysis
	st    *router.Statement
	scope *cteScope
}

func (c *collector) Enter(n ast.Node) (ast.Node, bool) {
	switch x := n.(type) {
	case *ast.TableSource:
		if tn, ok := x.Source.(*ast.TableName); ok {
			c.table(tn, x.AsName.O)
			return n, true
		}
	case *ast.TableName:
		c.table(x, "")
		return n, true
	case *ast.SelectStmt:
		c.child(c.an.query(x, c.scope))
		return n, true
	case *ast.SetOprStmt:
		c.child(c.an.query(x, c.scope))
		return n, true
	case *ast.DeleteTableList:
		// DELETE t1, t2 FROM ...: names (often aliases) of tables the FROM
		// clause already lists.
		return n, true
	}
	return n, false
}

func (c *collector) Leave(n ast.Node) (ast.Node, bool) { return n, true }

func (c *collector) table(tn *ast.TableName, alias string) {
	if tn.Schema.O == "" && c.scope.has(tn.Name.O) {
		return // a CTE, not a table
	}
	c.st.Tables = append(c.st.Tables, router.TableRef{Schema: tn.Schema.O, Name: tn.Name.O, Alias: alias})
}

func (c *collector) child(ch *router.Statement) { addChild(c.st, ch) }

// addChild records a nested query: it is a subquery of st and its tables
// are st's tables too. A locking subquery makes the statement locking.
func addChild(st, ch *router.Statement) {
	st.Subqueries = append(st.Subqueries, ch)
	st.Tables = append(st.Tables, ch.Tables...)
	if ch.ForUpdate {
		st.ForUpdate = true
	}
}

// visit walks n (which may be a nil interface or pointer) with c.
func (c *collector) visit(n ast.Node) {
	if n != nil {
		n.Accept(c)
	}
}

// with analyzes the CTE bodies of w as subqueries of st and returns the
// scope in which the CTE names are visible. A CTE sees the ones defined
// before it, and itself when the clause is RECURSIVE.
func (an *analysis) with(st *router.Statement, w *ast.WithClause, scope *cteScope) *cteScope {
	if w == nil {
		return scope
	}
	for _, cte := range w.CTEs {
		if cte == nil {
			continue
		}
		inner := scope
		if w.IsRecursive || cte.IsRecursive {
			inner = scope.push(cte.Name.O)
		}
		if cte.Query != nil && cte.Query.Query != nil {
			addChild(st, an.query(cte.Query.Query, inner))
		}
		scope = scope.push(cte.Name.O)
	}
	return scope
}

// query analyzes a SELECT-like node (SELECT, TABLE, VALUES, a set
// operation) into a KindSelect statement.
func (an *analysis) query(n ast.ResultSetNode, scope *cteScope) *router.Statement {
	st := &router.Statement{Kind: router.KindSelect}
	switch x := n.(type) {
	case *ast.SelectStmt:
		an.selectStmt(st, x, scope)
	case *ast.SetOprStmt:
		an.setOpr(st, x, scope)
	default:
		c := &collector{an: an, st: st, scope: scope}
		c.visit(n)
		st.Select = &router.Select{HasFrom: len(st.Tables) > 0}
	}
	return st
}

func (an *analysis) selectStmt(st *router.Statement, x *ast.SelectStmt, scope *cteScope) {
	scope = an.with(st, x.With, scope)
	c := &collector{an: an, st: st, scope: scope}
	if x.Fields != nil {
		c.visit(x.Fields)
	}
	if x.From != nil {
		c.visit(x.From)
	}
	if x.Where != nil {
		c.visit(x.Where)
	}
	if x.GroupBy != nil {
		c.visit(x.GroupBy)
	}
	if x.Having != nil {
		c.visit(x.Having)
	}
	for i := range x.WindowSpecs {
		c.visit(&x.WindowSpecs[i])
	}
	for _, row := range x.Lists {
		if row != nil {
			c.visit(row)
		}
	}
	if x.OrderBy != nil {
		c.visit(x.OrderBy)
	}
	if x.Limit != nil {
		c.visit(x.Limit)
	}
	st.Where = an.where(x.From, x.Where)
	st.JoinLinks = an.joinLinks(x.From)
	if x.LockInfo != nil && x.LockInfo.LockType != ast.SelectLockNone {
		st.ForUpdate = true
	}
	st.Select = an.summary(st, x)
	switch {
	case st.Opaque != "":
	case x.SelectIntoOpt != nil:
		st.Opaque = "SELECT ... INTO"
	case x.SelectStmtOpts != nil && x.SelectStmtOpts.CalcFoundRows:
		st.Opaque = "SQL_CALC_FOUND_ROWS"
	case x.GroupBy != nil && x.GroupBy.Rollup:
		st.Opaque = "GROUP BY ... WITH ROLLUP"
	}
}

// where is the routing predicate of a statement: the ON/USING conditions
// of its inner joins AND-ed with its WHERE.
func (an *analysis) where(from *ast.TableRefsClause, where ast.ExprNode) *router.Cond {
	var conds []*router.Cond
	if from != nil && from.TableRefs != nil {
		conds = an.joinConds(from.TableRefs, conds)
	}
	if where != nil {
		conds = append(conds, an.cond(where))
	}
	return and(conds)
}

// joinConds appends the conditions every result row of join j satisfies:
// the ON and USING conditions of inner joins, and of the inner joins nested
// on the preserved side of outer joins. Nothing comes from the ON of a
// LEFT/RIGHT join (rows without a match still come out) nor from the
// nullable side's own joins.
func (an *analysis) joinConds(j *ast.Join, out []*router.Cond) []*router.Cond {
	left, right := joinSide(j.Left), joinSide(j.Right)
	switch j.Tp {
	case ast.LeftJoin:
		if left != nil {
			out = an.joinConds(left, out)
		}
		return out
	case ast.RightJoin:
		if right != nil {
			out = an.joinConds(right, out)
		}
		return out
	}
	// Inner join: comma, [INNER|CROSS] JOIN, STRAIGHT_JOIN. A NATURAL JOIN's
	// columns are unknown without the schema: nothing learned from it.
	if left != nil {
		out = an.joinConds(left, out)
	}
	if right != nil {
		out = an.joinConds(right, out)
	}
	if j.On != nil && j.On.Expr != nil {
		out = append(out, an.cond(j.On.Expr))
	}
	if len(j.Using) > 0 && !j.NaturalJoin {
		lq, lok := sourceName(j.Left)
		rq, rok := sourceName(j.Right)
		for _, col := range j.Using {
			if !lok || !rok {
				// A side is itself a join: which of its tables holds the
				// column is unknown without the schema.
				out = append(out, &router.Cond{Op: router.CondOpaque})
				continue
			}
			out = append(out, &router.Cond{
				Op:   router.CondColEq,
				Col:  router.ColumnRef{Qualifier: lq, Name: col.Name.L},
				Col2: router.ColumnRef{Qualifier: rq, Name: col.Name.L},
			})
		}
	}
	return out
}

// joinSide returns the join nested at a side of a join, if any.
func joinSide(n ast.ResultSetNode) *ast.Join {
	switch x := n.(type) {
	case *ast.Join:
		return x
	case *ast.TableSource:
		if j, ok := x.Source.(*ast.Join); ok {
			return j
		}
	}
	return nil
}

// sourceName is the name a single table (or derived table) at a join side
// is referred to by: its alias, else its name.
func sourceName(n ast.ResultSetNode) (string, bool) {
	switch x := n.(type) {
	case *ast.TableSource:
		if x.AsName.O != "" {
			return x.AsName.O, true
		}
		if tn, ok := x.Source.(*ast.TableName); ok {
			return tn.Name.O, true
		}
	case *ast.TableName:
		return x.Name.O, true
	case *ast.Join:
		if x.Right == nil {
			return sourceName(x.Left)
		}
	}
	return "", false
}

// and combines conditions with AND, flattening nested ANDs; nil for none.
func and(conds []*router.Cond) *router.Cond {
	var kids []*router.Cond
	for _, c := range conds {
		switch {
		case c == nil:
		case c.Op == router.CondAnd:
			kids = append(kids, c.Children...)
		default:
			kids = append(kids, c)
		}
	}
	switch len(kids) {
	case 0:
		return nil
	case 1:
		return kids[0]
	}
	return &router.Cond{Op: router.CondAnd, Children: kids}
}

// joinLinks lists the column equalities of every join's ON and USING,
// outer joins and joins nested under them included (inner joins at the top
// repeat what Where says, harmlessly): they prove that the joined tables
// meet on a column (co-location) without narrowing any shard set.
func (an *analysis) joinLinks(from *ast.TableRefsClause) []*router.Cond {
	if from == nil || from.TableRefs == nil {
		return nil
	}
	var out []*router.Cond
	var walk func(j *ast.Join)
	walk = func(j *ast.Join) {
		if l := joinSide(j.Left); l != nil {
			walk(l)
		}
		if r := joinSide(j.Right); r != nil {
			walk(r)
		}
		if j.On != nil && j.On.Expr != nil {
			out = router.AppendColEqs(out, an.cond(j.On.Expr))
		}
		if len(j.Using) > 0 && !j.NaturalJoin {
			lq, lok := sourceName(j.Left)
			rq, rok := sourceName(j.Right)
			for _, col := range j.Using {
				if lok && rok {
					out = append(out, &router.Cond{Op: router.CondColEq,
						Col:  router.ColumnRef{Qualifier: lq, Name: col.Name.L},
						Col2: router.ColumnRef{Qualifier: rq, Name: col.Name.L}})
				}
			}
		}
	}
	walk(from.TableRefs)
	return out
}
