package myserver

import (
	"fmt"
	"time"

	"github.com/shardgate/shardgate/proxy/metrics"
	"github.com/shardgate/shardgate/proxy/mysqlwire"
)

// commitXA commits a transaction under transactions: two_phase: every
// participant runs an XA transaction. One participant commits in one
// phase. Several are prepared (XA PREPARE) in order, then committed in
// order: participant 0's XA COMMIT is the commit point, which is what
// lets the resolver finish a dead proxy's transaction without a log (see
// package twophase).
func (s *session) commitXA() error {
	parts := s.tx.parts
	if len(parts) == 1 {
		err := s.xaEnd(0)
		if err == nil {
			err = s.xa(0, "XA COMMIT", "ONE PHASE")
		}
		if err != nil {
			s.rollbackFrom(0)
			return s.commitError(0, err)
		}
		return nil
	}
	start := time.Now()
	for i := range parts {
		err := s.xaEnd(i)
		if err == nil {
			err = s.xa(i, "XA PREPARE")
		}
		if err != nil {
			// Nothing committed: undo the rest, then the prepared ones.
			s.rollbackFrom(i)
			s.rollbackPrepared(0, i)
			s.srv.metrics.MultiShardCommit(s.tx.db.Name, metrics.CommitRolledBack)
			return s.commitError(i, err)
		}
		parts[i].prepared = true
	}
	if took := time.Since(start); took > s.srv.opts.ResolveAfter/2 {
		// So slow that the resolver may soon take these parts for a dead
		// proxy's: decide for it (roll back) rather than race it.
		s.rollbackPrepared(0, len(parts))
		s.srv.metrics.MultiShardCommit(s.tx.db.Name, metrics.CommitRolledBack)
		return &mysqlwire.Error{Code: erErrorDuringCommit, State: "HY000", Message: fmt.Sprintf(
			"shardgate: two-phase commit rolled back: preparing %d shards took %v, too close to the resolver's %v", len(parts), took.Round(time.Millisecond), s.srv.opts.ResolveAfter)}
	}
	if hook := s.srv.afterPrepare.Load(); hook != nil {
		(*hook)(parts)
	}
	outcome := metrics.CommitCommitted
	for i := range parts {
		p := &parts[i]
		err := s.xa(i, "XA COMMIT")
		if err == nil {
			p.prepared = false
			continue
		}
		if i == 0 && !p.broken {
			// The server refused: the commit point was not passed.
			s.rollbackPrepared(1, len(parts))
			s.srv.metrics.MultiShardCommit(s.tx.db.Name, metrics.CommitRolledBack)
			return s.commitError(0, err)
		}
		if i == 0 {
			s.srv.metrics.MultiShardCommit(s.tx.db.Name, metrics.CommitInDoubt)
			return &mysqlwire.Error{Code: erErrorDuringCommit, State: "HY000", Message: fmt.Sprintf(
				"shardgate: XA COMMIT on shard %s failed (%v): the transaction's outcome is decided by whether that shard committed; "+
					"shardgate's resolver finishes the other shards accordingly", p.shard.Name, err)}
		}
		// Committed at participant 0: the rest must commit, now or by the
		// resolver.
		outcome = metrics.CommitInDoubt
		s.srv.log.Warn("a two-phase commit committed, but a shard did not confirm; the resolver commits its prepared part",
			"database", s.tx.db.Name, "shard", p.shard.Name, "xid", s.tx.gid(i), "err", err)
	}
	s.srv.metrics.MultiShardCommit(s.tx.db.Name, outcome)
	return nil
}

// xaEnd ends participant i's XA transaction (once).
func (s *session) xaEnd(i int) error {
	p := &s.tx.parts[i]
	if p.ended {
		return nil
	}
	if err := s.xa(i, "XA END"); err != nil {
		return err
	}
	p.ended = true
	return nil
}

// xa runs an XA statement on participant i's transaction; a lost
// connection marks it broken.
func (s *session) xa(i int, verb string, suffix ...string) error {
	p := &s.tx.parts[i]
	q := verb + " " + quoteString(s.tx.gid(i))
	for _, x := range suffix {
		q += " " + x
	}
	_, err := p.lease.conn.Simple(q)
	if err != nil && !isServerError(err) {
		p.broken = true
	}
	return err
}

// rollbackPrepared rolls back the prepared participants from..to-1 in
// reverse: participant 0 last, so a rollback cut short still reads as
// "not committed" to the resolver. One that fails is left to it.
func (s *session) rollbackPrepared(from, to int) {
	for j := to - 1; j >= from; j-- {
		if s.tx.parts[j].prepared && s.xa(j, "XA ROLLBACK") == nil {
			s.tx.parts[j].prepared = false
		}
	}
}

// commitError is the error of a commit that committed nothing.
func (s *session) commitError(i int, err error) error {
	p := s.tx.parts[i]
	if isServerError(err) {
		return err
	}
	return &backendError{p.lease.addr, err}
}
