package router

import (
	"fmt"
	"strings"

	"github.com/shardgate/shardgate/router/sqltext"
	"github.com/shardgate/shardgate/topology"
)

// planner applies DESIGN.md's routing rules to one analyzed statement.
type planner struct {
	db       *topology.DB
	st       *Statement
	b        binder
	sess     Session
	dialect  sqltext.Dialect
	text     string // normalized text the statement was analyzed from
	original string // the client's text
	columns  func(table string) []string
}

func (c *planner) plan(h sqltext.Hints) (*Plan, error) {
	if h.Shard != "" || h.Key != "" {
		return c.hinted(h)
	}
	p, err := c.byKind()
	if err != nil {
		return nil, err
	}
	return c.applyRoleHint(p, h.Role)
}

func (c *planner) byKind() (*Plan, error) {
	st := c.st
	if err := c.checkConfigLocals(); err != nil {
		return nil, err
	}
	switch st.Kind {
	case KindSelect:
		if st.Cursor {
			return c.cursor()
		}
		if st.ForUpdate && !st.Explain {
			return c.write("SELECT ... FOR UPDATE")
		}
		if st.ExportSnapshot && !st.Explain {
			return &Plan{Statement: st, Route: RouteLocal, Reason: "pg_export_snapshot(): one per shard, handled by the session"}, nil
		}
		if st.PrimaryFunc != "" && !st.Explain {
			return c.write("SELECT calling " + st.PrimaryFunc + "()")
		}
		return c.read()
	case KindInsert:
		if st.Explain {
			return c.read()
		}
		return c.insert()
	case KindUpdate, KindDelete:
		if st.Explain {
			return c.read()
		}
		if err := c.checkKeyChange(); err != nil {
			return nil, err
		}
		return c.write(st.Kind.String())
	case KindDDL:
		if c.sess.InTransaction && c.onlyUnlisted() {
			// A transaction cannot span shards; the rows of tables that are
			// not listed live on the unsharded shard, so that is where DDL
			// in a transaction (TRUNCATE before a reload, say) belongs.
			return c.write("DDL on unsharded tables in a transaction")
		}
		return c.broadcast("DDL runs on every shard"), nil
	case KindSet:
		if st.SetConfig != nil {
			return c.setConfig()
		}
		return &Plan{Statement: st, Route: RouteLocal, Reason: st.Kind.String() + " is handled by the session"}, nil
	case KindLock:
		return c.lock()
	case KindBegin, KindCommit, KindRollback, KindSavepoint, KindUse:
		return &Plan{Statement: st, Route: RouteLocal, Reason: st.Kind.String() + " is handled by the session"}, nil
	case KindShow:
		return c.anyShard(RoleReplica, "SHOW: any one shard"), nil
	case KindCopy:
		return c.copy()
	case KindPrepare:
		if c.dialect == sqltext.Postgres {
			// The session keeps them and routes each EXECUTE's query.
			return &Plan{Statement: st, Route: RouteLocal, Reason: "PREPARE/EXECUTE/DEALLOCATE are handled by the session"}, nil
		}
		return nil, fmt.Errorf("%w: SQL-level PREPARE/EXECUTE/DEALLOCATE (use the protocol's prepared statements, which shardgate keeps across pooled connections)", ErrUnsupported)
	}
	if st.Opaque != "" {
		return nil, fmt.Errorf("%w: %s", ErrUnsupported, st.Opaque)
	}
	for _, r := range st.Tables {
		if t := lookupTable(c.db, r); t != nil && t.Kind == topology.Sharded {
			// LOAD DATA, LOCK, CALL...: the proxy cannot see which rows go
			// where, and running it on every shard would copy or lock all.
			return nil, fmt.Errorf("%w: this statement on sharded table %s (only SELECT, INSERT, UPDATE, DELETE and DDL are routed by key)", ErrUnsupported, t.Name)
		}
	}
	if len(st.Tables) > 0 {
		return c.write(st.Kind.String())
	}
	return c.anyShard(RolePrimary, "no table: any one shard"), nil
}

// target builds one target; reads inside a transaction go to the primary
// so the transaction sees its own writes.
func (c *planner) target(sh *topology.Shard, write bool) Target {
	role := RoleReplica
	if write || c.sess.InTransaction {
		role = RolePrimary
	}
	return Target{Shard: sh, Role: role}
}

