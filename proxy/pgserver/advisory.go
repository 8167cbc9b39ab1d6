package pgserver

import (
	"strings"

	"github.com/shardgate/shardgate/router"
	"github.com/shardgate/shardgate/topology"
)

// Session-level advisory locks (pg_advisory_lock, pg_try_advisory_lock
// and their _shared forms; migration tools and job queues take them) and
// WITH HOLD cursors (Django's iterator() declares them) belong to the
// server session that made them, and transaction pooling hands that
// session to other clients: the lock would be held for nobody, re-entered
// by the next client, and its unlock would run elsewhere; the cursor
// would be gone. So a connection a statement may have taken or released
// one on is checked (pg_locks, pg_cursors) before it goes back to its
// pool. While it holds any, the client keeps it, and every statement of
// the client for that shard runs on it, as in a transaction (and
// statements that name no table, FETCH, CLOSE, go there); when the last
// is gone it goes back to the pool; when the client leaves, it is closed
// (the server then releases the locks and cursors).

// heldConn is a server connection a client keeps for its advisory locks
// or cursors.
type heldConn struct {
	db, shard string
	conn      *backendConn
	addr      string
	done      func(broken bool) // back to its pool (or discarded)
}

// mayLock reports whether a statement may take or release a
// session-level advisory lock (the router says it calls a primary-only
// function; the text says which kind) or declares a WITH HOLD cursor.
func mayLock(st *router.Statement, sql string) bool {
	return st.CursorHold || st.PrimaryFunc != "" && strings.Contains(strings.ToLower(sql), "advisory")
}

// heldShard is the shard of the client's held connection, if it has one
// (the first, if several).
func (s *session) heldShard(db *topology.DB) *topology.Shard {
	for _, h := range s.held {
		if h.db == db.Name {
			for _, sh := range db.Shards {
				if sh.Name == h.shard {
					return sh
				}
			}
		}
	}
	return nil
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

// releaseOrHold gives c back with done unless it holds advisory locks,
// in which case the client keeps it. A connection not marked by a
// locking statement goes back without a check.
func (s *session) releaseOrHold(db *topology.DB, sh *topology.Shard, c *backendConn, addr string, done func(bool), broken bool) {
	if broken || !c.advisory {
		done(broken)
		return
	}
	c.advisory = false
	held, err := c.holdsSessionState()
	if err != nil || !held {
		done(err != nil)
		return
	}
	s.held = append(s.held, &heldConn{db: db.Name, shard: sh.Name, conn: c, addr: addr, done: done})
}

// releaseHeld is the release of a held connection: it stays held while
// it has locks, and goes back to its pool once it has none.
func (s *session) releaseHeld(h *heldConn, broken bool) {
	if !broken && !h.conn.advisory {
		return // no locking statement ran: still held
	}
	if !broken {
		h.conn.advisory = false
		held, err := h.conn.holdsSessionState()
		if err == nil && held {
			return
		}
		broken = err != nil
	}
	s.dropHeld(h, broken)
}

// dropHeld ends the hold: the connection goes back to its pool, or is
// discarded (broken; or its client left with locks on it).
func (s *session) dropHeld(h *heldConn, broken bool) {
	for i, x := range s.held {
		if x == h {
			s.held = append(s.held[:i], s.held[i+1:]...)
			break
		}
	}
	h.done(broken)
}

// closeHeld discards every held connection: the client is gone, and
// closing the server session is what releases its locks.
func (s *session) closeHeld() {
	for len(s.held) > 0 {
		s.dropHeld(s.held[0], true)
	}
}

// holdsSessionState asks the server whether this session holds advisory
// locks or open cursors. Outside a transaction (where it is asked) those
// are the session-level locks and WITH HOLD cursors: the others end with
// their transaction.
func (c *backendConn) holdsSessionState() (bool, error) {
	rows, err := c.column("SELECT (SELECT pg_catalog.count(*) FROM pg_catalog.pg_locks WHERE locktype = 'advisory' AND pid = pg_catalog.pg_backend_pid()) + (SELECT pg_catalog.count(*) FROM pg_catalog.pg_cursors)")
	if err != nil {
		return false, err
	}
	return len(rows) == 1 && rows[0] != "0", nil
}
