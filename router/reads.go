package router

import (
	"fmt"
	"strings"

	"github.com/shardgate/shardgate/topology"
)

// read routes a SELECT (or EXPLAIN): key-pinned shards, else every shard
// with a merge; reference-only reads go to any one shard.
func (c *planner) read() (*Plan, error) {
	loc, err := c.locate()
	if err != nil {
		return nil, err
	}
	if loc.reference {
		reason := "reference tables only: any one shard"
		if len(c.st.Tables) == 0 {
			reason = "no table: any one shard"
		}
		return c.anyShard(RoleReplica, reason), nil
	}
	shards := loc.shards.shards(c.db)
	if len(shards) == 0 { // contradictory keys: no row can match; ask one shard for the empty result
		shards = []*topology.Shard{c.db.Shards[0]}
	}
	p := &Plan{Statement: c.st, Route: RouteSingle, Reason: reasonFor(loc, len(shards), len(c.db.Shards))}
	catalog := !loc.sharded && catalogOnly(c.st.Tables)
	if catalog {
		p.Reason = "catalog only: the unsharded shard's primary"
		if c.sess.Pinned != nil {
			// Every shard has the same catalogs; the transaction's own
			// shard also sees its DDL (ActiveRecord reads a table's
			// columns inside the transaction that first uses it).
			shards = []*topology.Shard{c.sess.Pinned}
			p.Reason = "catalog only: the transaction's shard"
		}
	}
	for _, sh := range shards {
		p.Targets = append(p.Targets, c.target(sh, catalog))
	}
	if len(shards) > 1 {
		p.Route = RouteScatter
		if err := c.planMerge(p); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// cursor plans DECLARE ... CURSOR: its query on one shard, where the
// transaction's FETCHes find it (a WITH HOLD cursor's connection stays
// with its client, as the proxy sees). Several shards would need their
// rows merged at each FETCH, which the proxy does not do.
func (c *planner) cursor() (*Plan, error) {
	loc, err := c.locate()
	if err != nil {
		return nil, err
	}
	if loc.sharded && len(loc.shards.shards(c.db)) > 1 {
		return nil, fmt.Errorf("%w: a cursor over several shards (FETCH would need their rows merged); pin its query to one shard with the sharding key", ErrUnsupported)
	}
	if c.st.ForUpdate {
		return c.write("DECLARE CURSOR FOR ... FOR UPDATE")
	}
	return c.read()
}

// catalogOnly reports whether every table is a system catalog
// (information_schema, pg_catalog's pg_* relations, MySQL's mysql,
// performance_schema and sys): migration tools read them to decide what
// DDL to run, and DDL through the proxy reaches primaries first, so such
// reads go to a primary rather than a replica that may lag behind it.
func catalogOnly(tables []TableRef) bool {
	return len(tables) > 0 && OnlyCatalogs(tables)
}

// OnlyCatalogs reports whether every table (of none or more) is a system
// catalog.
func OnlyCatalogs(tables []TableRef) bool {
	for _, t := range tables {
		switch strings.ToLower(t.Schema) {
		case "information_schema", "pg_catalog", "mysql", "performance_schema", "sys":
			continue
		case "":
			if strings.HasPrefix(strings.ToLower(t.Name), "pg_") {
				continue
			}
		}
		return false
	}
	return true
}

func reasonFor(loc location, n, total int) string {
	switch {
	case !loc.sharded:
		return "unsharded tables: unsharded shard"
	case loc.shards == nil:
		return "no sharding key: every shard"
	case n == 1:
		return "sharding key: one shard"
	}
	return fmt.Sprintf("sharding key: %d of %d shards", n, total)
}