func (c *planner) anyShard(role Role, reason string) *Plan {
	sh := c.sess.Pinned
	if sh == nil {
		sh = c.db.Unsharded
	}
	t := c.target(sh, role == RolePrimary)
	return &Plan{Statement: c.st, Route: RouteSingle, Targets: []Target{t}, AnyShard: c.sess.Pinned == nil, Reason: reason}
}

func (c *planner) broadcast(reason string) *Plan {
	p := &Plan{Statement: c.st, Route: RouteBroadcast, Write: true, SumAffected: false, Reason: reason}
	for _, sh := range c.db.Shards {
		p.Targets = append(p.Targets, Target{Shard: sh, Role: RolePrimary})
	}
	return p
}

// locate resolves where the statement's tables can be: the shards of its
// sharded rows (nil: all), and whether it touches unsharded or reference
// tables. A join that cannot run on one shard per row is an error.
type location struct {
	shards    shardSet // nil: every shard
	sharded   bool     // a sharded table is involved
	unsharded bool     // a table not listed is involved
	reference bool     // only reference tables (or none) when !sharded && !unsharded
	badKeys   []error
}

func (c *planner) locate() (location, error) {
	if c.st.Select != nil && c.st.Select.Compound != "" {
		return c.locateArms()
	}
	if loc, ok := c.pointLocation(); ok {
		return loc, nil
	}
	p := &placement{db: c.db, b: c.b}
	p.add(c.st, nil)
	for _, sc := range p.scopes {
		p.constrain(sc)
	}
	var loc location
	loc.badKeys = p.badKeys
	unshardedRoot := false
	for _, u := range p.uses {
		switch {
		case u.sharded():
			loc.sharded = true
		case u.table == nil:
			loc.unsharded = true
			unshardedRoot = unshardedRoot || u.scope.parent == nil
		}
	}
	groups := p.groups()
	if loc.unsharded {
		// Tables not listed all live on the unsharded shard.
		groups = append(groups, group{shards: singleShard(shardIndex(c.db, c.db.Unsharded)), root: unshardedRoot})
	}
	loc.reference = len(groups) == 0

	// The top-level groups decide the shards. Several of them (not joined
	// on their keys) are correct together only when all are pinned to the
	// same single shard.
	var roots []group
	for _, g := range groups {
		if g.root {
			roots = append(roots, g)
		}
	}
	if len(roots) == 1 {
		loc.shards = roots[0].shards
	}
	if len(roots) > 1 {
		for i, g := range roots {
			if !g.shards.constrained() || g.shards.count() > 1 {
				return loc, fmt.Errorf("%w: cross-shard join: %s is not pinned to one shard by its key and is not joined to the other sharded tables on their keys",
					ErrUnsupported, describeUse(g.member))
			}
			if i == 0 {
				loc.shards = g.shards
			} else if loc.shards.intersect(g.shards).count() == 0 {
				return loc, fmt.Errorf("%w: cross-shard join: %s and %s live on different shards",
					ErrUnsupported, describeUse(roots[0].member), describeUse(g.member))
			}
		}
	}
	// A subquery whose tables are not co-located with the outer query's
	// runs on each target shard against that shard's rows only: correct
	// only when its rows are all on the one shard the query runs on.
	for _, g := range groups {
		if g.root {
			continue
		}
		if !g.shards.constrained() || g.shards.count() > 1 {
			return loc, fmt.Errorf("%w: a subquery reads %s on several shards but is not joined to the outer query on its key; each shard would see only its own rows",
				ErrUnsupported, describeUse(g.member))
		}
		switch {
		case len(roots) == 0 && !loc.shards.constrained():
			loc.shards = g.shards
		case loc.shards.constrained() && loc.shards.count() == 1 && loc.shards.intersect(g.shards).count() == 1:
		default:
			return loc, fmt.Errorf("%w: a subquery reads %s on one shard only, but the query runs on %s",
				ErrUnsupported, describeUse(g.member), c.spread(loc.shards))
		}
	}
	return loc, nil
}

