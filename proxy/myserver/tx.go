package myserver

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/shardgate/shardgate/proxy/metrics"
	"github.com/shardgate/shardgate/proxy/mysqlwire"
	"github.com/shardgate/shardgate/proxy/twophase"
	"github.com/shardgate/shardgate/router"
	"github.com/shardgate/shardgate/topology"
)

// txState is the client's transaction as the proxy sees it. START
// TRANSACTION is deferred until a statement picks a shard. Each shard the
// transaction touches gets a connection of its own (a participant),
// started with the same deferred statements; the database's transactions
// mode says whether there may be more than one.
type txState struct {
	open bool
	// readOnly: START TRANSACTION READ ONLY, so it may read from several
	// shards whatever the transactions mode (each participant starts it
	// the same way, so the servers refuse its writes).
	readOnly bool
	// deferred are SET TRANSACTION, START TRANSACTION and savepoint
	// statements, replayed on every participant when it joins, so a shard
	// joining late is in the same transaction state as the others.
	deferred []string
	parts    []txPart // in the order they joined; parts[0] pins the transaction
	db       *topology.DB
	wrote    bool // a write ran in it: its COMMIT restarts read_your_writes
	lost     bool // a connection broke: the servers rolled it back
	// Under transactions: two_phase every participant runs an XA
	// transaction named gid(i), started in place of deferred[beginAt].
	xa      bool
	gid     func(i int) string
	beginAt int
	// lockTimeout is the SET SESSION innodb_lock_wait_timeout the
	// transaction runs on every participant since it spans shards ("":
	// none; see locktimeout.go).
	lockTimeout string
}

// txPart is one shard's connection in a transaction.
type txPart struct {
	shard    *topology.Shard
	lease    lease
	broken   bool // its state is unknown: discard, never reuse
	ended    bool // XA END was run
	prepared bool // XA PREPARE succeeded
}

// pinned is the shard the transaction touched first (nil: none yet).
func (t *txState) pinned() *topology.Shard {
	if len(t.parts) == 0 {
		return nil
	}
	return t.parts[0].shard
}

func (t *txState) connTo(sh *topology.Shard) *backendConn {
	for _, p := range t.parts {
		if p.shard == sh {
			return p.lease.conn
		}
	}
	return nil
}

// openTx starts a transaction in the session; its START TRANSACTION (or
// the client's BEGIN text) is sent when a statement picks a shard. mode
// is the access mode the BEGIN declared (router.Statement.ReadOnly);
// without one, a SET TRANSACTION before it or the session's default
// decides (SET SESSION TRANSACTION READ ONLY, tx_read_only), as on a
// server: the servers get those SETs too, so they enforce it.
func (s *session) openTx(begin []string, mode int8) {
	if len(begin) == 0 {
		begin = []string{"START TRANSACTION"}
	}
	s.tx = txState{open: true, deferred: append(s.nextTx, begin...), beginAt: len(s.nextTx), readOnly: s.accessMode(mode) > 0}
	s.nextTx, s.nextReadOnly = nil, 0
}

// accessMode is the access mode of the transaction the session opens
// next, given what its BEGIN declared (0: nothing).
func (s *session) accessMode(declared int8) int8 {
	mode := declared
	if mode == 0 {
		mode = s.nextReadOnly
	}
	for i := len(s.sets) - 1; mode == 0 && i >= 0; i-- {
		mode = s.sets[i].readOnly // the last SET that says wins
	}
	return mode
}

// readOnlyTx: the statement routed now runs in a READ ONLY transaction,
// the open one or, with autocommit off, the one it opens.
func (s *session) readOnlyTx() bool {
	if s.tx.open {
		return s.tx.readOnly
	}
	return !s.autocommit && s.accessMode(0) > 0
}

