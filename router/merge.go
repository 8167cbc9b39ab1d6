package router

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/shardgate/shardgate/router/sqltext"
	"github.com/shardgate/shardgate/topology"
)

// planMerge decides how the rows of a scatter SELECT are combined and,
// where the merge needs it, rewrites the text every shard gets: LIMIT
// becomes offset+limit (or goes when grouping), AVG becomes SUM plus a
// hidden COUNT, and ORDER BY / GROUP BY keys missing from the select list
// are appended as hidden columns. What cannot be merged exactly is refused.
func (c *planner) planMerge(p *Plan) error {
	sel := c.st.Select
	if c.st.Explain {
		return nil // each shard's plan, concatenated
	}
	if sel == nil {
		return nil
	}
	refuse := func(why string) error {
		return fmt.Errorf("%w: %s in a query that spans %d shards (add the sharding key to the WHERE clause to pin it to one shard)", ErrUnsupported, why, len(p.Targets))
	}
	switch {
	case c.st.Opaque != "":
		return refuse(c.st.Opaque)
	case sel.Compound == "INTERSECT" || sel.Compound == "EXCEPT":
		return refuse(sel.Compound + " (a row's matches may live on other shards)")
	case sel.Window:
		return refuse("a window function")
	case sel.Having && (sel.HavingConds == nil || sel.Compound != ""):
		return refuse("a HAVING other than aggregates compared with constants or parameters, joined by AND")
	}
	compound := sel.Compound != "" // UNION [ALL]: arms are checked by the analyzers
	star := false
	aggregating := (len(sel.GroupBy) > 0 || sel.Having) && !compound
	for _, it := range sel.Items {
		switch {
		case it.Star:
			star = true
		case it.ContainsAgg:
			return refuse("an expression over an aggregate")
		case it.Distinct:
			return refuse("an aggregate over DISTINCT values")
		case it.Agg == AggOther:
			return refuse("an aggregate other than COUNT, SUM, MIN, MAX, AVG")
		}
		if it.Agg != AggNone && !compound {
			aggregating = true
		}
	}
	if star && aggregating {
		return refuse("* together with aggregates")
	}
	m := &Merge{Limit: -1, Distinct: sel.Distinct || sel.Compound == "UNION"}
	w, err := newRewriter(c.dialect, c.text, c.b)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrSyntax, err)
	}
	cl, err := w.clauses()
	if err != nil {
		return err
	}
	var hidden []piece // select-list additions, each starting with ", "
	nHidden := 0
	addHidden := func(expr ...piece) int {
		hidden = append(append(hidden, lit(", ")), expr...)
		nHidden++
		if star {
			return -nHidden // counted from the end: * has unknown width
		}
		return len(sel.Items) + nHidden - 1
	}
	var edits []edit

	// Aggregates and grouping.
	if aggregating {
		for i, it := range sel.Items {
			switch {
			case it.Agg == AggNone:
				m.GroupBy = append(m.GroupBy, i)
			case it.Agg == AggAvg:
				fn, arg, callEnd, ok := cl.aggCall(w, i, it.Coalesced)
				if !ok {
					return refuse("an AVG the proxy could not rewrite")
				}
				edits = append(edits, edit{fn.Start, fn.End, []piece{lit("sum")}})
				if it.Alias == "" {
					// Keep the column's name: PostgreSQL calls it "avg"
					// (or "coalesce", which the rewrite keeps), MySQL
					// names it by the expression as written.
					name := " AS avg"
					if c.dialect == sqltext.MySQL {
						name = " AS `" + strings.ReplaceAll(cl.itemText(w, i), "`", "``") + "`"
					}
					if it.Coalesced {
						callEnd = w.toks[cl.items[i][1]-1].End
					}
					if c.dialect == sqltext.MySQL || !it.Coalesced {
						edits = append(edits, edit{callEnd, callEnd, []piece{lit(name)}})
					}
				}
				count := addHidden(lit("count("), span(arg[0], arg[1]), lit(")"))
				a := AggColumn{Column: i, Func: AggAvg, CountColumn: count}
				if it.Coalesced {
					// Over no values the answer is the default as the
					// server prints COALESCE(AVG(..), d) (MySQL gives it
					// AVG's scale): a hidden copy of the item asks for it.
					from, to, ok := cl.outerCall(w, i)
					if !ok {
						return refuse("a COALESCE the proxy could not rewrite")
					}
					a.Coalesced, a.DefaultColumn = true, addHidden(span(from, to))
				}
				m.Aggregates = append(m.Aggregates, a)
			case it.Coalesced && it.Agg != AggCount: // COUNT is never NULL: nothing to coalesce
				_, arg, _, ok := cl.aggCall(w, i, true)
				if !ok {
					return refuse("a COALESCE the proxy could not rewrite")
				}
				count := addHidden(lit("count("), span(arg[0], arg[1]), lit(")"))
				m.Aggregates = append(m.Aggregates, AggColumn{Column: i, Func: it.Agg, CountColumn: count, Coalesced: true, DefaultColumn: i})
			default:
				m.Aggregates = append(m.Aggregates, AggColumn{Column: i, Func: it.Agg})
			}
		}
		for g, item := range sel.GroupBy {
			if item >= 0 {
				continue // the item is already in the group key
			}
			expr, ok := cl.listItem(w, cl.groupBy, g)
			if !ok {
				return refuse("a GROUP BY the proxy could not read")
			}
			m.GroupBy = append(m.GroupBy, addHidden(expr...))
		}
	}

	if sel.Having {
		having, err := c.planHaving(w, cl, m, addHidden, star)
		if err != nil {
			return refuse(err.Error())
		}
		edits = append(edits, having...)
	}

	// Sort keys.
	for k, o := range sel.OrderBy {
		key := SortKey{Desc: o.Desc, NullsFirst: nullsFirst(c.dialect, o)}
		switch {
		case o.Item >= 0 && !star:
			key.Column = o.Item
		default:
			expr, ok := cl.listItem(w, cl.orderBy, k)
			if !ok {
				return refuse("an ORDER BY the proxy could not read")
			}
			if o.Item >= 0 {
				return refuse("ORDER BY a select-list item together with *")
			}
			if compound {
				return refuse("ORDER BY an expression that is not in the select list of a " + sel.Compound)
			}
			if aggregating {
				return refuse("ORDER BY an expression that is not in the select list of a grouped query")
			}
			key.Column = addHidden(expr...)
		}
		m.OrderBy = append(m.OrderBy, key)
	}

	// LIMIT / OFFSET: the merge applies them; each shard needs at most
	// offset+limit rows, and none can be cut when groups span shards.
	limit, offset, err := c.limits(sel)
	if err != nil {
		return err
	}
	m.Limit, m.Offset = limit, offset
	if cl.limit[0] < cl.limit[1] {
		var repl []piece
		if limit >= 0 && !aggregating {
			repl = []piece{lit("LIMIT " + strconv.FormatInt(limit+offset, 10))}
		}
		edits = append(edits, edit{cl.limit[0], cl.limit[1], repl})
	}
	if nHidden > 0 {
		edits = append(edits, edit{cl.itemsEnd, cl.itemsEnd, hidden})
		m.Hidden = nHidden
	}
	if m.Limit < 0 && m.Offset == 0 && len(m.OrderBy) == 0 && !aggregating && !m.Distinct {
		return nil // plain concatenation
	}
	p.Merge = m
	if len(edits) > 0 {
		sql, params := w.render(applyEdits(len(c.text), edits))
		for i := range p.Targets {
			p.Targets[i].SQL, p.Targets[i].Params = sql, params
		}
	}
	return nil
}

