package postgres

import (
	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/shardgate/shardgate/router"
)

// havingConds reads a HAVING the merge can apply: aggregates compared
// with constants or placeholders, joined by AND. nil for anything else.
func havingConds(n *pg.Node) []router.HavingCond {
	var out []router.HavingCond
	if !appendHaving(n, &out) {
		return nil
	}
	return out
}

func appendHaving(n *pg.Node, out *[]router.HavingCond) bool {
	if be := n.GetBoolExpr(); be != nil {
		if be.Boolop != pg.BoolExprType_AND_EXPR {
			return false
		}
		for _, arg := range be.Args {
			if !appendHaving(arg, out) {
				return false
			}
		}
		return true
	}
	e := n.GetAExpr()
	if e == nil || e.Kind != pg.A_Expr_Kind_AEXPR_OP || len(e.Name) != 1 {
		return false
	}
	op := e.Name[0].GetString_().GetSval()
	switch op {
	case "=", "<>", "!=", "<", "<=", ">", ">=":
	default:
		return false
	}
	c := router.HavingCond{Item: -1, Op: op, AggLeft: true}
	agg, val := e.Lexpr, e.Rexpr
	if havingAggregate(agg) == router.AggNone {
		agg, val = val, agg
		c.Op, c.AggLeft = router.FlipComparison(op), false
	}
	if c.Agg = havingAggregate(agg); c.Agg == router.AggNone {
		return false
	}
	v, ok := value(val)
	if !ok {
		return false
	}
	if c.Op == "!=" {
		c.Op = "<>"
	}
	c.Value = v
	*out = append(*out, c)
	return true
}

// havingAggregate is the aggregate a HAVING operand is, when the merge
// can combine it: COUNT, SUM, MIN, MAX or AVG, not DISTINCT.
func havingAggregate(n *pg.Node) router.Aggregate {
	fc := n.GetFuncCall()
	if fc == nil || fc.Over != nil || fc.AggDistinct {
		return router.AggNone
	}
	switch a := aggregateOf(fc); a {
	case router.AggCount, router.AggSum, router.AggMin, router.AggMax, router.AggAvg:
		return a
	}
	return router.AggNone
}