// join returns the transaction's connection to a shard, taking one from
// the shard primary's pool and starting the transaction there (the
// deferred statements) when the shard is new to it: at once, or with
// opening, in front of the statement sendTo writes next (see opening.go).
func (s *session) join(ctx context.Context, db *topology.DB, sh *topology.Shard, opening bool) (lease, error) {
	if c := s.tx.connTo(sh); c != nil {
		if !opening && len(c.opening) > 0 {
			// Its opening waited for a statement that did not go.
			if err := c.begin(); err != nil {
				s.loseTx()
				return lease{}, err
			}
		}
		return lease{conn: c, pinned: true}, nil
	}
	if err := s.spanShards(db); err != nil {
		return lease{}, err
	}
	l, err := s.connect(ctx, db, router.Target{Shard: sh, Role: router.RolePrimary})
	if err != nil {
		return lease{}, err
	}
	if s.tx.lockTimeout != "" {
		l.conn.stale = true // its deferred statements set the timeout
	}
	if len(s.tx.parts) == 0 && db.Transactions == topology.TwoPhase {
		s.tx.xa, s.tx.gid = true, twophase.Names(db.Name)
	}
	if opening && !s.tx.xa && canOpenWith(s.tx.deferred) {
		l.conn.opening = append(l.conn.opening[:0], s.tx.deferred...)
		s.tx.parts = append(s.tx.parts, txPart{shard: sh, lease: l})
		s.tx.db = db
		return lease{conn: l.conn, pinned: true}, nil
	}
	for i, q := range s.tx.deferred {
		if s.tx.xa && i == s.tx.beginAt {
			q = "XA START " + quoteString(s.tx.gid(len(s.tx.parts)))
		}
		if _, err := l.conn.Simple(q); err != nil {
			s.release(l, !isServerError(err))
			return lease{}, err
		}
	}
	s.tx.parts = append(s.tx.parts, txPart{shard: sh, lease: l})
	s.tx.db = db
	return lease{conn: l.conn, pinned: true}, nil
}

// endTx gives the participants back (or discards them, which rolls their
// transaction back on the server) and forgets the transaction.
func (s *session) endTx(broken bool) {
	for _, p := range s.tx.parts {
		// A part left prepared (for the resolver) is not this
		// connection's to keep.
		s.release(p.lease, broken || p.broken || p.prepared)
	}
	s.tx = txState{}
}

// loseTx handles a transaction whose connection broke: the server rolled
// it back, so the session keeps it open and failed until the client ends
// it, rather than let later statements run outside it or a COMMIT
// report success.
func (s *session) loseTx() {
	s.endTx(true)
	s.tx = txState{open: true, lost: true}
}

// commitNow commits the open transaction on its shards (BEGIN inside a
// transaction, SET autocommit = 1).
func (s *session) commitNow() error {
	if s.tx.lost {
		s.tx = txState{}
		return errLostTx
	}
	err := s.commitParts()
	s.ended(err == nil)
	return err
}

// finishTx ends the transaction with the client's COMMIT or ROLLBACK: on
// its shards if it touched any, else locally.
func (s *session) finishTx(ctx context.Context, w *work, commit bool) error {
	switch {
	case len(s.tx.parts) == 0:
		s.tx = txState{}
		return s.sendOK(0, 0, w.more)
	case len(s.tx.parts) == 1 && !s.tx.xa:
		// One shard: its server's own answer goes to the client.
		db, p, wrote := s.tx.db, s.tx.parts[0], s.tx.wrote
		s.tx = txState{} // the client's OK must say the transaction ended
		_, err := s.relay(ctx, p.lease.conn, w, router.Target{})
		s.release(p.lease, !isClean(err) || s.killed.Load())
		if err == nil && wrote {
			s.recent.Wrote(db, p.shard, time.Now()) // replicas replay from the commit on
		}
		return err
	}
	var err error
	if commit {
		err = s.commitParts()
	} else {
		s.rollbackFrom(0)
	}
	s.ended(commit && err == nil)
	if err != nil {
		return err
	}
	return s.sendOK(0, 0, w.more)
}

