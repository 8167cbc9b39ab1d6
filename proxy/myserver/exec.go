package myserver

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/shardgate/shardgate/proxy/console"
	"github.com/shardgate/shardgate/proxy/merge"
	"github.com/shardgate/shardgate/proxy/metrics"
	"github.com/shardgate/shardgate/proxy/mysqlwire"
	"github.com/shardgate/shardgate/router"
	"github.com/shardgate/shardgate/topology"
)

// flushEvery bounds what is buffered for the client while relaying, so a
// huge result streams through in constant memory.
const flushEvery = 64 << 10

// work is one statement to run: from COM_QUERY (text) or
// COM_STMT_EXECUTE (binary, with its bound parameters).
type work struct {
	sql     string
	prep    *router.Prepared // a prepared statement's text, tokenized once
	more    bool             // more statements of the same COM_QUERY follow
	binary  bool
	params  []mysqlwire.Param
	rparams []router.Param
}

// execute routes and runs one statement, recording it in the metrics.
func (s *session) execute(ctx context.Context, w *work) error {
	start := time.Now()
	s.forwarded = 0
	route, err := s.executePlan(ctx, w)
	outcome := metrics.OutcomeOK
	if err != nil {
		outcome = metrics.OutcomeError
		s.srv.metrics.Error(errorClass(err))
	}
	s.srv.metrics.Query(protocol, s.dbName, route, outcome, time.Since(start))
	return err
}

func (s *session) executePlan(ctx context.Context, w *work) (string, error) {
	if console.IsCommand(w.sql) { // no grammar knows SHOW SHARDGATE
		return metrics.RouteLocal, s.console(w)
	}
	db, err := s.db()
	noDB := false
	if err != nil && s.dbName == "" {
		// No database chosen yet (mysqldump, the mariadb client without
		// one): what names no table (SET, SELECT @@x, SHOW VARIABLES) or
		// only the system catalogs runs as in any database.
		if any := s.anyDB(); any != nil {
			db, err, noDB = any, nil, true
		}
	}
	if err != nil {
		return metrics.RouteError, err
	}
	if alias, ok := lastInsertIDQuery(w.sql); ok {
		return metrics.RouteLocal, s.sendLastInsertID(alias, w)
	}
	if strings.EqualFold(firstWordOf(w.sql), "unlock") {
		return metrics.RouteLocal, s.unlockTables(w)
	}
	req := router.Request{DB: db, SQL: w.sql, Params: w.rparams,
		Session: router.Session{InTransaction: s.tx.open || !s.autocommit, Pinned: s.tx.pinned(), ReadOnly: s.readOnlyTx()}}
	plan, err := s.route(w, req)
	if need := router.ColumnsNeeded(err); need != nil {
		// INSERT INTO t VALUES (...): learn t's column order from a server.
		var cols []string
		if cols, err = s.tableColumns(ctx, db, need.Table); err == nil {
			req.TableColumns = func(string) []string { return cols }
			plan, err = s.route(w, req)
		}
	}
	if req.Session.InTransaction && !s.tx.xa && (err == nil && (plan.Statement.Kind == router.KindDDL || plan.Statement.Kind == router.KindLock) ||
		errors.Is(err, router.ErrCrossShard)) {
		var done func()
		if plan, done, err = s.ddlOutsideTx(w, req, plan, err); done != nil {
			defer done()
		}
	}
	if err != nil {
		return metrics.RouteError, err
	}
	if noDB && (!router.OnlyCatalogs(plan.Statement.Tables) || plan.Statement.Kind == router.KindDDL) {
		return metrics.RouteError, &mysqlwire.Error{Code: 1046, State: "3D000", Message: "No database selected"}
	}
	if plan.Statement.Kind == router.KindDDL {
		s.srv.columns.Forget(db.Name) // a table's columns may change
		s.srv.defs.forget()
	}
	if s.tx.lost {
		return metrics.RouteLocal, s.lostTx(plan.Statement.Kind, w)
	}
	switch {
	case plan.Statement.Kind == router.KindLock:
		err = s.lockTables(ctx, db, plan, w)
	case plan.Route == router.RouteLocal:
		err = s.local(ctx, db, plan, w)
	case plan.Route == router.RouteSingle:
		err = s.single(ctx, db, plan.Targets[0], w)
	default:
		err = s.multi(ctx, db, plan, w)
	}
	if plan.Write && isClean(err) {
		s.wrote(db, plan.Targets)
	}
	return plan.Route.String(), err
}

func (s *session) route(w *work, req router.Request) (*router.Plan, error) {
	if w.prep != nil {
		return s.srv.router.RoutePrepared(w.prep, req)
	}
	return s.srv.router.Route(req)
}

