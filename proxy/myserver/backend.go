package myserver

import (
	"context"
	"encoding/binary"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/shardgate/shardgate/proxy/metrics"
	"github.com/shardgate/shardgate/proxy/mysqlwire"
	"github.com/shardgate/shardgate/proxy/netcheck"
	"github.com/shardgate/shardgate/proxy/pool"
	"github.com/shardgate/shardgate/topology"
)

// maxBackendStatements bounds the statements prepared on one backend
// connection; past it the least recently prepared one is closed.
const maxBackendStatements = 512

// backendConn is one logged-in connection to a MySQL/MariaDB server.
type backendConn struct {
	*mysqlwire.Backend
	addr string
	cfg  mysqlwire.BackendConfig
	born time.Time // for the pool's max_lifetime

	// owner and version identify the session state last applied here:
	// the same session at the same version needs no SET round trip.
	owner   *session
	version uint64
	// sets are the SET statements applied beyond the login state.
	sets []setting
	// dirty: a statement left state that sets does not describe (a user
	// variable assigned in a SELECT, a temporary table, a SQL PREPARE, a
	// lock): the next other session gets the connection reset.
	dirty bool
	// stale: a transaction left a setting here (see locktimeout.go):
	// reset before the next use, whichever session it serves.
	stale bool
	// userLocks: a GET_LOCK ran here since the last RELEASE_ALL_LOCKS:
	// the session keeps it (see userlocks.go). lockNames are the names
	// those GET_LOCKs asked for, when each could be read; releasedLock: a
	// RELEASE_LOCK ran since, so the names are worth checking.
	userLocks    bool
	lockNames    *lockNames
	releasedLock bool
	// tableLocks: a LOCK TABLES ran here since the last UNLOCK TABLES.
	tableLocks bool

	// prepared maps statement text to its id on this connection.
	prepared map[string]*backendStmt
	order    []string // prepared texts, oldest first (eviction)

	// opening are the transaction's deferred START TRANSACTION (and
	// savepoints) that join left for sendTo to write in front of the
	// statement that follows: one round trip instead of two.
	opening []string
}

// backendStmt is a statement prepared on one backend connection.
type backendStmt struct {
	id      uint32
	params  int
	columns int
}

func dialBackend(ctx context.Context, addr string, cred topology.Backend, timeout time.Duration) (*backendConn, error) {
	conf, err := cred.TLSConfig(addr)
	if err != nil {
		return nil, fmt.Errorf("TLS to %s: %w", addr, err)
	}
	cfg := mysqlwire.BackendConfig{Addr: addr, Network: topology.Network(addr), User: cred.User, Password: cred.Password, Database: cred.Database, DialTimeout: timeout, TLS: conf}
	b, err := mysqlwire.DialBackend(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("log in to %s: %w", addr, err)
	}
	return &backendConn{Backend: b, addr: addr, cfg: cfg, prepared: map[string]*backendStmt{}}, nil
}

// Close says goodbye (COM_QUIT) and closes the socket.
func (c *backendConn) Close() error {
	c.ResetSequence()
	c.WritePacket([]byte{comQuit})
	c.Flush()
	return c.Backend.Close()
}

// send writes one command packet to the server.
func (c *backendConn) send(payload []byte) error {
	c.ResetSequence()
	if err := c.WritePacket(payload); err != nil {
		return err
	}
	return c.Flush()
}

// syncState applies the session's settings (SET NAMES, sql_mode, user
// variables...) when this connection last served another session or an
// older state. Settings apply in order; a connection holding settings
// that are not a prefix of the session's is reset first
// (COM_RESET_CONNECTION), so one client's state never leaks to the next.
func (c *backendConn) syncState(s *session) error {
	if c.owner == s && c.version == s.stateVersion && !c.stale {
		return nil
	}
	want := s.sets
	if c.dirty || c.stale || len(c.sets) > len(want) || !slices.Equal(c.sets, want[:len(c.sets)]) {
		if err := c.reset(); err != nil {
			return err
		}
	}
	for _, st := range want[len(c.sets):] {
		if _, err := c.Simple(st.sql); err != nil {
			return err
		}
		c.sets = append(c.sets, st)
	}
	c.owner, c.version = s, s.stateVersion
	return nil
}

