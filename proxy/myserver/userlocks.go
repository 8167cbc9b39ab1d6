package myserver

import (
	"context"
	"slices"
	"strings"

	"github.com/shardgate/shardgate/router"
	"github.com/shardgate/shardgate/topology"
)

// User-level locks (GET_LOCK; migration tools take one) and table locks
// (LOCK TABLES, on tables not listed) belong to the
// server connection that took them, and transaction pooling hands that
// connection to other clients: the next client would reset it (which
// releases the lock under its holder) or re-enter the lock, and the
// RELEASE_LOCK would run elsewhere. So the connection a GET_LOCK ran on
// stays the client's, for all its statements on that shard, until it
// calls RELEASE_ALL_LOCKS() (UNLOCK TABLES) or leaves (then the connection is closed,
// which releases the locks). MariaDB cannot list a connection's locks
// without their names, so a RELEASE_LOCK of the last one does not end the
// hold: the client keeps one connection more than it needs until then.

// heldConn is a server connection a client keeps for its user locks.
type heldConn struct {
	db, shard string
	lease
}

// noteUserLocks records on c that a statement may have taken user
// locks there, or released all of them.
func noteUserLocks(c *backendConn, sql string) {
	switch {
	case containsFold(sql, "release_all_locks"):
		c.userLocks = false
	case containsFold(sql, "get_lock"):
		c.userLocks = true
	}
	switch strings.ToLower(firstWordOf(sql)) {
	case "lock":
		c.tableLocks = true // LOCK TABLES replaces the locks the session had
	case "unlock":
		c.tableLocks = false
	}
}

// firstWordOf is the statement's leading word, past blanks and "(".
func firstWordOf(sql string) string {
	s := strings.TrimLeft(sql, " \t\r\n(")
	end := strings.IndexFunc(s, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') })
	if end < 0 {
		return s
	}
	return s[:end]
}

// heldFor returns the held connection to a shard, if the client has one.
func (s *session) heldFor(db *topology.DB, sh *topology.Shard) *heldConn {
	for _, h := range s.held {
		if h.db == db.Name && h.shard == sh.Name {
			return h
		}
	}
	return nil
}

// hold keeps l for the client instead of giving it back.
func (s *session) hold(l lease) {
	l.held = true
	s.held = append(s.held, &heldConn{db: l.dbName, shard: l.shardName, lease: l})
}

// releaseHeld is the release of a held connection: kept while it may
// hold the client's locks, given back once they are all released.
func (s *session) releaseHeld(l lease, broken bool) {
	if !broken && l.conn.holdsLocks() {
		return
	}
	for i, h := range s.held {
		if h.conn == l.conn {
			s.held = append(s.held[:i], s.held[i+1:]...)
			break
		}
	}
	l.held = false
	s.release(l, broken)
}

// closeHeld discards every held connection: the client left (or reset
// its session), and closing the server connection releases its locks.
func (s *session) closeHeld() {
	for len(s.held) > 0 {
		s.releaseHeld(s.held[0].lease, true)
	}
}

// unlockTables answers UNLOCK TABLES.
func (s *session) unlockTables(w *work) error {
	s.releaseTableLocks()
	return s.sendOK(0, 0, w.more)
}

// releaseTableLocks unlocks every held connection with table locks (one
// per shard after a LOCK TABLES of sharded tables), which goes back to
// the pool unless it also holds user locks.
func (s *session) releaseTableLocks() {
	for _, h := range slices.Clone(s.held) {
		if !h.conn.tableLocks {
			continue
		}
		if _, err := h.conn.Simple("UNLOCK TABLES"); err != nil {
			s.releaseHeld(h.lease, true) // closing it releases the locks
			continue
		}
		h.conn.tableLocks = false
		s.releaseHeld(h.lease, false)
	}
}

// lockTables runs LOCK TABLES on each shard of its plan in shard order,
// each connection then kept for the client (release holds it): two
// clients locking the same tables meet on the first shard and cannot
// deadlock across shards. As in MySQL, it first releases the table
// locks the client had; if a shard refuses, none stay taken.
func (s *session) lockTables(ctx context.Context, db *topology.DB, plan *router.Plan, w *work) error {
	s.releaseTableLocks()
	for _, t := range plan.Targets {
		l, err := s.acquire(ctx, db, t)
		if err != nil {
			s.releaseTableLocks()
			return err
		}
		_, err = l.conn.Simple(w.sql)
		markState(l.conn, w.sql)
		if err != nil {
			l.conn.tableLocks = false
			s.release(l, !isServerError(err))
			s.releaseTableLocks()
			if !isServerError(err) {
				return &backendError{l.addr, err}
			}
			return err
		}
		s.release(l, false)
	}
	return s.sendOK(0, 0, w.more)
}
