package router

import (
	"strings"

	"github.com/shardgate/shardgate/topology"
)

// pointLocation is locate's fast path for the commonest statement: one
// sharded table, no subquery or join, and a WHERE that pins its key to
// one value (key = v, possibly AND-ed with conditions on other columns).
// It answers exactly what the general placement would, without building
// it; ok is false for anything else, which then takes the general path.
func (c *planner) pointLocation() (loc location, ok bool) {
	st := c.st
	if len(st.Tables) != 1 || len(st.Subqueries) > 0 || len(st.JoinLinks) > 0 || st.Insert != nil || st.Where == nil {
		return loc, false
	}
	ref := st.Tables[0]
	t := lookupTable(c.db, ref)
	if t == nil || t.Kind != topology.Sharded {
		return loc, false
	}
	var key *Cond
	switch w := st.Where; w.Op {
	case CondEq:
		key = w
	case CondAnd:
		for _, ch := range w.Children {
			switch ch.Op {
			case CondOpaque, CondColEq:
				continue
			case CondEq, CondIn:
				if !strings.EqualFold(ch.Col.Name, t.Key) {
					continue // another column: narrows nothing
				}
				if key != nil {
					return loc, false // the key twice: let placement intersect
				}
				key = ch
			default:
				return loc, false // nested AND/OR
			}
		}
	}
	if key == nil || key.Op != CondEq || len(key.Values) != 1 || !strings.EqualFold(key.Col.Name, t.Key) {
		return loc, false
	}
	if q := key.Col.Qualifier; q != "" {
		name := ref.Alias
		if name == "" {
			name = ref.Name
		}
		if !strings.EqualFold(q, name) {
			return loc, false
		}
	}
	id, err := c.b.keyspaceID(t.KeyType, key.Values[0])
	if err != nil {
		return loc, false // placement records the unreadable key
	}
	return location{sharded: true, shards: idSet(c.db, id)}, true
}
