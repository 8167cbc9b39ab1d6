package router

import (
	"strings"

	"github.com/shardgate/shardgate/topology"
)

// tableUse is one table reference of a statement, resolved against the
// topology, with what the predicates say about where its rows can be.
type tableUse struct {
	ref    TableRef
	table  *topology.Table // nil: not listed, lives on the unsharded shard
	scope  *scope
	shards shardSet // nil: unconstrained
	group  int      // union-find parent (index into placement.uses)
}

func (u *tableUse) sharded() bool { return u.table != nil && u.table.Kind == topology.Sharded }

func (u *tableUse) reference() bool { return u.table != nil && u.table.Kind == topology.Reference }

// scope is one SELECT/DML level: the tables its own FROM names.
type scope struct {
	stmt   *Statement
	parent *scope
	uses   []int // indexes into placement.uses
}

// placement collects every table use of a statement tree and works out
// which shards each group of co-located uses may be on.
type placement struct {
	db     *topology.DB
	b      binder
	uses   []*tableUse
	scopes []*scope
	// badKeys counts key values that could not be read; for reads that
	// only widens the route, for writes the caller may refuse.
	badKeys []error
}

func lookupTable(d *topology.DB, r TableRef) *topology.Table {
	if r.Schema != "" {
		if t, ok := d.Table(r.Schema + "." + r.Name); ok {
			return t
		}
	}
	// Exact names only: PostgreSQL's analyzer has already folded unquoted
	// names, so "Users" is another table, and MySQL table names are case
	// sensitive on Linux.
	t, _ := d.Table(r.Name)
	return t
}

// add walks a statement and its nested SELECTs, creating scopes.
func (p *placement) add(st *Statement, parent *scope) *scope {
	sc := &scope{stmt: st, parent: parent}
	p.scopes = append(p.scopes, sc)
	own := ownTables(st)
	for _, r := range own {
		p.uses = append(p.uses, &tableUse{ref: r, table: lookupTable(p.db, r), scope: sc, group: len(p.uses)})
		sc.uses = append(sc.uses, len(p.uses)-1)
	}
	for _, sub := range st.Subqueries {
		p.add(sub, sc)
	}
	if st.Insert != nil && st.Insert.Select != nil {
		p.add(st.Insert.Select, sc)
	}
	return sc
}

// ownTables is st.Tables minus the tables its nested statements
// contribute (analyzers list those in the parent too).
func ownTables(st *Statement) []TableRef {
	nested := map[TableRef]int{}
	var count func(s *Statement)
	count = func(s *Statement) {
		for _, sub := range s.Subqueries {
			for _, r := range sub.Tables {
				nested[r]++
			}
		}
		if s.Insert != nil && s.Insert.Select != nil {
			for _, r := range s.Insert.Select.Tables {
				nested[r]++
			}
		}
	}
	count(st)
	if len(nested) == 0 {
		return st.Tables
	}
	var own []TableRef
	for _, r := range st.Tables {
		if nested[r] > 0 {
			nested[r]--
			continue
		}
		own = append(own, r)
	}
	return own
}

// resolveKey finds the sharded table use whose key column col names, in
// sc or an enclosing scope (correlated subqueries). -1 when none.
func (p *placement) resolveKey(col ColumnRef, sc *scope) int {
	for s := sc; s != nil; s = s.parent {
		found := -1
		for _, i := range s.uses {
			u := p.uses[i]
			if !u.sharded() || !strings.EqualFold(u.table.Key, col.Name) {
				continue
			}
			if col.Qualifier != "" {
				name := u.ref.Alias
				if name == "" {
					name = u.ref.Name
				}
				if strings.EqualFold(name, col.Qualifier) {
					return i
				}
				continue
			}
			if found >= 0 {
				return -1 // two tables have this key name: ambiguous, assume nothing
			}
			found = i
		}
		if found >= 0 {
			return found
		}
		if col.Qualifier == "" && len(s.uses) > 0 {
			// An unqualified name binds to the nearest scope that has any
			// table; if none of them has it as a key, it is not a key.
			return -1
		}
	}
	return -1
}

