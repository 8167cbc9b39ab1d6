package router

import (
	"encoding/json"
	"fmt"
	"strings"
)

// String renders a plan for people: `shardgate route`, debug logs and the
// routing golden files.
func (p *Plan) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "kind: %s\n", p.Statement.Kind)
	fmt.Fprintf(&b, "route: %s (%s)\n", p.Route, p.Reason)
	if p.Write {
		b.WriteString("write: true\n")
	}
	if p.AnyShard {
		b.WriteString("any_shard: true\n")
	}
	if p.SumAffected {
		b.WriteString("sum_affected: true\n")
	}
	if p.SessionSQL != "" {
		fmt.Fprintf(&b, "session_sql: %s\n", p.SessionSQL)
	}
	if m := p.Statement.ReadOnly; m != 0 {
		fmt.Fprintf(&b, "read_only: %d\n", m)
	}
	if m := p.Statement.SessionReadOnly; m != 0 {
		fmt.Fprintf(&b, "session_read_only: %d\n", m)
	}
	for _, set := range p.Statement.SessionSets {
		fmt.Fprintf(&b, "session_set: %s\n", set[1])
	}
	for _, t := range p.Targets {
		fmt.Fprintf(&b, "target: %s %s\n", t.Shard.Name, t.Role)
		if t.SQL != "" {
			fmt.Fprintf(&b, "  sql: %s\n", t.SQL)
		}
		if t.Params != nil {
			fmt.Fprintf(&b, "  params: %v\n", t.Params)
		}
	}
	if m := p.Merge; m != nil {
		b.WriteString("merge:")
		for _, k := range m.OrderBy {
			dir := "asc"
			if k.Desc {
				dir = "desc"
			}
			nulls := "last"
			if k.NullsFirst {
				nulls = "first"
			}
			fmt.Fprintf(&b, " order(col %d %s nulls %s)", k.Column, dir, nulls)
		}
		if len(m.GroupBy) > 0 {
			fmt.Fprintf(&b, " group%v", m.GroupBy)
		}
		for _, a := range m.Aggregates {
			switch {
			case a.Func == AggAvg:
				fmt.Fprintf(&b, " avg(col %d / col %d)", a.Column, a.CountColumn)
			case a.Coalesced:
				fmt.Fprintf(&b, " %s(col %d if col %d > 0)", aggNames[a.Func], a.Column, a.CountColumn)
			default:
				fmt.Fprintf(&b, " %s(col %d)", aggNames[a.Func], a.Column)
			}
			if a.Coalesced {
				fmt.Fprintf(&b, " else col %d", a.DefaultColumn)
			}
		}
		for _, h := range m.Having {
			if h.Null {
				fmt.Fprintf(&b, " having(col %d %s NULL)", h.Column, h.Op)
			} else {
				fmt.Fprintf(&b, " having(col %d %s %q)", h.Column, h.Op, h.Value)
			}
		}
		if m.Distinct {
			b.WriteString(" distinct")
		}
		if m.Limit >= 0 {
			fmt.Fprintf(&b, " limit %d", m.Limit)
		}
		if m.Offset > 0 {
			fmt.Fprintf(&b, " offset %d", m.Offset)
		}
		if m.Hidden > 0 {
			fmt.Fprintf(&b, " hidden %d", m.Hidden)
		}
		b.WriteString("\n")
	}
	return b.String()
}

var aggNames = map[Aggregate]string{AggCount: "count", AggSum: "sum", AggMin: "min", AggMax: "max", AggAvg: "avg", AggOther: "other"}

type jsonTarget struct {
	Shard   string `json:"shard"`
	Role    string `json:"role"`
	Primary string `json:"primary"`
	SQL     string `json:"sql,omitempty"`
	Params  []int  `json:"params,omitempty"`
}

type jsonPlan struct {
	Kind        string       `json:"kind"`
	Route       string       `json:"route"`
	Reason      string       `json:"reason"`
	Write       bool         `json:"write"`
	AnyShard    bool         `json:"any_shard,omitempty"`
	SumAffected bool         `json:"sum_affected,omitempty"`
	SessionSQL  string       `json:"session_sql,omitempty"`
	Targets     []jsonTarget `json:"targets"`
	Merge       *Merge       `json:"merge,omitempty"`
}

// MarshalJSON renders shards by name, for `shardgate route -json`.
func (p *Plan) MarshalJSON() ([]byte, error) {
	j := jsonPlan{Kind: p.Statement.Kind.String(), Route: p.Route.String(), Reason: p.Reason, Write: p.Write,
		AnyShard: p.AnyShard, SumAffected: p.SumAffected, SessionSQL: p.SessionSQL, Merge: p.Merge, Targets: []jsonTarget{}}
	for _, t := range p.Targets {
		j.Targets = append(j.Targets, jsonTarget{Shard: t.Shard.Name, Role: t.Role.String(), Primary: t.Shard.Primary, SQL: t.SQL, Params: t.Params})
	}
	return json.Marshal(j)
}
