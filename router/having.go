package router

import (
	"fmt"
	"strconv"

	"github.com/shardgate/shardgate/router/sqltext"
)

// A HAVING over shards cannot run on each shard: a group's rows may live
// on several, so a shard would judge a part of the group. The shards run
// the query without it, each HAVING aggregate added as a hidden column
// (AVG as SUM and COUNT), and the merge drops the groups that fail it.

// havingParts splits the HAVING's condition at AND and each conjunct at
// its comparison: token ranges [from, to) of both sides. Parentheses
// around the condition or a conjunct (ActiveRecord writes HAVING
// (count(*) > 5)) are looked through.
func (cl *clauses) havingParts(w *rewriter) (parts [][2][2]int, ok bool) {
	from, end := w.unparen(w.next(cl.having[0]), cl.having[1])
	if from >= end {
		return nil, false
	}
	var conjuncts [][2]int
	start, depth := from, w.toks[from].Depth
	for i := from; i < end; i = w.next(i) {
		if w.toks[i].Depth == depth && w.word(i, "AND") {
			conjuncts = append(conjuncts, [2]int{start, i})
			start = w.next(i)
		}
	}
	conjuncts = append(conjuncts, [2]int{start, end})
	for _, c := range conjuncts {
		a, b := w.unparen(c[0], c[1])
		if a >= b {
			return nil, false
		}
		found := false
		for i := a; i < b && !found; i = w.next(i) {
			t := w.toks[i]
			if t.Depth != w.toks[a].Depth || t.Kind != sqltext.TokOp {
				continue
			}
			switch w.text[t.Start:t.End] {
			case "=", "<>", "!=", "<", "<=", ">", ">=":
				if i == a || w.next(i) >= b {
					return nil, false
				}
				parts = append(parts, [2][2]int{{a, w.prevSignificant(i) + 1}, {w.next(i), w.prevSignificant(b) + 1}})
				found = true
			}
		}
		if !found {
			return nil, false
		}
	}
	return parts, true
}

// unparen narrows a token range [from, to) to the inside of parentheses
// that enclose all of it.
func (w *rewriter) unparen(from, to int) (int, int) {
	for from < to && w.punct(from, "(") {
		end := w.closing(from)
		if end < 0 || end != w.prevSignificant(to) {
			break
		}
		from, to = w.next(from), end
	}
	return from, to
}

// planHaving adds the HAVING's aggregates as hidden columns and its
// conjuncts as the merge's filters, and drops it from the shards' text.
func (c *planner) planHaving(w *rewriter, cl *clauses, m *Merge, addHidden func(...piece) int, star bool) ([]edit, error) {
	sel := c.st.Select
	parts, ok := cl.havingParts(w)
	if !ok || len(parts) != len(sel.HavingConds) {
		return nil, fmt.Errorf("a HAVING the proxy could not read")
	}
	for k, hc := range sel.HavingConds {
		col := hc.Item
		side := parts[k][1]
		if hc.AggLeft {
			side = parts[k][0]
		}
		switch {
		case col >= 0 && star:
			return nil, fmt.Errorf("HAVING naming a select item together with *")
		case col >= 0:
		case hc.Agg == AggAvg:
			open := w.next(side[0])
			if open >= side[1] || !w.punct(open, "(") || w.closing(open) != w.prevSignificant(side[1]) {
				return nil, fmt.Errorf("a HAVING AVG the proxy could not rewrite")
			}
			arg := span(w.toks[open].End, w.toks[w.closing(open)].Start)
			col = addHidden(lit("sum("), arg, lit(")"))
			count := addHidden(lit("count("), arg, lit(")"))
			m.Aggregates = append(m.Aggregates, AggColumn{Column: col, Func: AggAvg, CountColumn: count})
		default:
			col = addHidden(span(w.toks[side[0]].Start, w.toks[side[1]-1].End))
			m.Aggregates = append(m.Aggregates, AggColumn{Column: col, Func: hc.Agg})
		}
		v, null, err := c.b.text(hc.Value)
		if err != nil {
			return nil, fmt.Errorf("a HAVING value the proxy could not read (%v)", err)
		}
		m.Having = append(m.Having, HavingFilter{Column: col, Op: hc.Op, Value: v, Null: null})
	}
	last := w.prevSignificant(cl.having[1])
	return []edit{{w.toks[cl.having[0]].Start, w.toks[last].End, nil}}, nil
}

// text reads a value as SQL text; null reports NULL.
func (b binder) text(v ValueRef) (s string, null bool, err error) {
	if v.Lit != nil {
		return v.Lit.Text, v.Lit.Null, nil
	}
	param := v.Slot
	if b.slots != nil {
		if v.Slot < 1 || v.Slot > len(b.slots) {
			return "", false, fmt.Errorf("placeholder %d out of range", v.Slot)
		}
		s := b.slots[v.Slot-1]
		if s.Param == 0 {
			return s.Lit.Text, s.Lit.Null, nil
		}
		param = s.Param
	}
	if param < 1 || param > len(b.params) {
		return "", false, fmt.Errorf("parameter $%d is not bound", param)
	}
	switch p := b.params[param-1]; p.Kind {
	case ParamText:
		return p.Text, false, nil
	case ParamInt:
		return strconv.FormatInt(p.Int, 10), false, nil
	case ParamNull:
		return "", true, nil
	}
	return "", false, fmt.Errorf("a binary parameter")
}
