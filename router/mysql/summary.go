package mysql

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/format"

	"github.com/shardgate/shardgate/router"
)

// summary describes what merging a fan-out of SELECT x needs.
func (an *analysis) summary(st *router.Statement, x *ast.SelectStmt) *router.Select {
	sel := &router.Select{
		Distinct: x.Distinct,
		Having:   x.Having != nil,
		HasFrom:  x.From != nil,
	}
	// exprs holds the expression of each item (nil for a star), to match
	// GROUP BY / ORDER BY expressions against.
	var exprs []ast.ExprNode
	switch {
	case x.Kind == ast.SelectStmtKindValues:
		if len(x.Lists) > 0 && x.Lists[0] != nil {
			for _, v := range x.Lists[0].Values {
				sel.Items = append(sel.Items, router.SelectItem{})
				exprs = append(exprs, v)
			}
		}
	case x.Kind == ast.SelectStmtKindTable:
		sel.Items = []router.SelectItem{{Star: true}}
		exprs = []ast.ExprNode{nil}
	case x.Fields != nil:
		for _, f := range x.Fields.Fields {
			if f == nil {
				continue
			}
			item, window := selectItem(f)
			sel.Items = append(sel.Items, item)
			sel.Window = sel.Window || window
			if f.WildCard != nil {
				exprs = append(exprs, nil)
			} else {
				exprs = append(exprs, f.Expr)
			}
		}
	}
	if x.GroupBy != nil {
		for _, g := range x.GroupBy.Items {
			if g != nil {
				sel.GroupBy = append(sel.GroupBy, matchItem(g.Expr, sel.Items, exprs, false))
			}
		}
	}
	if x.Having != nil && x.Having.Expr != nil {
		sel.HavingConds = an.havingConds(x.Having.Expr, sel.Items)
	}
	if x.OrderBy != nil {
		sel.OrderBy = an.orderBy(x.OrderBy, sel.Items, exprs)
	}
	if x.Limit != nil {
		an.limit(st, sel, x.Limit)
	}
	return sel
}

// selectItem describes one entry of a select list, and whether it holds a
// window function.
func selectItem(f *ast.SelectField) (router.SelectItem, bool) {
	if f.WildCard != nil {
		return router.SelectItem{Star: true}, false
	}
	item := router.SelectItem{Alias: f.AsName.O}
	if f.Expr == nil {
		return item, false
	}
	e := unparen(f.Expr)
	switch x := e.(type) {
	case *ast.AggregateFuncExpr:
		item.Agg = aggregate(x.F)
		item.Distinct = x.Distinct
	case *ast.ColumnNameExpr:
		if x.Name != nil {
			c := columnRef(x.Name)
			item.Column = &c
		}
	default:
		if agg, def, ok := coalescedAggregate(e); ok {
			// COALESCE(SUM(x), 0): the aggregate, with a default for NULL.
			item.Agg, item.Distinct, item.Coalesced = aggregate(agg.F), agg.Distinct, true
			item.ContainsAgg = contains(def, isAggregate)
			break
		}
		item.ContainsAgg = contains(e, isAggregate)
	}
	return item, contains(e, isWindow)
}

// coalescedAggregate matches COALESCE(agg(...), default) and
// IFNULL(agg(...), default) for the aggregates a merge can combine.
func coalescedAggregate(e ast.ExprNode) (*ast.AggregateFuncExpr, ast.ExprNode, bool) {
	fc, ok := e.(*ast.FuncCallExpr)
	if !ok || len(fc.Args) != 2 || (fc.FnName.L != "coalesce" && fc.FnName.L != "ifnull") {
		return nil, nil, false
	}
	agg, ok := unparen(fc.Args[0]).(*ast.AggregateFuncExpr)
	if !ok {
		return nil, nil, false
	}
	if a := aggregate(agg.F); a == router.AggOther {
		return nil, nil, false
	}
	return agg, fc.Args[1], true
}

func aggregate(f string) router.Aggregate {
	switch strings.ToLower(f) {
	case "count":
		return router.AggCount
	case "sum":
		return router.AggSum
	case "min":
		return router.AggMin
	case "max":
		return router.AggMax
	case "avg":
		return router.AggAvg
	}
	return router.AggOther
}

