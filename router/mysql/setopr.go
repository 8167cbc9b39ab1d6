package mysql

import (
	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardgate/shardgate/router"
)

// setOpr describes UNION / INTERSECT / EXCEPT. Each arm is analyzed on its
// own and listed as a child statement; the compound statement gets every
// arm's tables, no predicate of its own, the left-most arm's select list,
// and the outer ORDER BY / LIMIT.
func (an *analysis) setOpr(st *router.Statement, x *ast.SetOprStmt, scope *cteScope) {
	scope = an.with(st, x.With, scope)
	var arms []*router.Statement
	var ops []ast.SetOprType
	nested := false
	if x.SelectList != nil {
		scope = an.with(st, x.SelectList.With, scope)
		an.setOprArms(st, x.SelectList, scope, &arms, &ops, &nested)
	}
	sel := &router.Select{}
	for i, arm := range arms {
		// Each arm is a child statement, as in the PostgreSQL analyzer: the
		// router places every arm on its own.
		st.Tables = append(st.Tables, arm.Tables...)
		st.Subqueries = append(st.Subqueries, arm)
		st.ForUpdate = st.ForUpdate || arm.ForUpdate
		as := arm.Select
		if as == nil {
			continue
		}
		if i == 0 {
			sel.Items = as.Items
		}
		sel.Having = sel.Having || as.Having
		sel.Window = sel.Window || as.Window
		sel.HasFrom = sel.HasFrom || as.HasFrom
		if st.Opaque == "" {
			st.Opaque = armOpaque(arm)
		}
	}
	sel.Compound = compound(ops)
	if sel.Compound == "" && len(ops) > 0 && st.Opaque == "" {
		st.Opaque = "mixed set operators"
	}
	if nested && st.Opaque == "" {
		st.Opaque = "nested set operation"
	}
	c := &collector{an: an, st: st, scope: scope}
	if x.OrderBy != nil {
		c.visit(x.OrderBy)
		sel.OrderBy = an.orderBy(x.OrderBy, sel.Items, nil)
	}
	if x.Limit != nil {
		c.visit(x.Limit)
		an.limit(st, sel, x.Limit)
	}
	st.Select = sel
}

// setOprArms flattens the arms of a set operation list into arms and
// their operators into ops. A parenthesized sub-list sets nested: its own
// operator, ORDER BY or LIMIT change the meaning of a flat reading.
func (an *analysis) setOprArms(st *router.Statement, l *ast.SetOprSelectList, scope *cteScope, arms *[]*router.Statement, ops *[]ast.SetOprType, nested *bool) {
	for _, n := range l.Selects {
		switch x := n.(type) {
		case *ast.SelectStmt:
			if len(*arms) > 0 && x.AfterSetOperator != nil {
				*ops = append(*ops, *x.AfterSetOperator)
			}
			*arms = append(*arms, an.query(x, scope))
		case *ast.SetOprSelectList:
			*nested = true
			if len(*arms) > 0 && x.AfterSetOperator != nil {
				*ops = append(*ops, *x.AfterSetOperator)
			}
			inner := an.with(st, x.With, scope)
			an.setOprArms(st, x, inner, arms, ops, nested)
			c := &collector{an: an, st: st, scope: inner}
			if x.OrderBy != nil {
				c.visit(x.OrderBy)
			}
			if x.Limit != nil {
				c.visit(x.Limit)
			}
		case *ast.SetOprStmt:
			*nested = true
			*arms = append(*arms, an.query(x, scope))
		}
	}
}

// armOpaque says why an arm of a set operation cannot be merged by
// concatenating (or de-duplicating) per-shard results.
func armOpaque(arm *router.Statement) string {
	if arm.Opaque != "" {
		return arm.Opaque
	}
	s := arm.Select
	if s == nil {
		return ""
	}
	if s.Limit != nil || s.Offset != nil {
		return "LIMIT inside a set operation"
	}
	if len(s.GroupBy) > 0 || s.Having {
		return "GROUP BY inside a set operation"
	}
	for _, it := range s.Items {
		if it.Agg != router.AggNone || it.ContainsAgg {
			return "aggregate inside a set operation"
		}
	}
	if s.Window {
		return "window function inside a set operation"
	}
	return ""
}

// compound names the set operator when all are the same kind ("" when
// they are mixed). MySQL's INTERSECT ALL / EXCEPT ALL are reported as
// INTERSECT / EXCEPT.
func compound(ops []ast.SetOprType) string {
	name := ""
	for _, op := range ops {
		var n string
		switch op {
		case ast.Union:
			n = "UNION"
		case ast.UnionAll:
			n = "UNION ALL"
		case ast.Except, ast.ExceptAll:
			n = "EXCEPT"
		case ast.Intersect, ast.IntersectAll:
			n = "INTERSECT"
		}
		if name != "" && n != name {
			return ""
		}
		name = n
	}
	return name
}

// or combines conditions with OR, flattening nested ORs.
func or(conds []*router.Cond) *router.Cond {
	var kids []*router.Cond
	for _, c := range conds {
		if c == nil {
			return nil // one side may be any row
		}
		if c.Op == router.CondOr {
			kids = append(kids, c.Children...)
		} else {
			kids = append(kids, c)
		}
	}
	switch len(kids) {
	case 0:
		return nil
	case 1:
		return kids[0]
	}
	return &router.Cond{Op: router.CondOr, Children: kids}
}
