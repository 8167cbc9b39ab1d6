package postgres

import (
	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/shardgate/shardgate/router"
)

// insertStmt analyzes INSERT. A VALUES list becomes Rows; any other source
// (SELECT, VALUES with ORDER BY/LIMIT...) becomes Insert.Select.
func (a *analysis) insertStmt(ins *pg.InsertStmt, sc *scope) *built {
	b := newBuilt(router.KindInsert)
	in := &router.Insert{}
	b.st.Insert = in
	sc = a.with(b, ins.WithClause, sc)
	lv := a.target(b, ins.Relation, sc) // for ON CONFLICT and RETURNING
	lv.addFrom("excluded", false)
	if ins.Relation != nil {
		in.Table = tableRef(ins.Relation)
	}
	for _, n := range ins.Cols {
		if rt := n.GetResTarget(); rt != nil {
			in.Columns = append(in.Columns, rt.Name)
			a.walkList(b, rt.Indirection, sc)
		}
	}
	if sel := ins.SelectStmt.GetSelectStmt(); sel != nil {
		if plainValues(sel) {
			in.Rows = make([][]router.ValueRef, 0, len(sel.ValuesLists))
			for _, row := range sel.ValuesLists {
				cells := row.GetList().GetItems()
				vals := make([]router.ValueRef, len(cells))
				for i, cell := range cells {
					a.walk(b, cell, sc)
					vals[i], _ = value(cell)
				}
				in.Rows = append(in.Rows, vals)
			}
		} else {
			c := a.selectStmt(sel, sc)
			in.Select = c.st
			b.absorb(c)
		}
	}
	if oc := ins.OnConflictClause; oc != nil {
		in.Upsert = true
		if oc.Infer != nil {
			a.walkMsg(b, oc.Infer.ProtoReflect(), lv)
		}
		for _, n := range oc.TargetList {
			a.walk(b, n, lv)
			if rt := n.GetResTarget(); rt != nil && !setsExcluded(rt) {
				in.UpsertSets = append(in.UpsertSets, rt.Name)
			}
		}
		a.walk(b, oc.WhereClause, lv)
	}
	a.walkList(b, ins.ReturningList, lv)
	in.Returning = len(ins.ReturningList) > 0
	return b.finish()
}

// plainValues reports an INSERT source that is nothing but VALUES rows.
func plainValues(s *pg.SelectStmt) bool {
	return len(s.ValuesLists) > 0 && s.WithClause == nil && len(s.SortClause) == 0 &&
		s.LimitCount == nil && s.LimitOffset == nil && len(s.LockingClause) == 0 &&
		(s.Op == pg.SetOperation_SETOP_NONE || s.Op == pg.SetOperation_SET_OPERATION_UNDEFINED)
}

// updateStmt analyzes UPDATE t SET ... FROM ... WHERE ...
func (a *analysis) updateStmt(up *pg.UpdateStmt, sc *scope) *built {
	b := newBuilt(router.KindUpdate)
	u := &router.Update{}
	b.st.Update = u
	sc = a.with(b, up.WithClause, sc)
	lv := a.target(b, up.Relation, sc)
	b.st.Where = a.dmlWhere(b, up.FromClause, up.WhereClause, lv)
	for _, n := range up.TargetList {
		a.walk(b, n, lv)
		if rt := n.GetResTarget(); rt != nil {
			u.Sets = append(u.Sets, rt.Name)
		}
	}
	a.walkList(b, up.ReturningList, lv)
	return b.finish()
}

// deleteStmt analyzes DELETE FROM t USING ... WHERE ...
func (a *analysis) deleteStmt(del *pg.DeleteStmt, sc *scope) *built {
	b := newBuilt(router.KindDelete)
	sc = a.with(b, del.WithClause, sc)
	lv := a.target(b, del.Relation, sc)
	b.st.Where = a.dmlWhere(b, del.UsingClause, del.WhereClause, lv)
	a.walkList(b, del.ReturningList, lv)
	return b.finish()
}

// target adds a DML statement's target table (always a table, never a
// CTE) and returns the statement's FROM level, which starts with it.
func (a *analysis) target(b *built, rv *pg.RangeVar, sc *scope) *scope {
	lv := newLevel(sc)
	if rv != nil {
		b.addTable(rv, nil)
		name := rv.Relname
		if rv.Alias != nil {
			name = rv.Alias.Aliasname
		}
		lv.addFrom(name, true)
	}
	return lv
}

// dmlWhere walks UPDATE's FROM / DELETE's USING and the WHERE clause, and
// returns WHERE AND-ed with the inner join conditions found there.
func (a *analysis) dmlWhere(b *built, from []*pg.Node, where *pg.Node, lv *scope) *router.Cond {
	var conds []*router.Cond
	for _, n := range from {
		a.fromItem(b, n, lv, true, &conds)
	}
	if where != nil {
		a.walk(b, where, lv)
		conds = append(conds, toCond(where))
	}
	return onlyTableColumns(andConds(conds...), lv)
}

// mergeStmt analyzes MERGE only for its tables: the router cannot reason
// about it (KindOther, Opaque "MERGE").
func (a *analysis) mergeStmt(m *pg.MergeStmt, sc *scope) *built {
	b := newBuilt(router.KindOther)
	sc = a.with(b, m.WithClause, sc)
	lv := a.target(b, m.Relation, sc)
	a.fromItem(b, m.SourceRelation, lv, false, nil)
	a.walk(b, m.JoinCondition, lv)
	a.walkList(b, m.MergeWhenClauses, lv)
	a.walkList(b, m.ReturningList, lv)
	b.st.Opaque = "MERGE"
	return b.finish()
}

// setsExcluded reports an ON CONFLICT assignment of the column's own
// proposed value: col = EXCLUDED.col.
func setsExcluded(rt *pg.ResTarget) bool {
	if len(rt.Indirection) > 0 {
		return false
	}
	cr := rt.Val.GetColumnRef()
	if cr == nil || len(cr.Fields) != 2 {
		return false
	}
	return cr.Fields[0].GetString_().GetSval() == "excluded" && cr.Fields[1].GetString_().GetSval() == rt.Name
}
