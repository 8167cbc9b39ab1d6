package postgres

import (
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/shardgate/shardgate/router"
)

// selectItem describes one select-list entry; window reports a window
// function anywhere in it.
func selectItem(rt *pg.ResTarget) (router.SelectItem, bool) {
	it, window := exprItem(rt.Val)
	it.Alias = rt.Name
	return it, window
}

// exprItem describes a select-list expression (or a VALUES cell).
func exprItem(n *pg.Node) (router.SelectItem, bool) {
	var it router.SelectItem
	switch x := n.GetNode().(type) {
	case *pg.Node_ColumnRef:
		if isStar(x.ColumnRef) {
			it.Star = true
		} else if c, ok := columnRef(x.ColumnRef); ok {
			it.Column = &c
		}
	case *pg.Node_FuncCall:
		if x.FuncCall.Over == nil {
			it.Agg = aggregateOf(x.FuncCall)
			it.Distinct = it.Agg != router.AggNone && x.FuncCall.AggDistinct
		}
	case *pg.Node_CoalesceExpr:
		// COALESCE(SUM(x), 0): the aggregate, with a default for NULL.
		if args := x.CoalesceExpr.Args; len(args) == 2 {
			if fc := args[0].GetFuncCall(); fc != nil && fc.Over == nil {
				if agg := aggregateOf(fc); agg != router.AggNone && agg != router.AggOther {
					it.Agg, it.Distinct, it.Coalesced = agg, fc.AggDistinct, true
				}
			}
		}
	case *pg.Node_TypeCast:
		// COUNT(..)::int: counts are whole numbers, so the shards' counts,
		// cast, add up to the total cast: merged as a SUM (by the
		// column's type). Casts of other aggregates do not commute with
		// the merge (SUM(x)::int rounds each shard's part).
		if fc := x.TypeCast.GetArg().GetFuncCall(); fc != nil && fc.Over == nil &&
			aggregateOf(fc) == router.AggCount && exactCountType(x.TypeCast.GetTypeName()) {
			it.Agg, it.Distinct = router.AggSum, fc.AggDistinct
		}
	case *pg.Node_JsonObjectAgg:
		if x.JsonObjectAgg.GetConstructor().GetOver() == nil {
			it.Agg = router.AggOther
		}
	case *pg.Node_JsonArrayAgg:
		if x.JsonArrayAgg.GetConstructor().GetOver() == nil {
			it.Agg = router.AggOther
		}
	}
	aggs, window := 0, false
	visit(n, func(m *pg.Node) bool {
		switch x := m.GetNode().(type) {
		case *pg.Node_SelectStmt:
			return false // a subquery's aggregates are its own
		case *pg.Node_FuncCall:
			if x.FuncCall.Over != nil {
				window = true
			} else if aggregateOf(x.FuncCall) != router.AggNone {
				aggs++
			}
		case *pg.Node_JsonObjectAgg:
			if x.JsonObjectAgg.GetConstructor().GetOver() != nil {
				window = true
			} else {
				aggs++
			}
		case *pg.Node_JsonArrayAgg:
			if x.JsonArrayAgg.GetConstructor().GetOver() != nil {
				window = true
			} else {
				aggs++
			}
		case *pg.Node_GroupingFunc:
			aggs++
		}
		return true
	})
	if it.Agg != router.AggNone {
		aggs-- // the item itself
	}
	it.ContainsAgg = aggs > 0
	return it, window
}

// exactCountType reports whether a count cast to t stays exact when the
// shards' counts are added: integer and numeric types, and float8 (exact
// below 2^53).
func exactCountType(t *pg.TypeName) bool {
	if t == nil || len(t.ArrayBounds) > 0 {
		return false
	}
	name, ok := builtinName(t.Names)
	if !ok {
		return false
	}
	switch name {
	case "int2", "int4", "int8", "numeric", "float8":
		return true
	}
	return false
}

// aggregateOf classifies a function call (without OVER) as an aggregate.
// User-defined aggregates are recognised only by syntax that only
// aggregates accept (*, DISTINCT, ORDER BY, FILTER, WITHIN GROUP).
func aggregateOf(fc *pg.FuncCall) router.Aggregate {
	if name, ok := builtinName(fc.Funcname); ok {
		plain := fc.AggFilter == nil && !fc.AggWithinGroup
		switch name {
		case "count":
			if plain {
				return router.AggCount
			}
			return router.AggOther
		case "sum":
			if plain {
				return router.AggSum
			}
			return router.AggOther
		case "min":
			if plain {
				return router.AggMin
			}
			return router.AggOther
		case "max":
			if plain {
				return router.AggMax
			}
			return router.AggOther
		case "avg":
			if plain {
				return router.AggAvg
			}
			return router.AggOther
		}
		if otherAggregates[name] || strings.HasPrefix(name, "regr_") {
			return router.AggOther
		}
	}
	if fc.AggStar || fc.AggDistinct || len(fc.AggOrder) > 0 || fc.AggFilter != nil || fc.AggWithinGroup {
		return router.AggOther
	}
	return router.AggNone
}

// otherAggregates are PostgreSQL's built-in aggregates besides count, sum,
// min, max and avg (regr_* are matched by prefix).
var otherAggregates = map[string]bool{
	"array_agg": true, "string_agg": true, "bool_and": true, "bool_or": true, "every": true,
	"bit_and": true, "bit_or": true, "bit_xor": true, "xmlagg": true, "any_value": true,
	"json_agg": true, "jsonb_agg": true, "json_agg_strict": true, "jsonb_agg_strict": true,
	"json_object_agg": true, "jsonb_object_agg": true, "json_object_agg_strict": true,
	"jsonb_object_agg_strict": true, "json_object_agg_unique": true, "jsonb_object_agg_unique": true,
	"json_object_agg_unique_strict": true, "jsonb_object_agg_unique_strict": true,
	"stddev": true, "stddev_pop": true, "stddev_samp": true,
	"variance": true, "var_pop": true, "var_samp": true,
	"corr": true, "covar_pop": true, "covar_samp": true,
	"percentile_cont": true, "percentile_disc": true, "mode": true,
	"rank": true, "dense_rank": true, "percent_rank": true, "cume_dist": true, // hypothetical-set forms
	"range_agg": true, "range_intersect_agg": true,
}

