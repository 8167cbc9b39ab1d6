// Package router turns SQL text, bound parameters and session facts into a
// Plan: which shards, which role, what text, how to merge. It is pure: no
// I/O, no goroutines; the proxy executes what it returns.
package router

import (
	"errors"
	"fmt"

	"github.com/shardgate/shardgate/router/sqltext"
	"github.com/shardgate/shardgate/topology"
)

// DefaultCacheSize is how many statement shapes a Router remembers.
const DefaultCacheSize = 10000

// Router routes the statements of one SQL dialect. It is safe for
// concurrent use by every session.
type Router struct {
	dialect  sqltext.Dialect
	analyzer Analyzer
	cache    *shapeCache
}

// New returns a Router for a dialect, using the dialect's analyzer and
// caching up to cacheSize statement shapes.
func New(d sqltext.Dialect, a Analyzer, cacheSize int) *Router {
	return &Router{dialect: d, analyzer: a, cache: newShapeCache(cacheSize)}
}

// Session is what the router must know of the client's session.
type Session struct {
	InTransaction bool
	// Pinned is the shard the open transaction already touched; nil when
	// the transaction has not touched one yet. Outside a transaction, the
	// shard of a server connection the client keeps (its session-level
	// locks or cursors live there), or nil. Statements that name no table
	// go to it; inside a transaction, checkTransaction keeps it there.
	Pinned *topology.Shard
	// ReadOnly: the open transaction was declared READ ONLY, so under
	// single_shard it may still read from several shards.
	ReadOnly bool
}

// Request is one statement to route.
type Request struct {
	DB      *topology.DB
	SQL     string
	Params  []Param
	Session Session
	// TableColumns, when set, gives a table's columns in order, for an
	// INSERT that names none (nil: unknown). The router does no I/O: the
	// proxy learns them from a server after a ColumnsNeededError.
	TableColumns func(table string) []string
}

// Route plans one statement. Errors name the reason and wrap one of the
// package's sentinel errors.
func (r *Router) Route(req Request) (*Plan, error) {
	n, err := sqltext.Normalize(r.dialect, req.SQL)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSyntax, err)
	}
	return r.route(req, n)
}

// Prepared is a statement text tokenized once, for a client's prepared
// statement: its executions route without tokenizing the text again.
type Prepared struct {
	sql string
	n   sqltext.Normalized
	err error
}

// Prepare tokenizes a statement text for RoutePrepared.
func (r *Router) Prepare(sql string) *Prepared {
	n, err := sqltext.Normalize(r.dialect, sql)
	if err != nil {
		err = fmt.Errorf("%w: %v", ErrSyntax, err)
	}
	return &Prepared{sql: sql, n: n, err: err}
}

// RoutePrepared is Route for a prepared text (req.SQL is ignored).
func (r *Router) RoutePrepared(p *Prepared, req Request) (*Plan, error) {
	if p.err != nil {
		return nil, p.err
	}
	req.SQL = p.sql
	return r.route(req, p.n)
}

func (r *Router) route(req Request, n sqltext.Normalized) (*Plan, error) {
	st, b, err := r.statement(req.SQL, n, req.Params)
	if err != nil {
		return nil, err
	}
	c := &planner{db: req.DB, st: st, b: b, sess: req.Session, dialect: r.dialect, text: n.Text, original: req.SQL, columns: req.TableColumns}
	plan, err := c.plan(n.Hints)
	if err != nil {
		return nil, err
	}
	if err := checkTransaction(plan, req.DB, req.Session); err != nil {
		return nil, err
	}
	if !b.raw && n.Normalized {
		plan.Shape, plan.Slots = n.Text, n.Slots
	}
	return plan, nil
}

// statement returns the analyzed shape of the text, from the cache when
// it has been seen, and the binder that resolves its placeholders.
func (r *Router) statement(original string, n sqltext.Normalized, params []Param) (*Statement, binder, error) {
	b := binder{slots: n.Slots, params: params}
	st, err, ok := r.cache.get(n.Text)
	if !ok {
		st, err = r.analyzer.Analyze(n.Text)
		r.cache.put(n.Text, st, err)
	}
	if err == nil {
		return st, b, nil
	}
	if !n.Normalized || !errors.Is(err, ErrSyntax) {
		return nil, b, err
	}
	// The tokenizer put a placeholder where the grammar allows no value.
	// Analyze the text as written; its literals stay inline, so its
	// placeholders are exactly the client's parameters.
	key := "\x00raw\x00" + original
	st, err, ok = r.cache.get(key)
	if !ok {
		st, err = r.analyzer.Analyze(original)
		r.cache.put(key, st, err)
	}
	return st, binder{params: params, raw: true}, err
}

// singleShardHint tells whoever reads a cross-shard refusal where the rule
// comes from: ORMs wrap even a single write in a transaction, so a scatter
// UPDATE or a reference-table INSERT meets it without an explicit BEGIN.
const singleShardHint = " (the database has transactions: single_shard; multi_shard or two_phase let a transaction span shards)"

// checkTransaction enforces "one transaction, one shard" where the
// database's transactions mode says so: a statement in a transaction may
// touch only the shard the transaction is pinned to.
func checkTransaction(p *Plan, db *topology.DB, s Session) error {
	if !s.InTransaction || len(p.Targets) == 0 || db.Transactions != topology.SingleShard && db.Transactions != "" ||
		readOnlySpan(p, s) {
		return nil
	}
	if len(p.Targets) > 1 {
		if s.Pinned != nil {
			return fmt.Errorf("%w: this %s statement needs %d shards but the transaction is on shard %s; run it outside the transaction%s",
				ErrCrossShard, p.Statement.Kind, len(p.Targets), s.Pinned.Name, singleShardHint)
		}
		return fmt.Errorf("%w: this %s statement needs %d shards (%s); a transaction may use only one%s",
			ErrCrossShard, p.Statement.Kind, len(p.Targets), targetNames(p.Targets), singleShardHint)
	}
	if s.Pinned != nil && p.Targets[0].Shard != s.Pinned {
		return fmt.Errorf("%w: the transaction is on shard %s and this statement needs shard %s%s",
			ErrCrossShard, s.Pinned.Name, p.Targets[0].Shard.Name, singleShardHint)
	}
	return nil
}

func targetNames(ts []Target) string {
	out := ""
	for i, t := range ts {
		if i > 0 {
			out += ", "
		}
		out += t.Shard.Name
	}
	return out
}