// locateArms places each arm of a UNION / INTERSECT / EXCEPT on its own:
// an arm's own predicates filter its rows on every shard, so the
// statement needs the union of the arms' shards.
func (c *planner) locateArms() (location, error) {
	loc := location{reference: true, shards: shardSet{}}
	for _, arm := range c.st.Subqueries {
		sub := *c
		sub.st = arm
		l, err := sub.locate()
		if err != nil {
			return loc, err
		}
		loc.badKeys = append(loc.badKeys, l.badKeys...)
		if l.reference {
			continue
		}
		loc.sharded = loc.sharded || l.sharded
		loc.unsharded = loc.unsharded || l.unsharded
		if !loc.reference && loc.shards == nil || !l.shards.constrained() {
			loc.shards = nil
		} else {
			loc.shards = loc.shards.union(l.shards)
		}
		loc.reference = false
	}
	if loc.reference {
		loc.shards = nil
	}
	return loc, nil
}

// spread describes a shard set for messages.
func (c *planner) spread(s shardSet) string {
	if !s.constrained() {
		return fmt.Sprintf("all %d shards", len(c.db.Shards))
	}
	names := []string{}
	for _, sh := range s.shards(c.db) {
		names = append(names, sh.Name)
	}
	return "shards " + strings.Join(names, ", ")
}

func describeUse(u *tableUse) string {
	if u == nil {
		return "the unsharded tables"
	}
	s := "table " + u.ref.Name
	if u.ref.Alias != "" && u.ref.Alias != u.ref.Name {
		s += " (" + u.ref.Alias + ")"
	}
	return s
}

// write routes UPDATE/DELETE/SELECT FOR UPDATE/other writes: primaries of
// the key-pinned shards, every primary without a key (counts summed),
// every primary for reference tables.
func (c *planner) write(what string) (*Plan, error) {
	loc, err := c.locate()
	if err != nil {
		return nil, err
	}
	if loc.reference && len(c.st.Tables) > 0 {
		p := c.broadcast("reference table write: every shard primary")
		p.SumAffected = false // each shard changes its own copy: report one
		return p, nil
	}
	if loc.reference {
		return c.anyShard(RolePrimary, what+": any one shard"), nil
	}
	shards := loc.shards.shards(c.db)
	if len(shards) == 0 {
		shards = []*topology.Shard{c.db.Shards[0]}
	}
	p := &Plan{Statement: c.st, Route: RouteSingle, Write: true, Reason: reasonFor(loc, len(shards), len(c.db.Shards))}
	for _, sh := range shards {
		p.Targets = append(p.Targets, Target{Shard: sh, Role: RolePrimary})
	}
	if len(shards) > 1 {
		if c.st.Opaque != "" {
			return nil, fmt.Errorf("%w: %s in a %s that spans %d shards", ErrUnsupported, c.st.Opaque, what, len(shards))
		}
		p.Route = RouteScatter
		p.SumAffected = c.st.Kind != KindSelect
		if c.st.Kind == KindSelect {
			if err := c.planMerge(p); err != nil {
				return nil, err
			}
		}
	}
	return p, nil
}

// checkKeyChange refuses an UPDATE that assigns a sharded table's key: the
// row would have to move to another shard.
func (c *planner) checkKeyChange() error {
	if c.st.Update == nil {
		return nil
	}
	for _, r := range c.st.Tables {
		t := lookupTable(c.db, r)
		if t == nil || t.Kind != topology.Sharded {
			continue
		}
		for _, col := range c.st.Update.Sets {
			if strings.EqualFold(col, t.Key) {
				return fmt.Errorf("%w: UPDATE sets %s.%s, the sharding key; a row cannot move between shards (delete it and insert it again)",
					ErrKeyChange, t.Name, t.Key)
			}
		}
		break // the first table is the one updated
	}
	return nil
}

