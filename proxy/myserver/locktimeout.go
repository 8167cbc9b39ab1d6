package myserver

import (
	"strconv"

	"github.com/shardgate/shardgate/topology"
)

// Two transactions that each span shards can deadlock across them, and
// no server sees the cycle: each waits innodb_lock_wait_timeout (50 s by
// default). So when a transaction takes its second shard, every
// participant gets SET SESSION innodb_lock_wait_timeout =
// cross_shard_lock_timeout, and a statement that waits that long fails
// with 1205. The variable is not transactional, so the connection is
// marked stale: reset before its next use (see syncState). A value the
// client set itself is left alone.

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
	s.tx.parts[0].lease.conn.stale = true
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
	for _, st := range s.sets {
		if containsFold(st.sql, "innodb_lock_wait_timeout") {
			return ""
		}
	}
	for _, q := range s.tx.deferred {
		if containsFold(q, "innodb_lock_wait_timeout") {
			return ""
		}
	}
	secs := int64(db.CrossShardLockTimeout.Seconds()) // whole seconds: validated
	return "SET SESSION innodb_lock_wait_timeout = " + strconv.FormatInt(max(secs, 1), 10)
}
