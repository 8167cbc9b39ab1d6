package router

import (
	"github.com/shardgate/shardgate/router/sqltext"
	"github.com/shardgate/shardgate/topology"
)

// Role says which server of a shard a target needs.
type Role uint8

const (
	RoleReplica Role = iota + 1 // a healthy, fresh replica; the primary if none
	RolePrimary
)

func (r Role) String() string {
	if r == RolePrimary {
		return "primary"
	}
	return "replica"
}

// RouteKind is how a plan spreads over shards; it labels metrics.
type RouteKind uint8

const (
	RouteSingle    RouteKind = iota + 1 // one shard
	RouteScatter                        // several or all shards, results merged
	RouteBroadcast                      // every shard primary, same statement (DDL, reference writes)
	RouteLocal                          // answered by the session itself (no shard)
)

func (r RouteKind) String() string {
	switch r {
	case RouteSingle:
		return "single"
	case RouteScatter:
		return "scatter"
	case RouteBroadcast:
		return "broadcast"
	case RouteLocal:
		return "local"
	}
	return "route?"
}

// Target is one shard a plan runs on and what it sends there.
type Target struct {
	Shard *topology.Shard
	Role  Role
	// SQL is the text to send. Empty means the client's text unchanged
	// (the common case: nothing is rebuilt on the hot path).
	SQL string
	// Params lists, for a rewritten statement with bound parameters, which
	// of the client's parameters (1-based) the target's text uses, in the
	// order of its placeholders. nil means all of them, unchanged.
	Params []int
}

// Plan is the router's answer for one statement: a plain value the proxy
// executes. It holds no connections and does no I/O.
type Plan struct {
	Statement *Statement // the analyzed shape (shared; do not mutate)
	Route     RouteKind
	Targets   []Target
	// AnyShard: the single target may be replaced by any shard of the
	// database (reference tables, SELECT 1): the proxy may balance it.
	AnyShard bool
	// Write is true when the statement changes data or locks rows: it
	// runs on primaries and, in a transaction, pins the shard.
	Write bool
	// Merge says how to combine the results of several targets; nil when
	// there is one target, or rows are simply concatenated.
	Merge *Merge
	// SumAffected: a scatter write whose row counts are added up.
	SumAffected bool
	// Reason is a short human explanation of the route ("key id=42",
	// "no key: scatter", "hint shard=80-"), for `shardgate route` and logs.
	Reason string
	// Shape is the statement's text with its literals replaced by
	// placeholders, and Slots what each placeholder stands for, when the
	// router analyzed that text (empty otherwise): a proxy may run the
	// shape as a server-side prepared statement with the literals bound.
	Shape string
	Slots []sqltext.Slot
	// SessionSQL, for a RouteLocal plan, is the statement the session
	// runs and keeps in place of the client's: set_config() with bound
	// parameters, their values written in.
	SessionSQL string
}

// Merge describes combining the rows of several shards into one result.
// Column indexes are 0-based positions in the rows the shards return.
type Merge struct {
	OrderBy    []SortKey
	Limit      int64 // -1: none
	Offset     int64
	Aggregates []AggColumn // when grouping or aggregating
	GroupBy    []int       // columns that form the group key
	Distinct   bool
	// Hidden is how many trailing columns the rewrite added (sort keys or
	// AVG's COUNT) that the client must not see.
	Hidden int
	// Having keeps only the groups whose merged values pass every filter
	// (the shards ran the query without its HAVING).
	Having []HavingFilter
}

// HavingFilter compares a merged column with a value: numbers by value,
// anything else as the column's type orders it. A NULL on either side
// drops the group, as SQL's comparison with NULL does.
type HavingFilter struct {
	Column int
	Op     string // =, <>, <, <=, >, >=
	Value  string
	Null   bool
}

// SortKey is one ORDER BY key of a merge.
type SortKey struct {
	Column     int
	Desc       bool
	NullsFirst bool
}

// AggColumn says how to combine one aggregate column across shards.
type AggColumn struct {
	Column int
	Func   Aggregate // AggCount and AggSum add, AggMin/AggMax compare
	// CountColumn, for AggAvg: the hidden column holding the COUNT that
	// goes with the SUM the shards returned in Column; for a Coalesced
	// aggregate, the hidden COUNT of the values it saw on that shard.
	CountColumn int
	// Coalesced: the shards return COALESCE(agg, default). A shard whose
	// count is 0 returned the default, not a value: it is left out, and
	// when every shard is, the result is the default as a shard printed
	// it (in the column's own type and format), from DefaultColumn: the
	// item itself, or for AVG a hidden copy of the unrewritten item.
	Coalesced     bool
	DefaultColumn int
}
