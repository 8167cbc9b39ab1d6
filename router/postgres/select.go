package postgres

import (
	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/shardgate/shardgate/router"
)

// selectStmt analyzes a SELECT (plain, VALUES or a set operation) into a
// KindSelect statement.
func (a *analysis) selectStmt(sel *pg.SelectStmt, sc *scope) *built {
	b := newBuilt(router.KindSelect)
	b.st.Select = &router.Select{}
	sc = a.with(b, sel.WithClause, sc)
	var targets []*pg.Node // the nodes Items were made of, for GROUP BY / ORDER BY matching
	switch {
	case sel.Op != pg.SetOperation_SETOP_NONE && sel.Op != pg.SetOperation_SET_OPERATION_UNDEFINED:
		targets = a.compound(b, sel, sc)
	case len(sel.ValuesLists) > 0:
		targets = a.values(b, sel.ValuesLists, sc)
	default:
		sc = newLevel(sc)
		targets = a.simpleSelect(b, sel, sc)
	}
	s := b.st.Select
	for _, n := range sel.SortClause {
		a.walk(b, n, sc)
		if sb := n.GetSortBy(); sb != nil {
			s.OrderBy = append(s.OrderBy, orderItem(b, sb, s.Items, targets))
		}
	}
	a.limit(b, sel, sc)
	if len(sel.LockingClause) > 0 {
		b.st.ForUpdate = true
	}
	if sel.IntoClause != nil { // SELECT ... INTO t: CREATE TABLE AS
		b.st.Kind = router.KindDDL
		b.addTable(sel.IntoClause.Rel, nil)
	}
	return b.finish()
}

// simpleSelect handles SELECT ... FROM ... WHERE ... GROUP BY ... HAVING;
// lv is its FROM level. FROM goes first so that subqueries elsewhere see
// its names.
func (a *analysis) simpleSelect(b *built, sel *pg.SelectStmt, lv *scope) []*pg.Node {
	s := b.st.Select
	var conds []*router.Cond
	for _, n := range sel.FromClause {
		a.fromItem(b, n, lv, true, &conds)
	}
	s.HasFrom = len(sel.FromClause) > 0
	targets := make([]*pg.Node, 0, len(sel.TargetList))
	for _, n := range sel.TargetList {
		a.walk(b, n, lv)
		rt := n.GetResTarget()
		if rt == nil {
			continue
		}
		item, window := selectItem(rt)
		s.Items = append(s.Items, item)
		s.Window = s.Window || window
		targets = append(targets, rt.Val)
	}
	if len(sel.DistinctClause) > 0 {
		s.Distinct = true
		a.walkList(b, sel.DistinctClause, lv)
		if sel.DistinctClause[0].GetNode() != nil {
			b.st.Opaque = "DISTINCT ON"
		}
	}
	if sel.WhereClause != nil {
		a.walk(b, sel.WhereClause, lv)
		conds = append(conds, toCond(sel.WhereClause))
	}
	b.st.Where = onlyTableColumns(andConds(conds...), lv)
	for _, n := range sel.GroupClause {
		a.walk(b, n, lv)
		if n.GetGroupingSet() != nil {
			b.st.Opaque = "GROUPING SETS"
			s.GroupBy = append(s.GroupBy, -1)
			continue
		}
		s.GroupBy = append(s.GroupBy, groupIndex(n, s.Items, targets))
	}
	if sel.HavingClause != nil {
		a.walk(b, sel.HavingClause, lv)
		s.Having = true
		s.HavingConds = havingConds(sel.HavingClause)
	}
	a.walkList(b, sel.WindowClause, lv)
	return targets
}

// values handles a VALUES statement: its items are the first row's cells.
func (a *analysis) values(b *built, rows []*pg.Node, sc *scope) []*pg.Node {
	var targets []*pg.Node
	for i, row := range rows {
		a.walk(b, row, sc)
		if i == 0 {
			targets = row.GetList().GetItems()
		}
	}
	for _, t := range targets {
		item, window := exprItem(t)
		b.st.Select.Items = append(b.st.Select.Items, item)
		b.st.Select.Window = b.st.Select.Window || window
	}
	return targets
}

