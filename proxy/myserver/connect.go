package myserver

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shardgate/shardgate/proxy/mysqlwire"
	"github.com/shardgate/shardgate/proxy/pool"
	"github.com/shardgate/shardgate/router"
	"github.com/shardgate/shardgate/topology"
	"github.com/shardgate/shardgate/topology/health"
)

// lease is a backend connection held for one statement (or a
// transaction) and how to give it back.
type lease struct {
	conn   *backendConn
	pool   *pool.Pool[*backendConn]
	addr   string
	pinned bool // the transaction's: kept until the transaction ends
	// held: the client keeps it for its user locks (see userlocks.go);
	// dbName and shardName say where it is.
	held              bool
	dbName, shardName string
}

// release gives a lease back: to its pool (discarding a broken
// connection), or for the transaction's connection, nothing unless it
// broke, which ends the transaction.
func (s *session) release(l lease, broken bool) {
	if l.pinned {
		if broken {
			s.loseTx()
		}
		return
	}
	if l.held {
		s.releaseHeld(l, broken)
		return
	}
	if !broken && l.conn.holdsLocks() {
		s.hold(l) // the client's GET_LOCK or LOCK TABLES locks live on it
		return
	}
	s.srv.health.Done(l.addr)
	l.conn.opening = nil // a transaction that never reached the server
	if broken {
		l.pool.Discard(l.conn)
	} else {
		l.pool.Release(l.conn)
	}
}

// acquire gets a connection for a target: outside a transaction one from
// the pool of the server the target's role picks; inside, the
// transaction's connection to the target's shard (see join).
func (s *session) acquire(ctx context.Context, db *topology.DB, t router.Target) (lease, error) {
	return s.acquireFor(ctx, db, t, false)
}

// acquireFor is acquire; opening: a shard new to the transaction may get
// its START TRANSACTION with the statement the caller sends next with
// sendTo (see join).
func (s *session) acquireFor(ctx context.Context, db *topology.DB, t router.Target, opening bool) (lease, error) {
	if !s.autocommit && !s.tx.open {
		s.openTx(nil, 0) // autocommit=0: every statement is in a transaction
	}
	if s.tx.open {
		return s.join(ctx, db, t.Shard, opening)
	}
	return s.connect(ctx, db, t)
}

// connect takes a connection to the server a target runs on from its
// pool, with the session's state applied. A read outside a transaction
// whose server cannot be reached is tried once more on another server of
// the shard (the health monitor hears of the failure).
func (s *session) connect(ctx context.Context, db *topology.DB, t router.Target) (lease, error) {
	l, err := s.connectTo(ctx, db, t, "")
	if err != nil && l.addr != "" && s.retryable(t) {
		s.srv.metrics.Retry(db.Name)
		l, err = s.connectTo(ctx, db, t, l.addr)
	}
	return l, err
}

// retryable: a statement that may run again elsewhere after its server
// failed (a read outside a transaction, not yet answered in part).
func (s *session) retryable(t router.Target) bool {
	return t.Role != router.RolePrimary && !s.tx.open && s.forwarded == 0
}

// connectTo is connect without the retry; avoid is a server that just
// failed. On a failure to reach the server the lease names it (addr).
func (s *session) connectTo(ctx context.Context, db *topology.DB, t router.Target, avoid string) (lease, error) {
	if h := s.heldFor(db, t.Shard); h != nil { // the client's user locks live there
		if err := h.conn.syncState(s); err != nil {
			s.releaseHeld(h.lease, true)
			return lease{}, err
		}
		return h.lease, nil
	}
	addr, err := s.srv.health.Pick(db, t.Shard, health.PickRequest{Primary: s.wantsPrimary(db, t), ClientKey: s.clientKey, Avoid: avoid})
	if err != nil {
		return lease{}, &mysqlwire.Error{Code: erUnknown, State: "HY000", Message: fmt.Sprintf("shardgate: shard %s: %v", t.Shard.Name, err)}
	}
	p := s.srv.back.poolFor(db, addr)
	c, err := p.Acquire(ctx, db.PoolWaitTimeout)
	if errors.Is(err, pool.ErrWaitTimeout) { // the server is fine: no retry, no failure reported
		return lease{}, poolFull(addr, t.Shard.Name, err)
	}
	if err != nil {
		s.srv.health.ReportFailure(addr, err)
		return lease{addr: addr}, &mysqlwire.Error{Code: erUnknown, State: "HY000",
			Message: fmt.Sprintf("shardgate: cannot reach backend %s (shard %s): %v", addr, t.Shard.Name, err)}
	}
	s.srv.health.Begin(addr)
	l := lease{conn: c, pool: p, addr: addr, dbName: db.Name, shardName: t.Shard.Name}
	if err := c.syncState(s); err != nil {
		s.release(l, true)
		if isServerError(err) {
			return lease{}, err
		}
		// The connection died under the session's SETs: like a failed
		// dial, the server may be gone.
		s.srv.health.ReportFailure(addr, err)
		return lease{addr: addr}, &backendError{addr, err}
	}
	return l, nil
}

// wantsPrimary: the target needs the primary, or the session wrote to the
// shard within read_your_writes.
func (s *session) wantsPrimary(db *topology.DB, t router.Target) bool {
	return t.Role == router.RolePrimary || db.ReadYourWrites > 0 && s.recent.Primary(t.Shard, time.Now())
}

// wrote remembers that the session wrote to these shards
// (read_your_writes). In a transaction the window restarts at COMMIT,
// when replicas can start to replay the writes.
func (s *session) wrote(db *topology.DB, targets []router.Target) {
	if db.ReadYourWrites <= 0 {
		return
	}
	if s.tx.open {
		s.tx.wrote = true
	}
	now := time.Now()
	for _, t := range targets {
		s.recent.Wrote(db, t.Shard, now)
	}
}

func roleOf(addr string, sh *topology.Shard) string {
	if addr == sh.Primary {
		return "primary"
	}
	return "replica"
}

// poolFull is the error of a statement that waited pool.wait_timeout for
// a busy pool's connection.
func poolFull(addr, shard string, err error) error {
	return &mysqlwire.Error{Code: erTooManyConnections, State: "08004", Message: fmt.Sprintf(
		"shardgate: backend %s (shard %s): %v; sessions holding transactions open keep connections, or pool.max_per_backend is too small", addr, shard, err)}
}

func isServerError(err error) bool {
	var me *mysqlwire.Error
	return errors.As(err, &me)
}
