package mysql

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/shardgate/shardgate/router"
)

// The golden file holds a readable JSON rendering of each Statement:
// zero fields are left out, values are written ?N (placeholder N), 42
// (number), 'text' (string), NULL, or <expr> (not a plain value), and a
// Where tree as AND(...), OR(...), col = v, col IN (...), a.x = b.y, OPAQUE.

type gStmt struct {
	Kind       string   `json:"kind"`
	Explain    bool     `json:"explain,omitempty"`
	Tables     []string `json:"tables,omitempty"`
	Where      string   `json:"where,omitempty"`
	Subqueries []*gStmt `json:"subqueries,omitempty"`
	ForUpdate  bool     `json:"for_update,omitempty"`
	Primary    string   `json:"primary_func,omitempty"`
	Insert     *gInsert `json:"insert,omitempty"`
	Update     []string `json:"update_sets,omitempty"`
	Select     *gSelect `json:"select,omitempty"`
	Opaque     string   `json:"opaque,omitempty"`
	Object     string   `json:"object,omitempty"`
	CopyFrom   bool     `json:"copy_from,omitempty"`
	SetLocal   bool     `json:"set_local,omitempty"`
	SetGlobal  bool     `json:"set_global,omitempty"`
	Autocommit string   `json:"autocommit,omitempty"`
	SetRest    string   `json:"set_rest,omitempty"`
	JoinLinks  []string `json:"join_links,omitempty"`
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

type gSelect struct {
	Items    []string `json:"items,omitempty"`
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
		Kind:      st.Kind.String(),
		Explain:   st.Explain,
		Where:     renderCond(st.Where),
		ForUpdate: st.ForUpdate, Primary: st.PrimaryFunc,
		Opaque:     st.Opaque,
		Object:     st.Object,
		CopyFrom:   st.CopyFrom,
		SetLocal:   st.SetLocal,
		SetGlobal:  st.SetGlobal,
		Autocommit: st.Autocommit, SetRest: st.SetRest,
	}
	for _, l := range st.JoinLinks {
		g.JoinLinks = append(g.JoinLinks, renderCond(l))
	}
	for _, t := range st.Tables {
		g.Tables = append(g.Tables, renderTable(t))
	}
	for _, s := range st.Subqueries {
		g.Subqueries = append(g.Subqueries, render(s))
	}
	if st.Update != nil {
		g.Update = st.Update.Sets
		if g.Update == nil {
			g.Update = []string{}
		}
	}
	if in := st.Insert; in != nil {
		gi := &gInsert{
			Table:      renderTable(in.Table),
			Columns:    in.Columns,
			Select:     render(in.Select),
			Upsert:     in.Upsert,
			UpsertSets: in.UpsertSets,
			Returning:  in.Returning,
			Replace:    in.Replace,
		}
		for _, row := range in.Rows {
			r := []string{}
			for _, v := range row {
				r = append(r, renderValue(v))
			}
			gi.Rows = append(gi.Rows, r)
		}
		g.Insert = gi
	}
	if s := st.Select; s != nil {
		gs := &gSelect{
			Distinct: s.Distinct,
			GroupBy:  s.GroupBy,
			Having:   s.Having,
			Compound: s.Compound,
			Window:   s.Window,
			HasFrom:  s.HasFrom,
		}
		for _, it := range s.Items {
			gs.Items = append(gs.Items, renderItem(it))
		}
		for _, o := range s.OrderBy {
			x := fmt.Sprintf("item=%d", o.Item)
			if o.Column != nil {
				x += " col=" + renderCol(*o.Column)
			}
			if o.Desc {
				x += " DESC"
			}
			if o.NullsFirst != nil {
				x += fmt.Sprintf(" nulls_first=%v", *o.NullsFirst)
			}
			gs.OrderBy = append(gs.OrderBy, x)
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

func renderValue(v router.ValueRef) string {
	switch {
	case v.Slot > 0:
		return "?" + strconv.Itoa(v.Slot)
	case v.Lit == nil:
		return "<expr>"
	case v.Lit.Null:
		return "NULL"
	case v.Lit.String:
		return "'" + strings.ReplaceAll(v.Lit.Text, "'", "''") + "'"
	}
	return v.Lit.Text
}

func renderCond(c *router.Cond) string {
	if c == nil {
		return ""
	}
	switch c.Op {
	case router.CondAnd, router.CondOr:
		parts := make([]string, len(c.Children))
		for i, k := range c.Children {
			parts[i] = renderCond(k)
		}
		op := "AND"
		if c.Op == router.CondOr {
			op = "OR"
		}
		return op + "(" + strings.Join(parts, ", ") + ")"
	case router.CondEq:
		return renderCol(c.Col) + " = " + renderValues(c.Values)
	case router.CondIn:
		return renderCol(c.Col) + " IN (" + renderValues(c.Values) + ")"
	case router.CondColEq:
		return renderCol(c.Col) + " = " + renderCol(c.Col2)
	}
	return "OPAQUE"
}

func renderValues(vs []router.ValueRef) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = renderValue(v)
	}
	return strings.Join(parts, ", ")
}

var aggNames = map[router.Aggregate]string{
	router.AggCount: "count", router.AggSum: "sum", router.AggMin: "min",
	router.AggMax: "max", router.AggAvg: "avg", router.AggOther: "other",
}

func renderItem(it router.SelectItem) string {
	var s string
	switch {
	case it.Star:
		s = "*"
	case it.Column != nil:
		s = "col " + renderCol(*it.Column)
	case it.Agg != router.AggNone:
		s = "agg " + aggNames[it.Agg]
	default:
		s = "expr"
	}
	if it.Distinct {
		s += " distinct"
	}
	if it.Coalesced {
		s += " coalesced"
	}
	if it.ContainsAgg {
		s += " contains_agg"
	}
	if it.Alias != "" {
		s += " AS " + it.Alias
	}
	return s
}