// compound handles UNION / INTERSECT / EXCEPT. Arms joined by the same
// operator are flattened; each arm is a child statement. Items come from
// the left-most arm, which names the result's columns.
func (a *analysis) compound(b *built, sel *pg.SelectStmt, sc *scope) []*pg.Node {
	s := b.st.Select
	s.Compound = setOpName(sel)
	var arms []*pg.SelectStmt
	flattenArms(sel, sel, &arms)
	var targets []*pg.Node
	for i, arm := range arms {
		c := a.selectStmt(arm, sc)
		b.addChild(c)
		cs := c.st.Select
		if i == 0 {
			s.Items = cs.Items
			targets = armTargets(arm)
		}
		if cs.Compound != "" {
			b.st.Opaque = "nested set operations"
		}
		s.HasFrom = s.HasFrom || cs.HasFrom
		s.Window = s.Window || cs.Window
	}
	return targets
}

func setOpName(sel *pg.SelectStmt) string {
	switch sel.Op {
	case pg.SetOperation_SETOP_UNION:
		if sel.All {
			return "UNION ALL"
		}
		return "UNION"
	case pg.SetOperation_SETOP_INTERSECT:
		return "INTERSECT"
	case pg.SetOperation_SETOP_EXCEPT:
		return "EXCEPT"
	}
	return ""
}

// flattenArms lists the arms of top: nested set operations with the same
// operator and no clause of their own are the same level.
func flattenArms(top, s *pg.SelectStmt, arms *[]*pg.SelectStmt) {
	if s == nil {
		return
	}
	same := s.Op == top.Op && s.All == top.All
	if s != top && (!same || s.WithClause != nil || len(s.SortClause) > 0 || s.LimitCount != nil ||
		s.LimitOffset != nil || len(s.LockingClause) > 0) {
		*arms = append(*arms, s)
		return
	}
	if s.Op == pg.SetOperation_SETOP_NONE || s.Op == pg.SetOperation_SET_OPERATION_UNDEFINED {
		*arms = append(*arms, s)
		return
	}
	flattenArms(top, s.Larg, arms)
	flattenArms(top, s.Rarg, arms)
}

// armTargets returns the select-list expressions of the left-most plain
// SELECT (or VALUES row) under s.
func armTargets(s *pg.SelectStmt) []*pg.Node {
	for s != nil && s.Op != pg.SetOperation_SETOP_NONE && s.Op != pg.SetOperation_SET_OPERATION_UNDEFINED {
		s = s.Larg
	}
	if s == nil {
		return nil
	}
	if len(s.ValuesLists) > 0 {
		return s.ValuesLists[0].GetList().GetItems()
	}
	var ts []*pg.Node
	for _, n := range s.TargetList {
		if rt := n.GetResTarget(); rt != nil {
			ts = append(ts, rt.Val)
		}
	}
	return ts
}

