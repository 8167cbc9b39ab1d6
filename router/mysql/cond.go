package mysql

import (
	"strconv"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	pmysql "github.com/pingcap/tidb/pkg/parser/mysql"
	"github.com/pingcap/tidb/pkg/parser/opcode"
	"github.com/pingcap/tidb/pkg/parser/test_driver"

	"github.com/shardgate/shardgate/router"
)

// cond converts a predicate into its routing-relevant shape.
func (an *analysis) cond(e ast.ExprNode) *router.Cond {
	switch x := unparen(e).(type) {
	case *ast.BinaryOperationExpr:
		switch x.Op {
		case opcode.LogicAnd:
			return and([]*router.Cond{an.cond(x.L), an.cond(x.R)})
		case opcode.LogicOr:
			return or([]*router.Cond{an.cond(x.L), an.cond(x.R)})
		case opcode.EQ, opcode.NullEQ:
			return an.eq(x.L, x.R)
		}
	case *ast.PatternInExpr:
		if x.Not || x.Sel != nil || len(x.List) == 0 {
			break
		}
		col, ok := column(x.Expr)
		if !ok {
			break
		}
		vals := make([]router.ValueRef, 0, len(x.List))
		for _, item := range x.List {
			v, ok := an.value(item)
			if !ok {
				return &router.Cond{Op: router.CondOpaque}
			}
			vals = append(vals, v)
		}
		return &router.Cond{Op: router.CondIn, Col: col, Values: vals}
	}
	return &router.Cond{Op: router.CondOpaque}
}

// eq converts l = r.
func (an *analysis) eq(l, r ast.ExprNode) *router.Cond {
	lc, lok := column(l)
	rc, rok := column(r)
	switch {
	case lok && rok:
		return &router.Cond{Op: router.CondColEq, Col: lc, Col2: rc}
	case lok:
		if v, ok := an.value(r); ok {
			return &router.Cond{Op: router.CondEq, Col: lc, Values: []router.ValueRef{v}}
		}
	case rok:
		if v, ok := an.value(l); ok {
			return &router.Cond{Op: router.CondEq, Col: rc, Values: []router.ValueRef{v}}
		}
	}
	return &router.Cond{Op: router.CondOpaque}
}

// column returns the column e refers to, seeing through parentheses and
// casts. MySQL column names are case-insensitive: the name is lower-cased;
// the qualifier (a table name or alias, case-sensitive) is kept as written.
func column(e ast.ExprNode) (router.ColumnRef, bool) {
	if c, ok := unwrap(e).(*ast.ColumnNameExpr); ok && c.Name != nil {
		return columnRef(c.Name), true
	}
	return router.ColumnRef{}, false
}

func columnRef(c *ast.ColumnName) router.ColumnRef {
	return router.ColumnRef{Qualifier: c.Table.O, Name: c.Name.L}
}

// value returns the ValueRef of a placeholder or constant, seeing through
// parentheses, casts and a unary sign; false for anything else.
func (an *analysis) value(e ast.ExprNode) (router.ValueRef, bool) {
	switch x := unwrap(e).(type) {
	case *test_driver.ParamMarkerExpr:
		if n, ok := an.slot(x.Offset); ok {
			return router.ValueRef{Slot: n}, true
		}
	case *test_driver.ValueExpr:
		if lit, ok := literal(x); ok {
			return router.ValueRef{Lit: lit}, true
		}
	case *ast.UnaryOperationExpr:
		if x.Op != opcode.Minus && x.Op != opcode.Plus {
			break
		}
		v, ok := an.value(x.V)
		if !ok || v.Lit == nil || v.Lit.String || v.Lit.Null {
			break // only a number literal has a sign here
		}
		if x.Op == opcode.Plus {
			return v, true
		}
		text := v.Lit.Text
		if neg, ok := strings.CutPrefix(text, "-"); ok {
			text = neg
		} else {
			text = "-" + text
		}
		return router.ValueRef{Lit: &router.Literal{Text: text}}, true
	}
	return router.ValueRef{}, false
}

// literal converts a constant. Hex and bit literals (0x41, x'41', b'1')
// are left out: MySQL reads them as a number or a binary string depending
// on the context, so their value for the key is unknown.
func literal(x *test_driver.ValueExpr) (*router.Literal, bool) {
	switch x.Kind() {
	case test_driver.KindNull:
		return &router.Literal{Null: true}, true
	case test_driver.KindInt64:
		return &router.Literal{Text: strconv.FormatInt(x.GetInt64(), 10)}, true
	case test_driver.KindUint64:
		return &router.Literal{Text: strconv.FormatUint(x.GetUint64(), 10)}, true
	case test_driver.KindFloat32, test_driver.KindFloat64:
		return &router.Literal{Text: strconv.FormatFloat(x.GetFloat64(), 'g', -1, 64)}, true
	case test_driver.KindMysqlDecimal:
		if d := x.GetMysqlDecimal(); d != nil {
			return &router.Literal{Text: d.String()}, true
		}
	case test_driver.KindString:
		return &router.Literal{Text: x.GetString(), String: true}, true
	case test_driver.KindBytes:
		return &router.Literal{Text: string(x.GetBytes()), String: true}, true
	}
	return nil, false
}

// unparen strips parentheses.
func unparen(e ast.ExprNode) ast.ExprNode {
	for {
		p, ok := e.(*ast.ParenthesesExpr)
		if !ok || p.Expr == nil {
			return e
		}
		e = p.Expr
	}
}

// unwrap strips parentheses and value-preserving casts: CAST(x AS t),
// CONVERT(x, t), CONVERT(x USING cs), BINARY x. A cast to a string type
// of a given length (CAST(x AS CHAR(3))) truncates and is kept.
func unwrap(e ast.ExprNode) ast.ExprNode {
	for {
		switch x := e.(type) {
		case *ast.ParenthesesExpr:
			if x.Expr == nil {
				return e
			}
			e = x.Expr
		case *ast.FuncCastExpr:
			if x.Expr == nil || truncates(x) {
				return e
			}
			e = x.Expr
		case *ast.FuncCallExpr:
			if x.FnName.L != "convert" || x.Schema.L != "" || len(x.Args) != 2 {
				return e
			}
			e = x.Args[0]
		default:
			return e
		}
	}
}

func truncates(x *ast.FuncCastExpr) bool {
	if x.Tp == nil || x.Tp.GetFlen() <= 0 {
		return false
	}
	switch x.Tp.GetType() {
	case pmysql.TypeString, pmysql.TypeVarString, pmysql.TypeVarchar,
		pmysql.TypeBlob, pmysql.TypeTinyBlob, pmysql.TypeMediumBlob, pmysql.TypeLongBlob:
		return true
	}
	return false
}
