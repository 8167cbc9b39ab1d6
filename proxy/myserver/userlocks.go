package myserver

import (
	"context"
	"slices"
	"strings"

	"github.com/shardgate/shardgate/router"
	"github.com/shardgate/shardgate/router/sqltext"
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
// without their names, so the proxy reads the names GET_LOCK is given
// (literals, or bound parameters): after a RELEASE_LOCK it asks the
// server whether the connection still holds any of them, and gives the
// connection back when it holds none. A GET_LOCK whose name the proxy
// cannot read (an expression) keeps the connection until
// RELEASE_ALL_LOCKS or the end of the session.

// heldConn is a server connection a client keeps for its user locks.
type heldConn struct {
	db, shard string
	lease
}

// noteUserLocks records on c that a statement may have taken user
// locks there, released one, or released all of them.
func noteUserLocks(c *backendConn, w *work) {
	sql := w.sql
	switch {
	case containsFold(sql, "release_all_locks"):
		c.userLocks, c.lockNames, c.releasedLock = false, nil, false
	case containsFold(sql, "get_lock"):
		c.userLocks = true
		if c.lockNames == nil {
			c.lockNames = &lockNames{}
		}
		c.lockNames.add(sql, w.rparams)
	case containsFold(sql, "release_lock"):
		c.releasedLock = true
	}
	switch strings.ToLower(firstWordOf(sql)) {
	case "lock":
		c.tableLocks = true // LOCK TABLES replaces the locks the session had
	case "unlock":
		c.tableLocks = false
	}
}

// lockNames are the user lock names a connection's GET_LOCKs asked for.
type lockNames struct {
	names   []string
	unknown bool // a GET_LOCK's name could not be read
}

// add reads the names of the GET_LOCK calls in sql: each call's first
// argument, when it is a string literal or a parameter bound to text.
func (n *lockNames) add(sql string, params []router.Param) {
	norm, err := sqltext.Normalize(sqltext.MySQL, sql)
	if err != nil {
		n.unknown = true
		return
	}
	toks, err := sqltext.Tokens(sqltext.MySQL, norm.Text)
	if err != nil {
		n.unknown = true
		return
	}
	var sig []sqltext.Token // the tokens that mean something
	for _, t := range toks {
		if t.Kind != sqltext.TokSpace && t.Kind != sqltext.TokComment {
			sig = append(sig, t)
		}
	}
	slot := 0 // placeholders seen: the i-th ? is norm.Slots[i]
	for i, t := range sig {
		if t.Kind == sqltext.TokParam {
			slot++
			continue
		}
		if t.Kind != sqltext.TokWord || !strings.EqualFold(t.Text(norm.Text), "get_lock") {
			continue
		}
		name, ok := "", false
		if i+3 < len(sig) && sig[i+1].Text(norm.Text) == "(" && sig[i+2].Kind == sqltext.TokParam && sig[i+3].Text(norm.Text) == "," &&
			slot < len(norm.Slots) {
			name, ok = slotText(norm.Slots[slot], params)
		}
		if !ok {
			n.unknown = true
			continue
		}
		if !slices.Contains(n.names, name) {
			n.names = append(n.names, name)
		}
	}
}

// slotText is the text of a placeholder: a string literal's value or a
// bound text parameter.
func slotText(s sqltext.Slot, params []router.Param) (string, bool) {
	if s.Param == 0 {
		return s.Lit.Text, s.Lit.String
	}
	if s.Param <= len(params) && params[s.Param-1].Kind == router.ParamText {
		return params[s.Param-1].Text, true
	}
	return "", false
}

// stillHeld asks the server whether c holds any of the user locks its
// GET_LOCKs asked for. held is true when it cannot tell (an unread name,
// a name the query cannot carry safely).
func (c *backendConn) stillHeld() (held bool, err error) {
	n := c.lockNames
	if n == nil || n.unknown || len(n.names) == 0 {
		return true, nil
	}
	q := []byte("SELECT 0")
	for _, name := range n.names {
		if strings.ContainsAny(name, "\\\x00") {
			return true, nil // quoting it would depend on sql_mode
		}
		q = append(q, " + IFNULL(IS_USED_LOCK('"...)
		q = append(q, strings.ReplaceAll(name, "'", "''")...)
		q = append(q, "') = CONNECTION_ID(), 0)"...)
	}
	_, rows, err := c.Query(string(q))
	if err != nil {
		return true, err
	}
	return len(rows) != 1 || len(rows[0]) != 1 || string(rows[0][0]) != "0", nil
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
	if c := l.conn; !broken && c.userLocks && c.releasedLock {
		c.releasedLock = false
		held, err := c.stillHeld()
		if err != nil && !isServerError(err) {
			broken = true // closing it releases the locks
		} else if !held {
			c.userLocks, c.lockNames = false, nil
		}
	}
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
		markState(l.conn, w)
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
