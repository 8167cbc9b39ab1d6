package postgres

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/shardgate/shardgate/router"
)

// The golden files hold a compact, readable rendering of a Statement:
// conditions, values, tables and items as short strings, zero fields left
// out.

type gStmt struct {
	Kind       string   `json:"kind"`
	Explain    bool     `json:"explain,omitempty"`
	Tables     []string `json:"tables,omitempty"`
	Where      string   `json:"where,omitempty"`
	ForUpdate  bool     `json:"for_update,omitempty"`
	Cursor     string   `json:"cursor,omitempty"`
	Primary    string   `json:"primary_func,omitempty"`
	Opaque     string   `json:"opaque,omitempty"`
	Object     string   `json:"object,omitempty"`
	CopyFrom   bool     `json:"copy_from,omitempty"`
	SetLocal   bool     `json:"set_local,omitempty"`
	JoinLinks  []string `json:"join_links,omitempty"`
	Insert     *gInsert `json:"insert,omitempty"`
	Update     *gUpdate `json:"update,omitempty"`
	Select     *gSelect `json:"select,omitempty"`
	Subqueries []*gStmt `json:"subqueries,omitempty"`
}

type gInsert struct {
	Table      string     `json:"table"`
	Columns    []string   `json:"columns,omitempty"`
	Rows       [][]string `json:"rows,omitempty"`
	Select     *gStmt     `json:"select,omitempty"`
	Upsert     bool       `json:"upsert,omitempty"`
	UpsertSets []string   `json:"upsert_sets,omitempty"`
	Returning  bool       `json:"returning,omitempty"`
	Replace    bool       `json:"replace,omitempty"`
}

type gUpdate struct {
	Sets []string `json:"sets"`
}

type gSelect struct {
	Items    []string `json:"items"`
	Distinct bool     `json:"distinct,omitempty"`
	GroupBy  []int    `json:"group_by,omitempty"`
	Having   bool     `json:"having,omitempty"`
	OrderBy  []string `json:"order_by,omitempty"`
	Limit    string   `json:"limit,omitempty"`
	Offset   string   `json:"offset,omitempty"`
	Compound string   `json:"compound,omitempty"`
	Window   bool     `json:"window,omitempty"`
	HasFrom  bool     `json:"has_from,omitempty"`
}

func render(st *router.Statement) *gStmt {
	if st == nil {
		return nil
	}
	g := &gStmt{
		Kind: st.Kind.String(), Explain: st.Explain, ForUpdate: st.ForUpdate, Opaque: st.Opaque, Primary: st.PrimaryFunc,
		Cursor: map[[2]bool]string{{true, false}: "declared", {true, true}: "with hold"}[[2]bool{st.Cursor, st.CursorHold}],
		Object: st.Object, CopyFrom: st.CopyFrom, SetLocal: st.SetLocal,
	}
	for _, t := range st.Tables {
		g.Tables = append(g.Tables, renderTable(t))
	}
	if st.Where != nil {
		g.Where = renderCond(st.Where)
	}
	for _, l := range st.JoinLinks {
		g.JoinLinks = append(g.JoinLinks, renderCond(l))
	}
	for _, s := range st.Subqueries {
		g.Subqueries = append(g.Subqueries, render(s))
	}
	if in := st.Insert; in != nil {
		gi := &gInsert{Table: renderTable(in.Table), Columns: in.Columns, Select: render(in.Select),
			Upsert: in.Upsert, UpsertSets: in.UpsertSets, Returning: in.Returning, Replace: in.Replace}
		for _, row := range in.Rows {
			var cells []string
			for _, v := range row {
				cells = append(cells, renderValue(v))
			}
			gi.Rows = append(gi.Rows, cells)
		}
		g.Insert = gi
	}
	if st.Update != nil {
		g.Update = &gUpdate{Sets: st.Update.Sets}
	}
	if s := st.Select; s != nil {
		gs := &gSelect{Items: []string{}, Distinct: s.Distinct, GroupBy: s.GroupBy, Having: s.Having,
			Compound: s.Compound, Window: s.Window, HasFrom: s.HasFrom}
		for _, it := range s.Items {
			gs.Items = append(gs.Items, renderItem(it))
		}
		for _, o := range s.OrderBy {
			gs.OrderBy = append(gs.OrderBy, renderOrder(o))
		}
		if s.Limit != nil {
			gs.Limit = renderValue(*s.Limit)
		}
		if s.Offset != nil {
			gs.Offset = renderValue(*s.Offset)
		}
		g.Select = gs
	}
	return g
}

