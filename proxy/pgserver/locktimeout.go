package pgserver

import (
	"strconv"
	"strings"

	"github.com/shardgate/shardgate/topology"
)

// Two transactions that each span shards can deadlock across them: one
// holds a row on shard A and waits for one on shard B, the other holds
// that row on B and waits for the first's on A. Each server sees one
// ordinary lock wait and no cycle, and PostgreSQL's lock_timeout is off
// by default: both clients would wait forever. So when a transaction
// takes its second shard, every participant gets SET LOCAL lock_timeout
// = cross_shard_lock_timeout, and a statement that waits that long fails
// with 55P03 (lock_not_available), which ends the deadlock; the client
// rolls back and may retry. A lock_timeout the client set itself (in the
// session or the transaction) is left alone.

// spanShards runs before a second shard joins the transaction.
func (s *session) spanShards(db *topology.DB) error {
	if len(s.tx.parts) != 1 || s.tx.lockTimeout != "" {
		return nil
	}
	stmt := s.crossShardLockTimeout(db)
	if stmt == "" {
		return nil
	}
	if err := s.onEveryPart(stmt, 0); err != nil {
		return err
	}
	s.tx.deferred = append(s.tx.deferred, stmt) // for the shard about to join, and later ones
	s.tx.lockTimeout = stmt
	return nil
}

// crossShardLockTimeout is the statement spanShards runs, or "" when the
// database turns the timeout off or the client chose its own.
func (s *session) crossShardLockTimeout(db *topology.DB) string {
	if db.CrossShardLockTimeout <= 0 {
		return ""
	}
	for _, q := range s.settings {
		if mentionsLockTimeout(q) {
			return ""
		}
	}
	for _, q := range s.tx.deferred {
		if mentionsLockTimeout(q) {
			return ""
		}
	}
	return "SET LOCAL lock_timeout = " + strconv.FormatInt(db.CrossShardLockTimeout.Milliseconds(), 10)
}

func mentionsLockTimeout(sql string) bool {
	return strings.Contains(strings.ToLower(sql), "lock_timeout")
}

// afterRollbackTo puts the lock timeout back on every participant after a
// ROLLBACK TO SAVEPOINT, which undoes a SET LOCAL made after the
// savepoint.
func (s *session) afterRollbackTo() error {
	if s.tx.lockTimeout == "" {
		return nil
	}
	s.tx.deferred = append(s.tx.deferred, s.tx.lockTimeout)
	return s.onEveryPart(s.tx.lockTimeout, 0)
}
