package mysql

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/opcode"

	"github.com/shardgate/shardgate/router"
)

// havingConds reads a HAVING the merge can apply: aggregates, or select
// items named by their alias, compared with constants or placeholders,
// joined by AND. nil for anything else.
func (an *analysis) havingConds(e ast.ExprNode, items []router.SelectItem) []router.HavingCond {
	var out []router.HavingCond
	if !an.appendHaving(e, items, &out) {
		return nil
	}
	return out
}

var havingOps = map[opcode.Op]string{opcode.EQ: "=", opcode.NE: "<>", opcode.LT: "<", opcode.LE: "<=", opcode.GT: ">", opcode.GE: ">="}

func (an *analysis) appendHaving(e ast.ExprNode, items []router.SelectItem, out *[]router.HavingCond) bool {
	b, ok := unparen(e).(*ast.BinaryOperationExpr)
	if !ok {
		return false
	}
	if b.Op == opcode.LogicAnd {
		return an.appendHaving(b.L, items, out) && an.appendHaving(b.R, items, out)
	}
	op, ok := havingOps[b.Op]
	if !ok {
		return false
	}
	c := router.HavingCond{Item: -1, Op: op, AggLeft: true}
	side, val := b.L, b.R
	if !havingOperand(side, items, &c) {
		side, val = val, side
		c.Op, c.AggLeft = router.FlipComparison(op), false
		if !havingOperand(side, items, &c) {
			return false
		}
	}
	v, ok := an.value(val)
	if !ok {
		return false
	}
	c.Value = v
	*out = append(*out, c)
	return true
}

// havingOperand reads the merged side of a HAVING comparison into c: an
// aggregate the merge combines (COUNT, SUM, MIN, MAX, AVG, not DISTINCT),
// or a select item named by its alias.
func havingOperand(e ast.ExprNode, items []router.SelectItem, c *router.HavingCond) bool {
	switch x := unparen(e).(type) {
	case *ast.AggregateFuncExpr:
		if x.Distinct {
			return false
		}
		switch a := aggregate(x.F); a {
		case router.AggCount, router.AggSum, router.AggMin, router.AggMax, router.AggAvg:
			c.Agg = a
			return true
		}
	case *ast.ColumnNameExpr:
		if x.Name == nil || x.Name.Table.L != "" {
			return false
		}
		for i, it := range items {
			if it.Alias != "" && strings.EqualFold(it.Alias, x.Name.Name.O) {
				c.Item = i
				return true
			}
		}
	}
	return false
}