// nullsFirst is where NULLs sort for a key: as written, else the
// dialect's default (PostgreSQL: NULLs are larger than everything;
// MySQL: smaller).
func nullsFirst(d sqltext.Dialect, o OrderItem) bool {
	if o.NullsFirst != nil {
		return *o.NullsFirst
	}
	if d == sqltext.MySQL {
		return !o.Desc
	}
	return o.Desc
}

// limits reads LIMIT and OFFSET values for this execution.
func (c *planner) limits(sel *Select) (limit, offset int64, err error) {
	limit = -1
	read := func(v *ValueRef, what string) (int64, error) {
		n, err := c.b.int(*v)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%w: %s must be a non-negative integer literal or parameter in a query that spans shards", ErrUnsupported, what)
		}
		return n, nil
	}
	if sel.Limit != nil {
		if limit, err = read(sel.Limit, "LIMIT"); err != nil {
			return
		}
	}
	if sel.Offset != nil {
		offset, err = read(sel.Offset, "OFFSET")
	}
	return
}

// int reads a value as a 64-bit integer (LIMIT, OFFSET).
func (b binder) int(v ValueRef) (int64, error) {
	if v.Lit != nil {
		return topology.ParseIntKey(v.Lit.Text)
	}
	param := v.Slot
	if b.slots != nil {
		if v.Slot < 1 || v.Slot > len(b.slots) {
			return 0, topology.ErrBadKey
		}
		if s := b.slots[v.Slot-1]; s.Param == 0 {
			return topology.ParseIntKey(s.Lit.Text)
		} else {
			param = s.Param
		}
	}
	if param < 1 || param > len(b.params) {
		return 0, topology.ErrBadKey
	}
	switch p := b.params[param-1]; p.Kind {
	case ParamInt:
		return p.Int, nil
	case ParamText:
		return topology.ParseIntKey(p.Text)
	}
	return 0, topology.ErrBadKey
}