// builtinName returns a function's name when it is unqualified or in
// pg_catalog. A quoted "COUNT" is another function than count.
func builtinName(names []*pg.Node) (string, bool) {
	switch len(names) {
	case 1:
	case 2:
		if names[0].GetString_().GetSval() != "pg_catalog" {
			return "", false
		}
	default:
		return "", false
	}
	return names[len(names)-1].GetString_().GetSval(), true // folded by the parser unless quoted
}

// position returns n for a positional reference (GROUP BY 2, ORDER BY 2).
func position(n *pg.Node) (int, bool) {
	c := n.GetAConst()
	if c == nil || c.Isnull {
		return 0, false
	}
	iv, ok := c.Val.(*pg.A_Const_Ival)
	if !ok {
		return 0, false
	}
	return int(iv.Ival.GetIval()), true
}

// positionIndex maps a 1-based output position to an Items index. A star
// before it expands to an unknown number of columns: no match.
func positionIndex(pos int, items []router.SelectItem) int {
	if pos < 1 || pos > len(items) {
		return -1
	}
	for _, it := range items[:pos] {
		if it.Star {
			return -1
		}
	}
	return pos - 1
}

// exprIndex returns the first item whose expression equals n.
func exprIndex(n *pg.Node, items []router.SelectItem, targets []*pg.Node) int {
	for i, t := range targets {
		if i < len(items) && !items[i].Star && exprEqual(n, t) {
			return i
		}
	}
	return -1
}

// bareName is the name of an unqualified column reference, "" otherwise.
func bareName(n *pg.Node) string {
	cr := n.GetColumnRef()
	if cr == nil || len(cr.Fields) != 1 {
		return ""
	}
	return cr.Fields[0].GetString_().GetSval()
}

// groupIndex matches a GROUP BY expression to an item. As in PostgreSQL, a
// bare name means an input column before it means an output alias.
func groupIndex(n *pg.Node, items []router.SelectItem, targets []*pg.Node) int {
	if pos, ok := position(n); ok {
		return positionIndex(pos, items)
	}
	if i := exprIndex(n, items, targets); i >= 0 {
		return i
	}
	if name := bareName(n); name != "" {
		for i, it := range items {
			if it.Alias == name {
				return i
			}
		}
	}
	return -1
}

// orderItem describes an ORDER BY key. As in PostgreSQL, a bare name means
// an output column (alias or derived name) before it means an input column.
func orderItem(b *built, sb *pg.SortBy, items []router.SelectItem, targets []*pg.Node) router.OrderItem {
	oi := router.OrderItem{Item: -1}
	if cr := sb.Node.GetColumnRef(); cr != nil {
		if c, ok := columnRef(cr); ok {
			oi.Column = &c
		}
	}
	switch sb.SortbyDir {
	case pg.SortByDir_SORTBY_DESC:
		oi.Desc = true
	case pg.SortByDir_SORTBY_USING:
		switch op := sb.UseOp; {
		case isOp(op, "<"):
		case isOp(op, ">"):
			oi.Desc = true
		default:
			b.st.Opaque = "ORDER BY ... USING"
		}
	}
	switch sb.SortbyNulls {
	case pg.SortByNulls_SORTBY_NULLS_FIRST:
		t := true
		oi.NullsFirst = &t
	case pg.SortByNulls_SORTBY_NULLS_LAST:
		f := false
		oi.NullsFirst = &f
	}
	if pos, ok := position(sb.Node); ok {
		oi.Item = positionIndex(pos, items)
		return oi
	}
	if name := bareName(sb.Node); name != "" {
		for i, it := range items {
			if i < len(targets) && outputName(it, targets[i]) == name {
				oi.Item = i
				return oi
			}
		}
	}
	oi.Item = exprIndex(sb.Node, items, targets)
	return oi
}

func isOp(name []*pg.Node, op string) bool {
	switch len(name) {
	case 1:
		return name[0].GetString_().GetSval() == op
	case 2:
		return name[0].GetString_().GetSval() == "pg_catalog" && name[1].GetString_().GetSval() == op
	}
	return false
}

// outputName is the column name PostgreSQL gives an item: its alias, or
// the name derived from its expression (FigureColname, common cases).
func outputName(it router.SelectItem, target *pg.Node) string {
	if it.Alias != "" {
		return it.Alias
	}
	if it.Star {
		return ""
	}
	return figureName(target)
}

func figureName(n *pg.Node) string {
	switch x := n.GetNode().(type) {
	case *pg.Node_ColumnRef:
		f := x.ColumnRef.Fields
		if len(f) > 0 {
			return f[len(f)-1].GetString_().GetSval()
		}
	case *pg.Node_FuncCall:
		f := x.FuncCall.Funcname
		if len(f) > 0 {
			return f[len(f)-1].GetString_().GetSval()
		}
	case *pg.Node_TypeCast:
		if name := figureName(x.TypeCast.Arg); name != "" {
			return name
		}
		if names := x.TypeCast.GetTypeName().GetNames(); len(names) > 0 {
			return names[len(names)-1].GetString_().GetSval()
		}
	case *pg.Node_CaseExpr:
		return "case"
	}
	return ""
}
