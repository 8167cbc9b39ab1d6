package mysql

import (
	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardgate/shardgate/router"
)

// insert describes INSERT / REPLACE, including INSERT ... SET (which the
// parser turns into columns and one row) and INSERT ... SELECT.
func (an *analysis) insert(x *ast.InsertStmt) *router.Statement {
	st := &router.Statement{Kind: router.KindInsert}
	ins := &router.Insert{Replace: x.IsReplace}
	st.Insert = ins
	c := &collector{an: an, st: st}
	if x.Table != nil {
		c.visit(x.Table)
		if len(st.Tables) > 0 {
			ins.Table = st.Tables[0]
		}
	}
	for _, col := range x.Columns {
		if col != nil {
			ins.Columns = append(ins.Columns, col.Name.L)
		}
	}
	for _, list := range x.Lists {
		row := make([]router.ValueRef, len(list))
		for i, cell := range list {
			if cell == nil {
				continue
			}
			if v, ok := an.value(cell); ok {
				row[i] = v
			} else {
				c.visit(cell) // subqueries in a VALUES cell
			}
		}
		ins.Rows = append(ins.Rows, row)
	}
	if x.Select != nil {
		ins.Select = an.query(x.Select, nil)
		st.Tables = append(st.Tables, ins.Select.Tables...)
	}
	for _, a := range x.OnDuplicate {
		if a == nil {
			continue
		}
		ins.Upsert = true
		if a.Column != nil && !setsValues(a) {
			ins.UpsertSets = append(ins.UpsertSets, a.Column.Name.L)
		}
		if a.Expr != nil {
			c.visit(a.Expr)
		}
	}
	return st
}

// update describes UPDATE, single- and multi-table.
func (an *analysis) update(x *ast.UpdateStmt) *router.Statement {
	st := &router.Statement{Kind: router.KindUpdate}
	c := &collector{an: an, st: st, scope: an.with(st, x.With, nil)}
	if x.TableRefs != nil {
		c.visit(x.TableRefs)
	}
	upd := &router.Update{}
	for _, a := range x.List {
		if a == nil {
			continue
		}
		if a.Column != nil {
			upd.Sets = append(upd.Sets, a.Column.Name.L)
		}
		if a.Expr != nil {
			c.visit(a.Expr)
		}
	}
	st.Update = upd
	an.dmlTail(st, c, x.TableRefs, x.Where, x.Order, x.Limit)
	return st
}

// delete describes DELETE, single- and multi-table. The tables are those
// of the FROM (or USING) clause; the list of tables to delete from names
// some of them again (often by alias) and is not repeated.
func (an *analysis) delete(x *ast.DeleteStmt) *router.Statement {
	st := &router.Statement{Kind: router.KindDelete}
	c := &collector{an: an, st: st, scope: an.with(st, x.With, nil)}
	if x.TableRefs != nil {
		c.visit(x.TableRefs)
	}
	an.dmlTail(st, c, x.TableRefs, x.Where, x.Order, x.Limit)
	return st
}

// dmlTail handles what UPDATE and DELETE share: WHERE (with inner join
// conditions), ORDER BY and LIMIT. A LIMIT applies per shard, so a
// scattered UPDATE/DELETE with one would change too many rows: Opaque.
func (an *analysis) dmlTail(st *router.Statement, c *collector, from *ast.TableRefsClause, where ast.ExprNode, order *ast.OrderByClause, limit *ast.Limit) {
	if where != nil {
		c.visit(where)
	}
	if order != nil {
		c.visit(order)
	}
	if limit != nil {
		c.visit(limit)
		st.Opaque = "LIMIT on UPDATE/DELETE"
	}
	st.Where = an.where(from, where)
	st.JoinLinks = an.joinLinks(from)
}

// setsValues reports an ON DUPLICATE KEY UPDATE assignment of the
// column's own inserted value: col = VALUES(col).
func setsValues(a *ast.Assignment) bool {
	v, ok := a.Expr.(*ast.ValuesExpr)
	return ok && v.Column != nil && v.Column.Name.Name.L == a.Column.Name.L && v.Column.Name.Table.L == ""
}