// reset returns the connection to its login state: session variables,
// user variables, temporary tables and prepared statements are gone.
func (c *backendConn) reset() error {
	if err := c.send([]byte{comResetConnection}); err != nil {
		return &backendError{c.addr, err}
	}
	p, err := c.ReadPacket()
	if err != nil {
		return &backendError{c.addr, err}
	}
	if mysqlwire.IsErr(p) {
		return mysqlwire.ParseError(p)
	}
	c.sets = c.sets[:0]
	c.dirty, c.stale = false, false
	clear(c.prepared)
	c.order = c.order[:0]
	c.owner = nil
	return nil
}

// prepare returns the statement's id on this connection, preparing it the
// first time (COM_STMT_PREPARE; the definitions that follow are read and
// dropped: the client got its own).
func (c *backendConn) prepare(sql string) (*backendStmt, error) {
	if st, ok := c.prepared[sql]; ok {
		return st, nil
	}
	if len(c.order) >= maxBackendStatements {
		old := c.order[0]
		c.order = c.order[1:]
		if st := c.prepared[old]; st != nil {
			delete(c.prepared, old)
			if err := c.closeStmt(st.id); err != nil {
				return nil, err
			}
		}
	}
	buf := make([]byte, 0, 1+len(sql))
	buf = append(append(buf, comStmtPrepare), sql...)
	if err := c.send(buf); err != nil {
		return nil, &backendError{c.addr, err}
	}
	p, err := c.ReadPacket()
	if err != nil {
		return nil, &backendError{c.addr, err}
	}
	if mysqlwire.IsErr(p) {
		return nil, &relayedError{mysqlwire.ParseError(p)}
	}
	ok, err := mysqlwire.ParsePrepareOK(p)
	if err != nil {
		return nil, &backendError{c.addr, err}
	}
	if err := c.skipDefinitions(int(ok.Params), int(ok.Columns)); err != nil {
		return nil, err
	}
	st := &backendStmt{id: ok.StatementID, params: int(ok.Params), columns: int(ok.Columns)}
	c.remember(sql, st)
	return st, nil
}

// remember records a statement prepared on this connection.
func (c *backendConn) remember(sql string, st *backendStmt) {
	if old, ok := c.prepared[sql]; ok {
		// Prepared twice: a client PREPAREs a text already here (drivers
		// that prepare, execute and close every query do it each time).
		// The older server statement is closed, or they would pile up to
		// max_prepared_stmt_count and the server would refuse them all.
		c.queueClose(old.id)
		c.prepared[sql] = st
		return
	}
	c.prepared[sql] = st
	c.order = append(c.order, sql)
}

// skipDefinitions reads the parameter and column definition blocks that
// follow a PREPARE OK (each ended by an EOF when not empty).
func (c *backendConn) skipDefinitions(params, columns int) error {
	for _, n := range []int{params, columns} {
		if n == 0 {
			continue
		}
		for i := 0; i <= n; i++ { // n definitions and an EOF
			if _, err := c.ReadPacket(); err != nil {
				return &backendError{c.addr, err}
			}
		}
	}
	return nil
}

// queueClose buffers a COM_STMT_CLOSE (which has no answer): it goes
// with the next command written, in the same write.
func (c *backendConn) queueClose(id uint32) {
	var buf [5]byte
	buf[0] = comStmtClose
	binary.LittleEndian.PutUint32(buf[1:], id)
	c.ResetSequence()
	_ = c.WritePacket(buf[:]) // buffered: a failure shows at the next flush
}

func (c *backendConn) closeStmt(id uint32) error {
	var buf [5]byte
	buf[0] = comStmtClose
	binary.LittleEndian.PutUint32(buf[1:], id)
	if err := c.send(buf[:]); err != nil { // no answer
		return &backendError{c.addr, err}
	}
	return nil
}

// kill interrupts the statement running on this connection from a second
// connection to the same server (KILL QUERY), so a client that went away
// does not leave a long query holding the server and the pool slot.
func (c *backendConn) kill(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	k, err := mysqlwire.DialBackend(ctx, c.cfg)
	if err != nil {
		return err
	}
	defer k.Close()
	_, err = k.Simple(fmt.Sprintf("KILL QUERY %d", c.ConnectionID))
	return err
}