// fromItem adds a FROM entry's tables and subqueries, and the names it
// exposes to level lv. When restrict is true every result row passes
// through this entry, so its inner joins' ON conditions (and USING
// equalities) restrict the result: they go to conds. The nullable side of
// an outer join does not restrict anything.
func (a *analysis) fromItem(b *built, n *pg.Node, lv *scope, restrict bool, conds *[]*router.Cond) {
	switch x := n.GetNode().(type) {
	case *pg.Node_RangeVar:
		table := b.addTable(x.RangeVar, lv)
		lv.addFrom(fromQualifier(n), table)
	case *pg.Node_RangeSubselect:
		a.walk(b, x.RangeSubselect.Subquery, lv)
		lv.addFrom(fromQualifier(n), false)
	case *pg.Node_RangeTableSample:
		a.fromItem(b, x.RangeTableSample.Relation, lv, false, nil)
		a.walkList(b, x.RangeTableSample.Args, lv)
		a.walk(b, x.RangeTableSample.Repeatable, lv)
	case *pg.Node_JoinExpr:
		j := x.JoinExpr
		inner := j.Jointype == pg.JoinType_JOIN_INNER
		a.fromItem(b, j.Larg, lv, restrict && (inner || j.Jointype == pg.JoinType_JOIN_LEFT), conds)
		a.fromItem(b, j.Rarg, lv, restrict && (inner || j.Jointype == pg.JoinType_JOIN_RIGHT), conds)
		if j.Alias != nil {
			lv.addFrom(j.Alias.Aliasname, false)
		}
		a.walk(b, j.Quals, lv)
		if j.IsNatural {
			return
		}
		lq, rq := fromQualifier(j.Larg), fromQualifier(j.Rarg)
		var using []*router.Cond
		for _, u := range j.UsingClause {
			col := u.GetString_().GetSval()
			using = append(using, &router.Cond{Op: router.CondColEq,
				Col:  router.ColumnRef{Qualifier: lq, Name: col},
				Col2: router.ColumnRef{Qualifier: rq, Name: col}})
		}
		// Every join's column equalities prove co-location, outer joins'
		// too; only those every result row passes restrict the result.
		b.st.JoinLinks = append(b.st.JoinLinks, using...)
		if j.Quals != nil {
			b.st.JoinLinks = router.AppendColEqs(b.st.JoinLinks, toCond(j.Quals))
		}
		if !restrict || !inner {
			return
		}
		*conds = append(*conds, using...)
		if j.Quals != nil {
			*conds = append(*conds, toCond(j.Quals))
		}
	default: // table functions, ROWS FROM, XMLTABLE, JSON_TABLE
		a.walk(b, n, lv)
		lv.addFrom(fromQualifier(n), false)
	}
}

// fromQualifier is the name a FROM entry's columns are qualified with: its
// alias, or a table's name. "" for an unaliased join (the column of a USING
// join with a join on its left may come from any of that join's tables).
func fromQualifier(n *pg.Node) string {
	switch x := n.GetNode().(type) {
	case *pg.Node_RangeVar:
		if x.RangeVar.Alias != nil {
			return x.RangeVar.Alias.Aliasname
		}
		return x.RangeVar.Relname
	case *pg.Node_RangeSubselect:
		return x.RangeSubselect.Alias.GetAliasname()
	case *pg.Node_RangeFunction:
		if x.RangeFunction.Alias != nil {
			return x.RangeFunction.Alias.Aliasname
		}
		if fns := x.RangeFunction.Functions; len(fns) == 1 {
			if items := fns[0].GetList().GetItems(); len(items) > 0 {
				return figureName(items[0])
			}
		}
	case *pg.Node_RangeTableFunc:
		return x.RangeTableFunc.Alias.GetAliasname()
	case *pg.Node_JsonTable:
		return x.JsonTable.Alias.GetAliasname()
	case *pg.Node_JoinExpr:
		return x.JoinExpr.Alias.GetAliasname()
	}
	return ""
}

// limit fills Limit and Offset. LIMIT ALL / LIMIT NULL is no limit.
func (a *analysis) limit(b *built, sel *pg.SelectStmt, sc *scope) {
	s := b.st.Select
	a.walk(b, sel.LimitCount, sc)
	a.walk(b, sel.LimitOffset, sc)
	s.Limit = limitValue(b, sel.LimitCount)
	s.Offset = limitValue(b, sel.LimitOffset)
	if sel.LimitOption == pg.LimitOption_LIMIT_OPTION_WITH_TIES {
		b.st.Opaque = "FETCH ... WITH TIES"
	}
}

func limitValue(b *built, n *pg.Node) *router.ValueRef {
	if n == nil {
		return nil
	}
	v, ok := value(n)
	if !ok {
		b.st.Opaque = "LIMIT/OFFSET is not a constant or placeholder"
		return &router.ValueRef{}
	}
	if v.Lit != nil && v.Lit.Null {
		return nil
	}
	return &v
}
