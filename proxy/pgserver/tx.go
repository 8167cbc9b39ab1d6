package pgserver

import (
	"context"
	"errors"
	"maps"
	"strings"
	"time"

	"github.com/jackc/pgproto3/v2"

	"github.com/shardgate/shardgate/proxy/pgwire"
	"github.com/shardgate/shardgate/router"
	"github.com/shardgate/shardgate/topology"
)

// txState is the client's transaction as the proxy sees it. BEGIN is
// deferred until a statement picks a shard. Each shard the transaction
// touches gets a connection of its own (a participant), started with the
// same deferred statements; the database's transactions mode says
// whether there may be more than one.
type txState struct {
	open   bool
	failed bool
	// implicit: the transaction PostgreSQL runs a pipeline (or a
	// multi-statement Query) in when the client opened none; it ends at
	// Sync (the end of the Query) instead of at COMMIT.
	implicit bool
	// deferred are BEGIN, SET LOCAL and savepoint statements, replayed on
	// every participant when it joins, so a shard joining late is in the
	// same transaction state as the others.
	deferred []string
	parts    []txPart // in the order they joined; parts[0] pins the transaction
	db       *topology.DB
	wrote    bool // a write ran in it: its COMMIT restarts read_your_writes
	// savedSettings are the session settings at BEGIN (a ROLLBACK undoes
	// SETs made since); dirtySets says the participants ran such SETs and
	// must be reset before another client gets them.
	savedSettings map[string]string
	dirtySets     bool
	// lockTimeout is the SET LOCAL lock_timeout the transaction runs on
	// every participant since it spans shards ("": none; see
	// locktimeout.go).
	lockTimeout string
	// cursors are the shards of the cursors DECLAREd in the transaction:
	// FETCH, MOVE and CLOSE name no table and go where their cursor is.
	cursors map[string]*topology.Shard
	// readOnly: BEGIN or SET TRANSACTION declared it READ ONLY, so it may
	// read from several shards whatever the transactions mode (every
	// participant gets the same declaration with the deferred statements,
	// so the servers refuse its writes).
	readOnly bool
	// snapshots are the per-shard ids of an imported snapshot of the
	// proxy's (see snapshots.go).
	snapshots map[string]string
}

// txPart is one shard's connection in a transaction.
type txPart struct {
	shard   *topology.Shard
	conn    *backendConn
	release func(broken bool) // gives conn back to its pool
	lost    bool              // its state is unknown: discard, never reuse
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
			return p.conn
		}
	}
	return nil
}

// acquire gets a connection for a target: outside a transaction one from
// the pool of the server the health monitor picks; inside, the
// transaction's connection to the target's shard.
func (s *session) acquire(ctx context.Context, db *topology.DB, t router.Target) (*lease, error) {
	return s.acquireFor(ctx, db, t, false)
}

// acquireFor is acquire; opening: a shard new to the transaction gets its
// deferred BEGIN... with the statement, which the caller sends with send.
func (s *session) acquireFor(ctx context.Context, db *topology.DB, t router.Target, opening bool) (*lease, error) {
	if s.tx.open {
		return s.join(ctx, db, t.Shard, opening)
	}
	c, _, release, err := s.connect(ctx, db, t)
	if err != nil {
		return nil, err
	}
	return &lease{conn: c, release: release}, nil
}

// join returns the transaction's connection to a shard, taking one from
// the shard primary's pool and starting the transaction there (the
// deferred BEGIN...) when the shard is new to it: at once, or with
// opening, in front of the next statement send writes to it, which saves
// a round trip (a failing BEGIN then skips the statement: see send).
// Losing the connection aborts the whole transaction.
func (s *session) join(ctx context.Context, db *topology.DB, sh *topology.Shard, opening bool) (*lease, error) {
	l := &lease{release: func(broken bool) {
		if broken {
			s.abortTx()
		}
	}}
	if l.conn = s.tx.connTo(sh); l.conn != nil {
		return l, nil
	}
	if err := s.spanShards(db); err != nil {
		return nil, err
	}
	c, _, release, err := s.connect(ctx, db, router.Target{Shard: sh, Role: router.RolePrimary})
	if err != nil {
		return nil, err
	}
	if opening {
		c.opening = s.opening(sh)
	} else if err := c.simple(strings.Join(s.opening(sh), "; ")); err != nil {
		release(true)
		return nil, classify(err)
	}
	s.tx.parts = append(s.tx.parts, txPart{shard: sh, conn: c, release: release})
	s.tx.db = db
	l.conn = c
	return l, nil
}

// endTx gives the participants back (or discards them, which rolls their
// transaction back on the server) and forgets the transaction.
func (s *session) endTx(broken bool) {
	for _, p := range s.tx.parts {
		discard := broken || p.lost
		if !discard && s.tx.dirtySets {
			// The transaction's SETs changed this connection in ways its
			// record does not follow: start it clean.
			discard = p.conn.simple("RESET ALL") != nil
			p.conn.sets = map[string]string{}
		}
		p.release(discard)
	}
	s.tx = txState{}
}

// abortTx discards the connections of a transaction that lost one (that
// server rolled its part back). The transaction stays open and failed, as
// after any error in a transaction block: the client's COMMIT answers
// ROLLBACK, and no later statement (nor a retry) runs outside the
// transaction the client believes it is in.
func (s *session) abortTx() {
	saved, implicit := s.tx.savedSettings, s.tx.implicit
	s.endTx(true)
	s.tx = txState{open: true, failed: true, implicit: implicit, savedSettings: saved}
}

