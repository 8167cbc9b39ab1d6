package postgres

import (
	"strconv"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/shardgate/shardgate/router"
)

// toCond turns a predicate into its routing-relevant shape. The rule is
// the router's safety: a Cond other than CondOpaque must hold for every row
// the predicate accepts, so anything not understood exactly is opaque.
func toCond(n *pg.Node) *router.Cond {
	switch x := n.GetNode().(type) {
	case *pg.Node_BoolExpr:
		op := boolOp(x.BoolExpr)
		if op == router.CondOpaque { // NOT
			return opaque()
		}
		c := &router.Cond{Op: op}
		collectFlat(x.BoolExpr, op, &c.Children)
		return c
	case *pg.Node_AExpr:
		return exprCond(x.AExpr)
	}
	return opaque()
}

// onlyTableColumns makes opaque every condition on a column that may not
// be a table's (see scope.resolve), so that the router never mistakes a
// subquery's or CTE's column for a table's key. A correlated column = value
// is made opaque too: inside a subquery it does not restrict the outer
// table's rows (NOT EXISTS, a scalar subquery). Correlated column =
// column stays: it is how the router sees that a subquery is co-located
// with its outer query.
func onlyTableColumns(c *router.Cond, lv *scope) *router.Cond {
	if c == nil {
		return nil
	}
	switch c.Op {
	case router.CondAnd, router.CondOr:
		for i, ch := range c.Children {
			c.Children[i] = onlyTableColumns(ch, lv)
		}
	case router.CondEq, router.CondIn:
		if table, outer := lv.resolve(c.Col); !table || outer {
			return opaque()
		}
	case router.CondColEq:
		t1, _ := lv.resolve(c.Col)
		t2, _ := lv.resolve(c.Col2)
		if !t1 || !t2 {
			return opaque()
		}
	}
	return c
}

func boolOp(e *pg.BoolExpr) router.CondOp {
	switch e.Boolop {
	case pg.BoolExprType_AND_EXPR:
		return router.CondAnd
	case pg.BoolExprType_OR_EXPR:
		return router.CondOr
	}
	return router.CondOpaque
}

// collectFlat appends the conditions of e's arguments, inlining nested
// BoolExprs of the same operator (a AND (b AND c)) in one pass.
func collectFlat(e *pg.BoolExpr, op router.CondOp, out *[]*router.Cond) {
	for _, arg := range e.Args {
		if inner := arg.GetBoolExpr(); inner != nil && boolOp(inner) == op {
			collectFlat(inner, op, out)
			continue
		}
		*out = appendFlat(*out, op, toCond(arg))
	}
}

func opaque() *router.Cond { return &router.Cond{Op: router.CondOpaque} }

// appendFlat appends c to children of an op node, inlining c's own children
// when c is the same op (AND inside AND).
func appendFlat(children []*router.Cond, op router.CondOp, c *router.Cond) []*router.Cond {
	if c.Op == op {
		return append(children, c.Children...)
	}
	return append(children, c)
}

// andConds combines conditions with AND; nil when there are none.
func andConds(cs ...*router.Cond) *router.Cond {
	var kept []*router.Cond
	for _, c := range cs {
		if c != nil {
			kept = append(kept, c)
		}
	}
	switch len(kept) {
	case 0:
		return nil
	case 1:
		return kept[0]
	}
	and := &router.Cond{Op: router.CondAnd}
	for _, c := range kept {
		and.Children = appendFlat(and.Children, router.CondAnd, c)
	}
	return and
}

func exprCond(e *pg.A_Expr) *router.Cond {
	if !isEqOp(e.Name) {
		return opaque()
	}
	switch e.Kind {
	case pg.A_Expr_Kind_AEXPR_OP:
		if e.Lexpr == nil {
			return opaque()
		}
		return eqCond(e.Lexpr, e.Rexpr)
	case pg.A_Expr_Kind_AEXPR_IN: // name "=" is IN, "<>" is NOT IN
		if l := e.Rexpr.GetList(); l != nil {
			return inCond(e.Lexpr, l.Items)
		}
	case pg.A_Expr_Kind_AEXPR_OP_ANY: // col = ANY(ARRAY[...]); an array parameter stays opaque
		if arr := e.Rexpr.GetAArrayExpr(); arr != nil && len(arr.Elements) > 0 {
			if arr.Elements[0].GetAArrayExpr() == nil { // not a multi-dimensional array
				return inCond(e.Lexpr, arr.Elements)
			}
		}
	}
	return opaque()
}

// isEqOp reports whether an operator name is plain equality: "=" or
// OPERATOR(pg_catalog.=).
func isEqOp(name []*pg.Node) bool {
	switch len(name) {
	case 1:
		return name[0].GetString_().GetSval() == "="
	case 2:
		return name[0].GetString_().GetSval() == "pg_catalog" && name[1].GetString_().GetSval() == "="
	}
	return false
}

// eqCond is l = r: column = value, value = column, column = column, or a
// row comparison (a, b) = ($1, $2), which is a = $1 AND b = $2.
func eqCond(l, r *pg.Node) *router.Cond {
	if lr, rr := l.GetRowExpr(), r.GetRowExpr(); lr != nil && rr != nil {
		if len(lr.Args) != len(rr.Args) || len(lr.Args) == 0 {
			return opaque()
		}
		and := &router.Cond{Op: router.CondAnd}
		for i := range lr.Args {
			and.Children = appendFlat(and.Children, router.CondAnd, eqCond(lr.Args[i], rr.Args[i]))
		}
		return and
	}
	lc, lok := column(l)
	rc, rok := column(r)
	switch {
	case lok && rok:
		return &router.Cond{Op: router.CondColEq, Col: lc, Col2: rc}
	case lok:
		if v, ok := value(r); ok {
			return &router.Cond{Op: router.CondEq, Col: lc, Values: []router.ValueRef{v}}
		}
	case rok:
		if v, ok := value(l); ok {
			return &router.Cond{Op: router.CondEq, Col: rc, Values: []router.ValueRef{v}}
		}
	}
	return opaque()
}