// backends holds one connection pool per (server address, backend
// credentials). Pools outlive topology reloads: a server that stays in
// the file keeps its pool.
type backends struct {
	dialTimeout time.Duration
	set         *pool.Set[*backendConn]
}

func newBackends() *backends {
	return &backends{dialTimeout: 5 * time.Second, set: pool.NewSet[*backendConn]()}
}

// poolFor returns the pool of one server of a database, creating it on
// first use with the database's pool settings.
func (b *backends) poolFor(db *topology.DB, addr string) *pool.Pool[*backendConn] {
	return b.set.Get(pool.Key{Addr: addr, User: db.Backend.User, Database: db.Backend.Database}, db.Name, func() *pool.Pool[*backendConn] {
		cred, timeout := db.Backend, b.dialTimeout
		dial := func(ctx context.Context) (*backendConn, error) {
			c, err := dialBackend(ctx, addr, cred, timeout)
			if err == nil {
				c.born = time.Now()
			}
			return c, err
		}
		dead := func(c *backendConn) bool { return netcheck.Dead(c.NetConn()) }
		return pool.New(dial, db.MaxPerBackend, db.IdleTimeout).CheckIdle(netcheck.QuietFor, dead).MaxLifetime(db.PoolMaxLifetime)
	})
}

// closeIdle drops the idle connections to a server that just failed.
func (b *backends) closeIdle(addr string) { b.set.CloseIdle(addr) }

// prune closes the pools of servers the topology no longer lists.
func (b *backends) prune(snap *topology.Snapshot) { b.set.Retain(pool.Listed(snap, topology.MySQL)) }

// stats lists every pool for metrics and /topology.
func (b *backends) stats() []metrics.PoolStat { return metrics.PoolStats(b.set) }

// closeAll closes every pool (shutdown).
func (b *backends) closeAll() { b.set.CloseAll() }

// backendError is a failure of the connection to a server (not an error
// the server reported): the connection is discarded.
type backendError struct {
	addr string
	err  error
}

func (e *backendError) Error() string {
	return fmt.Sprintf("lost connection to backend %s: %v", e.addr, e.err)
}
func (e *backendError) Unwrap() error { return e.err }

// Born is when the connection was made (the pool ages connections).
func (c *backendConn) Born() time.Time { return c.born }

// holdsLocks: the connection may hold a client's user or table locks.
func (c *backendConn) holdsLocks() bool { return c.userLocks || c.tableLocks }

// untrackedState matches statements that may leave session state on a
// backend connection beyond the session's SETs.
var untrackedState = regexp.MustCompile(`(?i):=|\btemporary\b|\binto\s+@|^\s*(?:prepare|execute|deallocate|lock|handler)\b|\bget_lock\s*\(`)

// markState flags c when sql may have left untracked session state on it.
// A cheap scan keeps the regular expression off the hot path: every
// pattern needs an '@', "temporary", a leading keyword or "get_lock", and
// user locks "get_lock" or "release_all_locks": all but the first two
// contain "lock".
func markState(c *backendConn, w *work) {
	sql := w.sql
	if c == nil || !mayLeaveState(sql) {
		return
	}
	noteUserLocks(c, w)
	if !c.dirty && untrackedState.MatchString(sql) {
		c.dirty = true
	}
}

func mayLeaveState(sql string) bool {
	if strings.IndexByte(sql, '@') >= 0 || containsFold(sql, "temporary") || containsFold(sql, "lock") {
		return true
	}
	first := strings.TrimLeft(sql, " \t\r\n(")
	for _, kw := range []string{"prepare", "execute", "deallocate", "lock", "handler"} {
		if len(first) >= len(kw) && strings.EqualFold(first[:len(kw)], kw) {
			return true
		}
	}
	return false
}

// containsFold is an ASCII case-insensitive strings.Contains for a lower
// case word, without allocating.
func containsFold(s, word string) bool {
	for i := 0; i+len(word) <= len(s); i++ {
		if s[i]|0x20 == word[0] && strings.EqualFold(s[i:i+len(word)], word) {
			return true
		}
	}
	return false
}