// errorClass labels a failed statement for shardgate_errors_total.
func errorClass(err error) string {
	var be *backendError
	var fe *fatalError
	var me *mysqlwire.Error
	switch {
	case errors.As(err, &fe):
		return metrics.ClassClient
	case errors.Is(err, router.ErrCrossShard):
		return metrics.ClassTransaction
	case errors.Is(err, router.ErrSyntax), errors.Is(err, router.ErrUnsupported), errors.Is(err, router.ErrMissingKey),
		errors.Is(err, router.ErrKeyChange), errors.Is(err, router.ErrUnknownShard), errors.Is(err, router.ErrMultiStatement):
		return metrics.ClassRoute
	case errors.Is(err, merge.ErrTooManyRows), errors.Is(err, merge.ErrUnsorted), errors.Is(err, merge.ErrBadValue), errors.Is(err, merge.ErrBadSpec):
		return metrics.ClassMerge
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return metrics.ClassTimeout
	case errors.As(err, &be), err == errRelayed, errors.As(err, &me):
		return metrics.ClassBackend
	}
	return metrics.ClassBackend
}

// single runs a statement on one target, streaming its result through.
// A read outside a transaction whose connection fails before any of its
// answer reached the client runs once more on another server.
func (s *session) single(ctx context.Context, db *topology.DB, t router.Target, w *work) error {
	inTx := s.tx.open // before: a failure may end the transaction's connection
	mark := s.c.Mark()
	err := s.singleOnce(ctx, db, t, w, "")
	be := lostBackend(err)
	if be != nil && !inTx && s.forwarded > 0 && s.c.Rewind(mark) {
		s.forwarded = 0 // what was relayed never left the proxy: the client saw nothing
	}
	if be != nil {
		s.lostServer(be)
		if !inTx && s.retryable(t) {
			s.srv.metrics.Retry(db.Name)
			err = s.singleOnce(ctx, db, t, w, be.addr)
		}
	}
	return err
}

// lostBackend returns err as a *backendError, or nil. It is free when err
// is nil (a variable given to errors.As would be allocated on every
// statement).
func lostBackend(err error) *backendError {
	if err == nil {
		return nil
	}
	var be *backendError
	if errors.As(err, &be) {
		return be
	}
	return nil
}

// breaksConn reports whether err leaves a statement's server connection
// unusable: lost, failed in a way that ends the session, or its
// transaction's opening statements failed.
func breaksConn(err error) bool {
	if err == nil {
		return false
	}
	var fe *fatalError
	var oe *openingError
	return lostBackend(err) != nil || errors.As(err, &fe) || errors.As(err, &oe)
}

// lostServer reports a server connection that failed under a statement
// (retried or not: a write is not) and drops the server's other idle
// connections, most likely dead with it, so the next statements do not
// meet them one by one.
func (s *session) lostServer(be *backendError) {
	s.srv.health.ReportFailure(be.addr, be.err)
	s.srv.back.closeIdle(be.addr)
}

func (s *session) singleOnce(ctx context.Context, db *topology.DB, t router.Target, w *work, avoid string) error {
	var l lease
	var err error
	if avoid == "" {
		l, err = s.acquireFor(ctx, db, t, true)
	} else {
		l, err = s.connectTo(ctx, db, t, avoid)
	}
	if err != nil {
		return err
	}
	status, err := s.relay(ctx, l.conn, w, t)
	markState(l.conn, w)
	broken := breaksConn(err) || s.killed.Load() || (!s.tx.open && status&statusInTrans != 0)
	s.release(l, broken)
	return err
}

// sendTo starts a statement on a backend connection: COM_QUERY, or for a
// prepared statement COM_STMT_EXECUTE of the text prepared on that
// connection (prepared there on first use). The transaction's opening
// statements pending on c go first, in the same write; it returns how
// many went, whose answers come before the statement's.
func (s *session) sendTo(c *backendConn, w *work, t router.Target) (int, error) {
	text := t.SQL
	if text == "" {
		text = w.sql
	}
	buf := s.cmd[:0]
	if !w.binary {
		buf = append(append(buf, comQuery), text...)
	} else {
		if len(c.opening) > 0 && c.prepared[text] == nil {
			// Preparing takes a round trip of its own: start the
			// transaction in it rather than after it.
			if err := c.begin(); err != nil {
				return 0, err
			}
		}
		st, err := c.prepare(text)
		if err != nil {
			return 0, err
		}
		params := w.params
		if t.Params != nil {
			params = make([]mysqlwire.Param, len(t.Params))
			for i, n := range t.Params {
				params[i] = w.params[n-1]
			}
		}
		if len(params) != st.params {
			err := fmt.Errorf("%w: statement for shard %s takes %d parameters, %d bound", router.ErrUnsupported, t.Shard.Name, st.params, len(params))
			if berr := c.begin(); berr != nil { // the transaction goes on without this statement
				return 0, berr
			}
			return 0, err
		}
		buf = mysqlwire.AppendStmtExecute(buf, st.id, 0, params)
	}
	s.cmd = buf
	if sh := t.Shard; sh != nil {
		s.srv.metrics.BackendQuery(protocol, s.dbName, sh.Name, roleOf(c.addr, sh))
	}
	opened := len(c.opening)
	if err := c.sendAfterOpening(buf); err != nil {
		return 0, &backendError{c.addr, err}
	}
	return opened, nil
}