// constrain applies the scope's WHERE to its table uses and links
// co-located uses (key = key) into groups.
func (p *placement) constrain(sc *scope) {
	if sc.stmt.Where != nil {
		for i, set := range p.cond(sc.stmt.Where, sc) {
			p.uses[i].shards = p.uses[i].shards.intersect(set)
		}
		p.link(sc.stmt.Where, sc)
	}
	for _, l := range sc.stmt.JoinLinks {
		p.link(l, sc)
	}
}

// cond returns, per table use, the shard set a predicate allows; a use
// missing from the map is unconstrained by it.
func (p *placement) cond(c *Cond, sc *scope) map[int]shardSet {
	switch c.Op {
	case CondEq, CondIn:
		i := p.resolveKey(c.Col, sc)
		if i < 0 {
			return nil
		}
		ids := make([]uint64, 0, len(c.Values))
		for _, v := range c.Values {
			id, err := p.b.keyspaceID(p.uses[i].table.KeyType, v)
			if err != nil {
				// Unreadable (NULL, wrong type, an expression): the database
				// decides what matches, so this predicate narrows nothing.
				p.badKeys = append(p.badKeys, err)
				return nil
			}
			ids = append(ids, id)
		}
		return map[int]shardSet{i: idSet(p.db, ids...)}
	case CondAnd:
		out := map[int]shardSet{}
		for _, ch := range c.Children {
			for i, set := range p.cond(ch, sc) {
				out[i] = out[i].intersect(set)
			}
		}
		return out
	case CondOr:
		var out map[int]shardSet
		for n, ch := range c.Children {
			m := p.cond(ch, sc)
			if n == 0 {
				out = m
				continue
			}
			for i, set := range out {
				if other, ok := m[i]; ok {
					out[i] = set.union(other)
				} else {
					delete(out, i) // one branch leaves it free: so does the OR
				}
			}
		}
		return out
	}
	return nil
}

// link unions table uses joined on their keys (in AND context only: an
// equality under OR does not hold for every row).
func (p *placement) link(c *Cond, sc *scope) {
	switch c.Op {
	case CondAnd:
		for _, ch := range c.Children {
			p.link(ch, sc)
		}
	case CondColEq:
		a, b := p.resolveKey(c.Col, sc), p.resolveKey(c.Col2, sc)
		if a < 0 || b < 0 || p.uses[a].table.KeyType != p.uses[b].table.KeyType {
			return
		}
		ra, rb := p.find(a), p.find(b)
		if ra != rb {
			p.uses[ra].group = rb
		}
	}
}

func (p *placement) find(i int) int {
	for p.uses[i].group != i {
		p.uses[i].group = p.uses[p.uses[i].group].group
		i = p.uses[i].group
	}
	return i
}

// group is a set of co-located sharded table uses (joined on their keys).
type group struct {
	shards shardSet  // where its rows may be (nil: every shard)
	member *tableUse // one member, for messages
	root   bool      // a member is in the top-level statement
}

// groups returns the co-location groups. A group with a top-level member
// is narrowed only by top-level predicates: a subquery's filter limits the
// subquery's rows, not the outer query's (a correlated subquery in the
// select list still sees every outer row). A group of subquery tables only
// is narrowed by every predicate on it.
func (p *placement) groups() []group {
	index := map[int]int{}
	var out []group
	for i, u := range p.uses {
		if !u.sharded() {
			continue
		}
		root := p.find(i)
		g, ok := index[root]
		if !ok {
			g = len(out)
			index[root] = g
			out = append(out, group{member: u})
		}
		if u.scope.parent == nil && !out[g].root {
			out[g].root, out[g].shards, out[g].member = true, nil, u
		}
		if u.scope.parent == nil || !out[g].root {
			out[g].shards = out[g].shards.intersect(u.shards)
		}
	}
	return out
}