func renderTable(t router.TableRef) string {
	s := t.Name
	if t.Schema != "" {
		s = t.Schema + "." + s
	}
	if t.Alias != "" {
		s += " AS " + t.Alias
	}
	return s
}

func renderCol(c router.ColumnRef) string {
	if c.Qualifier != "" {
		return c.Qualifier + "." + c.Name
	}
	return c.Name
}

// renderValue: $n, a number as written, a string quoted, NULL, or "-" for
// the zero ValueRef (not a plain value).
func renderValue(v router.ValueRef) string {
	switch {
	case v.Slot > 0:
		return "$" + strconv.Itoa(v.Slot)
	case v.Lit == nil:
		return "-"
	case v.Lit.Null:
		return "NULL"
	case v.Lit.String:
		return strconv.Quote(v.Lit.Text)
	}
	return v.Lit.Text
}

func renderCond(c *router.Cond) string {
	var parts []string
	switch c.Op {
	case router.CondAnd, router.CondOr:
		for _, ch := range c.Children {
			parts = append(parts, renderCond(ch))
		}
		op := "AND"
		if c.Op == router.CondOr {
			op = "OR"
		}
		return op + "(" + strings.Join(parts, ", ") + ")"
	case router.CondEq, router.CondIn:
		vals := c.Values
		elided := len(vals) > 12
		if elided {
			vals = vals[:3]
		}
		parts = append(parts, renderCol(c.Col))
		for _, v := range vals {
			parts = append(parts, renderValue(v))
		}
		if elided {
			parts = append(parts, fmt.Sprintf("... %s (%d values)", renderValue(c.Values[len(c.Values)-1]), len(c.Values)))
		}
		op := "EQ"
		if c.Op == router.CondIn {
			op = "IN"
		}
		return op + "(" + strings.Join(parts, ", ") + ")"
	case router.CondColEq:
		return "COLEQ(" + renderCol(c.Col) + ", " + renderCol(c.Col2) + ")"
	}
	return "OPAQUE"
}

// renderItem: "*", "col:t.x", "agg:count", flags, " AS alias".
func renderItem(it router.SelectItem) string {
	var parts []string
	switch {
	case it.Star:
		parts = append(parts, "*")
	case it.Column != nil:
		parts = append(parts, "col:"+renderCol(*it.Column))
	case it.Agg != router.AggNone:
		parts = append(parts, "agg:"+[...]string{"", "count", "sum", "min", "max", "avg", "other"}[it.Agg])
	default:
		parts = append(parts, "expr")
	}
	if it.Distinct {
		parts = append(parts, "distinct")
	}
	if it.Coalesced {
		parts = append(parts, "coalesced")
	}
	if it.ContainsAgg {
		parts = append(parts, "contains-agg")
	}
	s := strings.Join(parts, " ")
	if it.Alias != "" {
		s += " AS " + it.Alias
	}
	return s
}

func renderOrder(o router.OrderItem) string {
	s := "item=" + strconv.Itoa(o.Item)
	if o.Column != nil {
		s += " col=" + renderCol(*o.Column)
	}
	if o.Desc {
		s += " desc"
	}
	if o.NullsFirst != nil {
		if *o.NullsFirst {
			s += " nulls-first"
		} else {
			s += " nulls-last"
		}
	}
	return s
}