// relay runs one statement on a connection and forwards the server's
// answer to the client packet by packet. It returns the server's final
// status flags. A server's ERR packet is forwarded and reported as
// errRelayed.
func (s *session) relay(ctx context.Context, c *backendConn, w *work, t router.Target) (uint16, error) {
	opened, err := s.sendTo(c, w, t)
	if err != nil {
		return 0, err
	}
	s.watchOne(ctx, c)
	defer s.unwatch()
	if err := c.opened(opened); err != nil {
		return 0, err
	}
	for {
		p, err := c.ReadPacket()
		if err != nil {
			return 0, &backendError{c.addr, err}
		}
		var status uint16
		switch {
		case mysqlwire.IsErr(p):
			return 0, s.forward(p)
		case mysqlwire.IsOK(p):
			ok, err := mysqlwire.ParseOK(p)
			if err != nil {
				return 0, &backendError{c.addr, err}
			}
			if ok.LastInsertID != 0 {
				s.lastInsertID = ok.LastInsertID
			}
			status = ok.Status
			if n := s.affectedRows(ok); n != ok.AffectedRows { // see foundrows.go
				ok.AffectedRows = n
				p = mysqlwire.AppendOK(s.out[:0], ok)
				s.out = p
			}
			s.patchStatus(p, w.more)
			if err := s.forward(p); err != nil {
				return 0, err
			}
		default:
			if status, err = s.relayRows(c, p, w.more); err != nil {
				return 0, err
			}
		}
		if status&statusMoreResults == 0 {
			return status, nil
		}
	}
}

// relayRows forwards one result set whose column count packet is first:
// the column definitions, their EOF, the rows and the final EOF.
func (s *session) relayRows(c *backendConn, first []byte, more bool) (uint16, error) {
	n, err := mysqlwire.ParseColumnCount(first)
	if err != nil {
		return 0, &backendError{c.addr, err}
	}
	if err := s.forward(first); err != nil {
		return 0, err
	}
	for i := 0; i <= n; i++ { // definitions and their EOF
		p, err := c.ReadPacket()
		if err != nil {
			return 0, &backendError{c.addr, err}
		}
		if err := s.forward(p); err != nil {
			return 0, err
		}
	}
	for {
		p, err := c.ReadPacket()
		if err != nil {
			return 0, &backendError{c.addr, err}
		}
		switch {
		case mysqlwire.IsEOF(p):
			_, status, err := mysqlwire.ParseEOF(p)
			if err != nil {
				return 0, &backendError{c.addr, err}
			}
			s.patchStatus(p, more)
			return status, s.forward(p)
		case mysqlwire.IsErr(p):
			return 0, s.forward(p)
		}
		if err := s.forward(p); err != nil {
			return 0, err
		}
	}
}

// forward writes one packet to the client, flushing every flushEvery
// bytes. An ERR packet makes the result errRelayed.
func (s *session) forward(p []byte) error {
	s.forwarded++
	if err := s.c.WritePacket(p); err != nil {
		return &fatalError{err}
	}
	if s.c.Buffered() > flushEvery {
		if err := s.c.Flush(); err != nil {
			return &fatalError{err}
		}
	}
	if mysqlwire.IsErr(p) {
		return errRelayed
	}
	return nil
}

// patchStatus rewrites the status flags of a server's final OK or EOF
// packet in place: autocommit and in-transaction as the session has them
// (backends always autocommit), more-results when more statements of the
// client's COM_QUERY follow or the server has more results of its own.
func (s *session) patchStatus(p []byte, more bool) {
	off := statusOffset(p)
	if off < 0 {
		return
	}
	st := uint16(p[off]) | uint16(p[off+1])<<8
	st = st&^(statusInTrans|statusAutocommit) | s.status()
	if more {
		st |= statusMoreResults
	}
	p[off], p[off+1] = byte(st), byte(st>>8)
}

// statusOffset is where the status flags of an OK or EOF packet are, -1
// when the packet is too short to have them.
func statusOffset(p []byte) int {
	if mysqlwire.IsEOF(p) {
		if len(p) >= 5 {
			return 3
		}
		return -1
	}
	off := 1
	for range 2 { // affected rows, last insert id
		_, _, n, err := mysqlwire.ReadLenEncInt(p[off:])
		if err != nil {
			return -1
		}
		off += n
	}
	if off+2 > len(p) {
		return -1
	}
	return off
}