// ended forgets a finished transaction; the reads of the shards a
// committed one wrote go to their primaries for a while.
func (s *session) ended(committed bool) {
	if committed && s.tx.wrote {
		now := time.Now()
		for _, p := range s.tx.parts {
			s.recent.Wrote(s.tx.db, p.shard, now)
		}
	}
	s.endTx(false)
}

// commitParts commits the participants one after the other. A failure
// at the first leaves nothing committed; a failure at a later one leaves
// the earlier ones committed, which the error says.
func (s *session) commitParts() error {
	if s.tx.xa {
		return s.commitXA()
	}
	parts := s.tx.parts
	for i := range parts {
		p := &parts[i]
		_, err := p.lease.conn.Simple("COMMIT")
		if err == nil {
			continue
		}
		p.broken = !isServerError(err)
		s.rollbackFrom(i + 1)
		outcome := metrics.CommitPartial
		if i == 0 {
			outcome = metrics.CommitRolledBack
		}
		if len(parts) > 1 {
			s.srv.metrics.MultiShardCommit(s.tx.db.Name, outcome)
		}
		if i == 0 {
			if p.broken {
				return &backendError{p.lease.addr, err}
			}
			return err
		}
		return &mysqlwire.Error{Code: erErrorDuringCommit, State: "HY000", Message: fmt.Sprintf(
			"shardgate: transaction only partly committed: shard %s committed; shard %s failed to commit (%v); shard %s rolled back",
			shardList(parts[:i]), p.shard.Name, err, shardList(parts[i+1:]))}
	}
	if len(parts) > 1 {
		s.srv.metrics.MultiShardCommit(s.tx.db.Name, metrics.CommitCommitted)
	}
	return nil
}

// rollbackFrom rolls back the participants from the i'th on (that are
// not prepared). A participant that fails to is discarded: closing its
// connection rolls it back.
func (s *session) rollbackFrom(i int) {
	for j := i; j < len(s.tx.parts); j++ {
		p := &s.tx.parts[j]
		if p.broken || p.prepared {
			continue
		}
		if !s.tx.xa {
			_, err := p.lease.conn.Simple("ROLLBACK")
			p.broken = err != nil
			continue
		}
		p.broken = s.xaEnd(j) != nil || s.xa(j, "XA ROLLBACK") != nil
	}
}

func shardList(parts []txPart) string {
	if len(parts) == 0 {
		return "(none)"
	}
	names := make([]string, len(parts))
	for i, p := range parts {
		names[i] = p.shard.Name
	}
	return strings.Join(names, ", ")
}

// inTx runs a SAVEPOINT, RELEASE SAVEPOINT or ROLLBACK TO on every shard
// of the transaction, and keeps it for shards that join later.
func (s *session) inTx(ctx context.Context, db *topology.DB, w *work) error {
	if !s.tx.open {
		// Outside a transaction: let a server answer (an error for ROLLBACK TO).
		return s.single(ctx, db, router.Target{Shard: db.Unsharded, Role: router.RolePrimary}, w)
	}
	s.tx.deferred = append(s.tx.deferred, w.sql)
	switch len(s.tx.parts) {
	case 0:
		return s.sendOK(0, 0, w.more)
	case 1:
		return s.single(ctx, db, router.Target{Shard: s.tx.parts[0].shard, Role: router.RolePrimary}, w)
	}
	if err := s.onEveryPart(w.sql, 0); err != nil {
		return err
	}
	return s.sendOK(0, 0, w.more)
}

// onEveryPart runs a statement on the participants from the first'th on.
// A lost connection loses the transaction.
func (s *session) onEveryPart(sql string, first int) error {
	for i := first; i < len(s.tx.parts); i++ {
		c := s.tx.parts[i].lease.conn
		if _, err := c.Simple(sql); err != nil {
			if isServerError(err) {
				return err
			}
			addr := c.addr
			s.loseTx()
			return &backendError{addr, err}
		}
	}
	return nil
}