// copy routes COPY: FROM STDIN to the table's shards (the proxy splits
// rows by key), TO STDOUT like a read whose rows are concatenated.
func (c *planner) copy() (*Plan, error) {
	if c.st.CopyFrom {
		p, err := c.write("COPY FROM")
		if err != nil {
			return nil, err
		}
		p.Merge = nil
		return p, nil
	}
	src := c
	if len(c.st.Subqueries) == 1 {
		// COPY (query) TO STDOUT: the query is the whole result.
		sub := *c
		sub.st = c.st.Subqueries[0]
		src = &sub
	}
	loc, err := src.locate()
	if err != nil {
		return nil, err
	}
	if loc.reference {
		return c.anyShard(RoleReplica, "COPY of a reference table: any one shard"), nil
	}
	if sel := src.st.Select; sel != nil && loc.shards.count() != 1 && (len(sel.OrderBy) > 0 || sel.Limit != nil ||
		sel.Offset != nil || sel.Distinct || len(sel.GroupBy) > 0 || hasAggregate(sel) || sel.Compound != "") {
		return nil, fmt.Errorf("%w: COPY (query) TO STDOUT of a query whose shards' rows would need merging (ORDER BY, LIMIT, aggregates, DISTINCT); use SELECT", ErrUnsupported)
	}
	shards := loc.shards.shards(c.db)
	p := &Plan{Statement: c.st, Route: RouteSingle, Reason: reasonFor(loc, len(shards), len(c.db.Shards))}
	for _, sh := range shards {
		p.Targets = append(p.Targets, c.target(sh, false))
	}
	if len(p.Targets) > 1 {
		p.Route = RouteScatter
	}
	return p, nil
}

// hinted honours /* shard=... */ and /* key=... */ comments: the client
// knows where its statement belongs.
func (c *planner) hinted(h sqltext.Hints) (*Plan, error) {
	var sh *topology.Shard
	reason := ""
	if h.Shard != "" {
		s, ok := c.db.ShardNamed(h.Shard)
		if !ok {
			return nil, fmt.Errorf("%w: hint shard=%s names no shard of database %s (shards: %s)", ErrUnknownShard, h.Shard, c.db.Name, shardNames(c.db))
		}
		sh, reason = s, "hint shard="+s.Name
	} else {
		kt := topology.KeyInt
		for _, r := range c.st.Tables {
			if t := lookupTable(c.db, r); t != nil && t.Kind == topology.Sharded {
				kt = t.KeyType
				break
			}
		}
		id, err := kt.TextKeyspaceID(h.Key)
		if err != nil {
			return nil, fmt.Errorf("%w: hint key=%s: %v", ErrMissingKey, h.Key, err)
		}
		sh, reason = c.db.ShardFor(id), "hint key="+h.Key
	}
	write := c.isWrite()
	p := &Plan{Statement: c.st, Route: RouteSingle, Write: write, Reason: reason, Targets: []Target{c.target(sh, write)}}
	return c.applyRoleHint(p, h.Role)
}

func (c *planner) isWrite() bool {
	switch c.st.Kind {
	case KindSelect:
		return (c.st.ForUpdate || c.st.PrimaryFunc != "") && !c.st.Explain
	case KindInsert, KindUpdate, KindDelete:
		return !c.st.Explain
	case KindShow, KindBegin, KindCommit, KindRollback, KindSavepoint, KindSet, KindUse:
		return false
	case KindCopy:
		return c.st.CopyFrom
	}
	return true
}

// applyRoleHint: /* role=primary */ sends reads to primaries (fresh data);
// /* role=replica */ is accepted only where a replica is already allowed.
func (c *planner) applyRoleHint(p *Plan, role string) (*Plan, error) {
	switch strings.ToLower(role) {
	case "":
		return p, nil
	case "primary":
		for i := range p.Targets {
			p.Targets[i].Role = RolePrimary
		}
		return p, nil
	case "replica":
		if p.Write || c.sess.InTransaction {
			return nil, fmt.Errorf("%w: hint role=replica on a write or inside a transaction", ErrUnsupported)
		}
		return p, nil
	}
	return nil, fmt.Errorf("%w: hint role=%s (want primary or replica)", ErrUnsupported, role)
}

func shardNames(d *topology.DB) string {
	names := make([]string, len(d.Shards))
	for i, s := range d.Shards {
		names[i] = s.Name
	}
	return strings.Join(names, ", ")
}

func hasAggregate(sel *Select) bool {
	for _, it := range sel.Items {
		if it.Agg != AggNone || it.ContainsAgg {
			return true
		}
	}
	return false
}

// onlyUnlisted reports whether the statement names tables and none of
// them is listed in the topology.
func (c *planner) onlyUnlisted() bool {
	for _, r := range c.st.Tables {
		if lookupTable(c.db, r) != nil {
			return false
		}
	}
	return len(c.st.Tables) > 0
}
