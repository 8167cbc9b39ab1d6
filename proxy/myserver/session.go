package myserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync/atomic"

	"github.com/shardgate/shardgate/proxy/drain"
	"github.com/shardgate/shardgate/proxy/metrics"
	"github.com/shardgate/shardgate/proxy/mysqlwire"
	"github.com/shardgate/shardgate/proxy/netcheck"
	"github.com/shardgate/shardgate/topology"
	"github.com/shardgate/shardgate/topology/health"
)

// Command bytes (the first byte of a client command packet).
const (
	comQuit            = 0x01
	comInitDB          = 0x02
	comQuery           = 0x03
	comFieldList       = 0x04
	comStatistics      = 0x09
	comPing            = 0x0e
	comStmtPrepare     = 0x16
	comStmtExecute     = 0x17
	comStmtSendLong    = 0x18
	comStmtClose       = 0x19
	comStmtReset       = 0x1a
	comSetOption       = 0x1b
	comResetConnection = 0x1f
)

// Capability and status flags the session looks at.
const (
	clientMultiStatements = 1 << 16
	statusInTrans         = 0x0001
	statusAutocommit      = 0x0002
	statusMoreResults     = 0x0008
)

// session is one client connection.
type session struct {
	srv    *Server
	c      *mysqlwire.Client
	dbName string

	// multiStatements: the client may send several statements in one
	// COM_QUERY (CLIENT_MULTI_STATEMENTS or COM_SET_OPTION).
	multiStatements bool
	// foundRows: the client asked CLIENT_FOUND_ROWS (see foundrows.go).
	foundRows  bool
	autocommit bool
	// sets are the client's session settings (SET NAMES, sql_mode, user
	// variables...): variable -> the SET statement, re-applied on every
	// backend connection the session uses. stateVersion changes with them.
	sets         []setting
	stateVersion uint64
	// nextTx holds SET TRANSACTION statements for the next transaction;
	// nextReadOnly is the access mode they give it.
	nextTx       []string
	nextReadOnly int8

	tx           txState
	held         []*heldConn // connections kept for the client's user locks (see userlocks.go)
	execWork     work        // stmtExecute's scratch
	stmts        map[uint32]*clientStmt
	nextStmtID   uint32
	lastInsertID uint64
	out          []byte // scratch for building client packets
	cmd          []byte // scratch for building backend commands

	drain     *drain.Conn         // graceful shutdown: idle between statements?
	clientKey uint64              // client_hash read policy
	recent    health.RecentWrites // read_your_writes
	forwarded int                 // packets of the current statement sent to the client

	raw     net.Conn               // the client's TCP socket (under TLS, if any)
	idle    *netcheck.IdleDeadline // idle_transaction_timeout on raw (see idletx.go)
	watcher *netcheck.Watcher      // notices a client that leaves mid-statement
	running running
	killed  atomic.Bool
}

// run is the session's life: handshake, authentication, the command loop.
func (s *session) run(ctx context.Context, nc net.Conn) error {
	c, err := s.srv.acceptor.Accept(nc)
	if err != nil {
		var me *mysqlwire.Error
		if errors.As(err, &me) && me.Code == 1045 {
			s.srv.metrics.ClientRefused(protocol, metrics.RefusedAuth)
			s.srv.metrics.Error(metrics.ClassAuth)
		}
		return err
	}
	s.c, s.dbName, s.raw = c, c.Database, nc
	s.drain.Describe(c.User, c.Database)
	s.watcher = netcheck.NewWatcher(nc, watchAfter, s.clientGone)
	s.idle = netcheck.NewIdleDeadline(nc)
	s.autocommit = true
	s.stmts = map[uint32]*clientStmt{}
	s.multiStatements = c.Capabilities&clientMultiStatements != 0
	s.foundRows = c.Capabilities&mysqlwire.ClientFoundRows != 0
	if names := namesFor(c.Collation); names != "" {
		s.sets = []setting{{name: "names", sql: names, single: true}}
	}
	for {
		if !s.tx.open && s.drain.Idle() {
			return nil // shutting down: not inside a transaction, so end here
		}
		s.idle.Arm(s.idleTxTimeout())
		p, err := c.ReadPacket()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			if s.idle.Expired(err) {
				s.srv.log.Info("closed a client idle in a transaction past idle_transaction_timeout", "database", s.dbName)
				return nil // the connection closes; close() rolls the transaction back
			}
			return err
		}
		s.idle.Clear()
		s.drain.Busy()
		if err := s.command(ctx, p); err != nil {
			if errors.Is(err, errQuit) {
				return nil
			}
			return err
		}
		if err := c.Flush(); err != nil {
			return err
		}
	}
}

var errQuit = errors.New("client quit")

// command runs one client command. Errors the client should see are
// written as ERR packets here; a returned error ends the session.
func (s *session) command(ctx context.Context, p []byte) error {
	if len(p) == 0 {
		return s.sendError(&mysqlwire.Error{Code: 1047, State: "08S01", Message: "empty command packet"})
	}
	var err error
	switch p[0] {
	case comQuit:
		return errQuit
	case comPing:
		return s.sendOK(0, 0, false)
	case comInitDB:
		err = s.useDatabase(string(p[1:]))
		if err == nil {
			return s.sendOK(0, 0, false)
		}
	case comQuery:
		err = s.query(ctx, string(p[1:]))
	case comFieldList:
		err = s.fieldList(ctx, p[1:])
	case comStmtPrepare:
		err = s.stmtPrepare(ctx, string(p[1:]))
	case comStmtExecute:
		err = s.stmtExecute(ctx, p)
	case comStmtSendLong:
		s.stmtSendLongData(p) // never answered
		return nil
	case comStmtClose:
		s.stmtClose(p) // never answered
		return nil
	case comStmtReset:
		err = s.stmtReset(p)
	case comSetOption:
		return s.setOption(p)
	case comResetConnection:
		s.resetConnection()
		return s.sendOK(0, 0, false)
	case comStatistics:
		return s.c.WritePacket([]byte("shardgate: statistics are on the admin endpoint (/metrics)"))
	default:
		err = &mysqlwire.Error{Code: 1047, State: "08S01", Message: fmt.Sprintf("unknown or unsupported command 0x%02x", p[0])}
	}
	return s.finish(err)
}