// finishTx ends the transaction: on its shards if it touched any, else
// locally. COMMIT of a failed transaction rolls back, as in PostgreSQL.
func (s *session) finishTx(sql string, commit bool) error {
	if !s.tx.open {
		s.w.Send(&pgproto3.NoticeResponse{Severity: "WARNING", Code: "25P01", Message: "there is no transaction in progress"})
		if commit {
			return s.complete("COMMIT")
		}
		return s.complete("ROLLBACK")
	}
	commit = commit && !s.tx.failed
	switch len(s.tx.parts) {
	case 0:
		if !commit {
			s.settings = s.tx.savedSettings
		}
		s.tx = txState{}
	case 1:
		// One shard: its server's own answer goes to the client.
		status, err := s.relay(s.tx.parts[0].conn, &work{sql: sql}, router.Target{})
		_, lost := err.(*backendError)
		s.tx.parts[0].lost = lost || status != 'I'
		s.ended(commit && status == 'I' && err == nil)
		if lost {
			return &clientError{code: "08006", msg: err.Error()}
		}
		return err
	default:
		var err error
		if commit {
			err = s.commitAll()
		} else {
			s.rollbackFrom(0)
		}
		s.ended(commit && err == nil)
		if err != nil {
			return err
		}
	}
	if commit {
		return s.complete("COMMIT")
	}
	return s.complete("ROLLBACK")
}

// beginImplicit opens the implicit transaction of a pipeline or a
// multi-statement Query.
func (s *session) beginImplicit() {
	s.tx = txState{open: true, implicit: true, deferred: []string{"BEGIN"}, savedSettings: maps.Clone(s.settings)}
}

// endImplicit ends the implicit transaction: commits it (unless it
// failed) or rolls it back. The client hears nothing unless the commit
// fails.
func (s *session) endImplicit() error {
	commit := !s.tx.failed
	var err error
	switch {
	case !commit:
		s.rollbackFrom(0)
	case len(s.tx.parts) == 0:
		// Nothing ran in it yet: its first statement needs several
		// shards ("DROP TABLE a, b; DROP SEQUENCE s" under single_shard).
	case len(s.tx.parts) == 1:
		// One shard: a plain COMMIT (commitAll would count it as multi-shard).
		p := &s.tx.parts[0]
		var tag string
		tag, err = p.conn.command("COMMIT")
		var pe *pgwire.PgError
		if err != nil && !errors.As(err, &pe) || !p.conn.idle() {
			p.lost = true
		}
		if err == nil && tag != "COMMIT" {
			err = errRolledBack
		}
		if err != nil {
			err = commitFailed(err, p.conn.addr)
		}
	default:
		err = s.commitAll()
	}
	s.ended(commit && err == nil)
	return err
}

// ended forgets a transaction whose participants committed or rolled
// back: the SETs of a rolled back one are undone, and the reads of the
// shards a committed one wrote go to their primaries for a while
// (replicas replay the writes only from the commit on).
func (s *session) ended(committed bool) {
	if !committed {
		s.settings = s.tx.savedSettings
	} else if s.tx.wrote {
		now := time.Now()
		for _, p := range s.tx.parts {
			s.recent.Wrote(s.tx.db, p.shard, now)
		}
	}
	s.endTx(false)
}

// inTx runs a statement that belongs to the open transaction (SAVEPOINT,
// RELEASE, ROLLBACK TO, SET LOCAL) on every participant, and keeps it for
// shards that join later.
func (s *session) inTx(ctx context.Context, db *topology.DB, sql string) error {
	if !s.tx.open {
		// PostgreSQL refuses SAVEPOINT outside a transaction, and warns
		// about SET LOCAL: let a server say so.
		return s.single(ctx, db, router.Target{Shard: db.Unsharded, Role: router.RolePrimary}, &work{sql: sql})
	}
	tag := strings.Join(leadingWords(sql, 1), "") // SET LOCAL answers SET, ROLLBACK TO answers ROLLBACK
	s.tx.deferred = append(s.tx.deferred, sql)
	var err error
	switch len(s.tx.parts) {
	case 0:
		err = s.complete(tag)
	case 1:
		err = s.single(ctx, db, router.Target{Shard: s.tx.parts[0].shard, Role: router.RolePrimary}, &work{sql: sql})
	default:
		err = s.onEveryPart(sql, 0)
		if err == nil && tag == "ROLLBACK" {
			err = s.afterRollbackTo()
		}
		if err == nil {
			err = s.complete(tag)
		}
	}
	if err == nil && tag == "ROLLBACK" {
		s.tx.failed = false // ROLLBACK TO SAVEPOINT ended the failure
	}
	return err
}

// onEveryPart runs a statement on the participants of the transaction
// from the first'th on.
func (s *session) onEveryPart(sql string, first int) error {
	for i := first; i < len(s.tx.parts); i++ {
		c := s.tx.parts[i].conn
		if err := c.simple(sql); err != nil {
			var pe *pgwire.PgError
			if errors.As(err, &pe) {
				return classify(err)
			}
			s.abortTx()
			return &clientError{code: "08006", msg: (&backendError{c.addr, err}).Error()}
		}
	}
	return nil
}