// inCond is l IN (items...). A row on the left, (a, b) IN ((1, 2), (3,
// 4)), is an OR of row equalities.
func inCond(l *pg.Node, items []*pg.Node) *router.Cond {
	if l.GetRowExpr() != nil {
		or := &router.Cond{Op: router.CondOr}
		for _, it := range items {
			or.Children = appendFlat(or.Children, router.CondOr, eqCond(l, it))
		}
		return or
	}
	col, ok := column(l)
	if !ok {
		return opaque()
	}
	c := &router.Cond{Op: router.CondIn, Col: col, Values: make([]router.ValueRef, 0, len(items))}
	for _, it := range items {
		v, ok := value(it)
		if !ok {
			return opaque()
		}
		c.Values = append(c.Values, v)
	}
	return c
}

// column returns the column a node names, seeing through casts to text or
// varchar (injective for the key types int, string and uuid). Other casts
// of a column (to a numeric type, to char(n), citext...) can make distinct
// key values compare equal, so they are not seen through.
func column(n *pg.Node) (router.ColumnRef, bool) {
	for {
		tc := n.GetTypeCast()
		if tc == nil {
			break
		}
		if !columnCastOK(tc.TypeName) {
			return router.ColumnRef{}, false
		}
		n = tc.Arg
	}
	cr := n.GetColumnRef()
	if cr == nil {
		return router.ColumnRef{}, false
	}
	return columnRef(cr)
}

// columnRef converts a non-star column reference. For schema.table.column
// the qualifier is the table.
func columnRef(cr *pg.ColumnRef) (router.ColumnRef, bool) {
	f := cr.Fields
	if len(f) == 0 {
		return router.ColumnRef{}, false
	}
	name := f[len(f)-1].GetString_()
	if name == nil {
		return router.ColumnRef{}, false // t.*
	}
	c := router.ColumnRef{Name: name.Sval}
	if len(f) > 1 {
		c.Qualifier = f[len(f)-2].GetString_().GetSval()
	}
	return c, true
}

// isStar reports * or t.*.
func isStar(cr *pg.ColumnRef) bool {
	f := cr.Fields
	return len(f) > 0 && f[len(f)-1].GetAStar() != nil
}

// value returns the placeholder or literal a node is, seeing through casts
// that keep the value (to an integer type, text, varchar or uuid, without a
// length or precision modifier).
func value(n *pg.Node) (router.ValueRef, bool) {
	for {
		tc := n.GetTypeCast()
		if tc == nil {
			break
		}
		if !valueCastOK(tc.TypeName, tc.Arg) {
			return router.ValueRef{}, false
		}
		n = tc.Arg
	}
	switch x := n.GetNode().(type) {
	case *pg.Node_ParamRef:
		if x.ParamRef.Number <= 0 {
			return router.ValueRef{}, false
		}
		return router.ValueRef{Slot: int(x.ParamRef.Number)}, true
	case *pg.Node_AConst:
		if lit := literal(x.AConst); lit != nil {
			return router.ValueRef{Lit: lit}, true
		}
	}
	return router.ValueRef{}, false
}

// literal converts a constant; nil for a bit string, which no key type has.
func literal(c *pg.A_Const) *router.Literal {
	if c.Isnull {
		return &router.Literal{Null: true}
	}
	switch v := c.Val.(type) {
	case *pg.A_Const_Ival:
		return &router.Literal{Text: strconv.FormatInt(int64(v.Ival.GetIval()), 10)}
	case *pg.A_Const_Fval:
		return &router.Literal{Text: v.Fval.GetFval()}
	case *pg.A_Const_Sval:
		return &router.Literal{Text: v.Sval.GetSval(), String: true}
	case *pg.A_Const_Boolval:
		return &router.Literal{Text: strconv.FormatBool(v.Boolval.GetBoolval())}
	}
	return nil
}

// typeName is the unqualified (or pg_catalog) name of a cast's target type
// when it has no modifier, array bounds or %TYPE; "" otherwise.
func typeName(tn *pg.TypeName) string {
	if tn == nil || len(tn.Typmods) > 0 || len(tn.ArrayBounds) > 0 || tn.Setof || tn.PctType {
		return ""
	}
	switch len(tn.Names) {
	case 1:
	case 2:
		if tn.Names[0].GetString_().GetSval() != "pg_catalog" {
			return ""
		}
	default:
		return ""
	}
	return tn.Names[len(tn.Names)-1].GetString_().GetSval() // folded by the parser unless quoted
}

func columnCastOK(tn *pg.TypeName) bool {
	switch typeName(tn) {
	case "text", "varchar":
		return true
	}
	return false
}

func valueCastOK(tn *pg.TypeName, arg *pg.Node) bool {
	switch typeName(tn) {
	case "text", "varchar", "uuid":
		return true
	case "int2", "int4", "int8":
		// A float constant cast to an integer is rounded: 4.5::int8 is 5.
		_, isFloat := arg.GetAConst().GetVal().(*pg.A_Const_Fval)
		return !isFloat
	}
	return false
}