// finish reports a statement's error to the client, when it is one the
// session survives.
func (s *session) finish(err error) error {
	if err == nil {
		return nil
	}
	var me *mysqlwire.Error
	switch {
	case errors.Is(err, errRelayed):
		return nil // the server's ERR packet went to the client already
	case errors.As(err, &me):
		return s.sendError(me)
	}
	var fatal *fatalError
	if errors.As(err, &fatal) {
		return fatal.err
	}
	return s.sendError(classify(err))
}

// fatalError ends the session (the client connection itself failed).
type fatalError struct{ err error }

func (e *fatalError) Error() string { return e.err.Error() }
func (e *fatalError) Unwrap() error { return e.err }

func (s *session) sendError(e *mysqlwire.Error) error {
	s.out = mysqlwire.AppendError(s.out[:0], e)
	return s.c.WritePacket(s.out)
}

// sendOK answers with an OK carrying the session's status flags.
func (s *session) sendOK(affected, insertID uint64, more bool) error {
	st := s.status()
	if more {
		st |= statusMoreResults
	}
	s.out = mysqlwire.AppendOK(s.out[:0], mysqlwire.OK{AffectedRows: affected, LastInsertID: insertID, Status: st})
	return s.c.WritePacket(s.out)
}

// status is the server status the client sees: autocommit and
// in-transaction as this session has them (backends always autocommit).
func (s *session) status() uint16 {
	var st uint16
	if s.autocommit {
		st |= statusAutocommit
	}
	if s.tx.open {
		st |= statusInTrans
	}
	return st
}

// useDatabase switches the session to another logical database (USE,
// COM_INIT_DB). Inside a transaction that touched a shard it is refused:
// the pinned connection belongs to the old database's servers.
func (s *session) useDatabase(name string) error {
	if _, ok := s.srv.store.Current().Database(topology.MySQL, name); !ok {
		return &mysqlwire.Error{Code: 1049, State: "42000", Message: fmt.Sprintf("Unknown database '%s'", name)}
	}
	// A session that chose no database ran its transaction's first
	// statements in anyDB (mysqldump --single-transaction starts it so):
	// choosing that database now changes nothing.
	if len(s.tx.parts) > 0 && name != s.dbName && !(s.dbName == "" && s.tx.db != nil && s.tx.db.Name == name) {
		return &mysqlwire.Error{Code: 1235, State: "42000", Message: "shardgate: USE of another database inside a transaction is not supported"}
	}
	s.dbName = name
	s.drain.Describe(s.c.User, name)
	return nil
}

// setOption handles COM_SET_OPTION: multi-statements on (0) or off (1).
// The answer is an EOF packet.
func (s *session) setOption(p []byte) error {
	if len(p) != 3 || p[1] > 1 || p[2] != 0 {
		return s.sendError(&mysqlwire.Error{Code: 1047, State: "08S01", Message: "malformed COM_SET_OPTION"})
	}
	s.multiStatements = p[1] == 0
	s.out = mysqlwire.AppendEOF(s.out[:0], 0, s.status())
	return s.c.WritePacket(s.out)
}

// resetConnection is COM_RESET_CONNECTION: the transaction is rolled back
// and every piece of session state is forgotten.
func (s *session) resetConnection() {
	s.endTx(true)
	s.closeHeld() // as a reset server connection, the client holds no user locks now
	s.autocommit = true
	s.sets = nil
	if n := namesFor(s.c.Collation); n != "" {
		s.sets = []setting{{name: "names", sql: n, single: true}}
	}
	s.stateVersion++
	s.nextTx, s.nextReadOnly = nil, 0
	s.stmts = map[uint32]*clientStmt{}
	s.lastInsertID = 0
}

// close ends the session: an open transaction is rolled back by
// discarding its connection.
func (s *session) close() {
	s.endTx(true)
	s.closeHeld()
}

// anyDB is the first MySQL database of the topology (by name), where a
// session that chose none runs what needs no database; nil if none.
func (s *session) anyDB() *topology.DB {
	var first *topology.DB
	for _, db := range s.srv.store.Current().Databases() {
		if db.Protocol == topology.MySQL && (first == nil || db.Name < first.Name) {
			first = db
		}
	}
	return first
}

// db returns the session's logical database, or an error the client can
// act on when it chose none (or it left the topology).
func (s *session) db() (*topology.DB, error) {
	if s.dbName == "" {
		return nil, &mysqlwire.Error{Code: 1046, State: "3D000", Message: "No database selected"}
	}
	db, ok := s.srv.store.Current().Database(topology.MySQL, s.dbName)
	if !ok {
		return nil, &mysqlwire.Error{Code: 1049, State: "42000", Message: fmt.Sprintf("Unknown database '%s' (no longer in the topology)", s.dbName)}
	}
	if s.tx.db != nil {
		return s.tx.db, nil // a transaction finishes on the topology it started with
	}
	return db, nil
}