func (an *analysis) orderBy(o *ast.OrderByClause, items []router.SelectItem, exprs []ast.ExprNode) []router.OrderItem {
	var out []router.OrderItem
	for _, b := range o.Items {
		if b == nil {
			continue
		}
		oi := router.OrderItem{Item: matchItem(b.Expr, items, exprs, true), Desc: b.Desc}
		if c, ok := unparen(b.Expr).(*ast.ColumnNameExpr); ok && c.Name != nil {
			ref := columnRef(c.Name)
			oi.Column = &ref
		}
		out = append(out, oi)
	}
	return out
}

func (an *analysis) limit(st *router.Statement, sel *router.Select, l *ast.Limit) {
	if l.Count != nil {
		v, ok := an.value(l.Count)
		if !ok && st.Opaque == "" {
			st.Opaque = "LIMIT expression"
		}
		sel.Limit = &v
	}
	if l.Offset != nil {
		v, ok := an.value(l.Offset)
		if !ok && st.Opaque == "" {
			st.Opaque = "OFFSET expression"
		}
		sel.Offset = &v
	}
}

// matchItem finds the select item a GROUP BY / ORDER BY key denotes: by
// position (ORDER BY 2), by name (an alias, or the same column), or by
// being the same expression; -1 when none. ORDER BY looks at aliases
// before columns, GROUP BY at columns before aliases, as MySQL does.
func matchItem(e ast.ExprNode, items []router.SelectItem, exprs []ast.ExprNode, order bool) int {
	e = unparen(e)
	switch x := e.(type) {
	case *ast.PositionExpr:
		if x.P == nil && x.N >= 1 && x.N <= len(items) {
			return x.N - 1
		}
		return -1
	case *ast.ColumnNameExpr:
		if x.Name == nil {
			return -1
		}
		ref := columnRef(x.Name)
		alias, col := -1, -1
		for i, it := range items {
			if alias < 0 && ref.Qualifier == "" && it.Alias != "" && strings.EqualFold(it.Alias, x.Name.Name.O) {
				alias = i
			}
			if col < 0 && it.Column != nil && it.Column.Name == ref.Name &&
				(ref.Qualifier == "" || it.Column.Qualifier == "" || it.Column.Qualifier == ref.Qualifier) {
				col = i
			}
		}
		first, second := col, alias
		if order {
			first, second = alias, col
		}
		if first >= 0 {
			return first
		}
		return second
	}
	// The same expression, compared as restored text. An expression with
	// a placeholder never matches: ? and ? may be different values.
	if len(exprs) == 0 || hasParam(e) {
		return -1
	}
	text, ok := restore(e)
	if !ok {
		return -1
	}
	for i, ie := range exprs {
		if ie == nil || hasParam(ie) {
			continue
		}
		if t, ok := restore(unparen(ie)); ok && t == text {
			return i
		}
	}
	return -1
}

func restore(e ast.ExprNode) (string, bool) {
	var sb strings.Builder
	if err := e.Restore(format.NewRestoreCtx(format.DefaultRestoreFlags, &sb)); err != nil {
		return "", false
	}
	return sb.String(), true
}

func isAggregate(n ast.Node) bool { _, ok := n.(*ast.AggregateFuncExpr); return ok }
func isWindow(n ast.Node) bool    { _, ok := n.(*ast.WindowFuncExpr); return ok }

// hasParam reports whether a ? occurs anywhere in e, subqueries included.
func hasParam(e ast.Node) bool {
	v := &markerVisitor{}
	e.Accept(v)
	return len(v.offsets) > 0
}

// contains reports whether a node matching pred occurs in e, not looking
// into subqueries (their aggregates are theirs).
func contains(e ast.Node, pred func(ast.Node) bool) bool {
	if e == nil {
		return false
	}
	v := &finder{pred: pred}
	e.Accept(v)
	return v.found
}

type finder struct {
	pred  func(ast.Node) bool
	found bool
}

func (f *finder) Enter(n ast.Node) (ast.Node, bool) {
	if f.found {
		return n, true
	}
	if f.pred(n) {
		f.found = true
		return n, true
	}
	switch n.(type) {
	case *ast.SubqueryExpr, *ast.SelectStmt, *ast.SetOprStmt:
		return n, true
	}
	return n, false
}

func (f *finder) Leave(n ast.Node) (ast.Node, bool) { return n, true }
