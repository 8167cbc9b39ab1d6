package pgserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime/debug"
	"strings"
	"time"

	"github.com/jackc/pgproto3/v2"

	"github.com/shardgate/shardgate/proxy/console"
	"github.com/shardgate/shardgate/proxy/drain"
	"github.com/shardgate/shardgate/proxy/merge"
	"github.com/shardgate/shardgate/proxy/metrics"
	"github.com/shardgate/shardgate/proxy/netcheck"
	"github.com/shardgate/shardgate/proxy/pgwire"
	"github.com/shardgate/shardgate/router"
	"github.com/shardgate/shardgate/router/sqltext"
	"github.com/shardgate/shardgate/topology"
	"github.com/shardgate/shardgate/topology/health"
)

// maxClientMessage bounds one message from a client.
const maxClientMessage = 64 << 20

// session is one client connection.
type session struct {
	srv    *Server
	nc     net.Conn
	idle   *netcheck.IdleDeadline // idle_transaction_timeout on nc (see idletx.go)
	r      *pgwire.Reader
	w      *pgwire.Writer
	user   string
	dbName string
	key    uint64 // cancel key handed to the client (pid<<32 | secret)

	// settings are the client's session SETs: variable -> SET statement;
	// startupSets, those of its startup packet: the session's defaults.
	settings, startupSets map[string]string
	// held are server connections the client keeps for the session-level
	// advisory locks it holds on them (see advisory.go).
	held []*heldConn

	tx  txState
	ext extState // extended protocol: statements and portals
	// running is the backend work a CancelRequest should interrupt.
	running runningSet

	drain     *drain.Conn         // graceful shutdown: idle between statements?
	clientKey uint64              // client_hash read policy
	recent    health.RecentWrites // read_your_writes
	forwarded int                 // messages of the current statement sent to the client
	// implicitOff: this pipeline (or Query) turned out to span shards
	// where a transaction may not, so its statements run each on its own
	// until Sync.
	implicitOff bool
	suspended   bool                    // the last statement relayed ended in PortalSuspended
	one         [1]string               // the statement of a one-statement query, without allocating
	shapeKey    []byte                  // preparedShape's scratch
	shape       *shapeExec              // preparedShape's result, good until the next statement
	sqlStmts    map[string]sqlStatement // SQL-level PREPAREs (see sqlprepare.go)
}

func newSession(s *Server, nc net.Conn, dc *drain.Conn) *session {
	sess := &session{srv: s, nc: nc, r: pgwire.NewPooledReader(nc, maxClientMessage, s.bufs), w: pgwire.NewPooledWriter(nc, s.bufs),
		settings: map[string]string{}, startupSets: map[string]string{}, drain: dc, clientKey: health.ClientKey(nc.RemoteAddr().String())}
	// nc is the TCP socket even after a TLS upgrade wraps s.nc.
	sess.running.watcher = netcheck.NewWatcher(nc, watchAfter, func() { s.cancelConns(sess.running.snapshot()) })
	sess.idle = netcheck.NewIdleDeadline(nc)
	return sess
}

// close ends the session: an open transaction is rolled back by
// discarding its connection (a COMMIT never reached the server).
func (s *session) close() {
	if s.key != 0 {
		s.srv.sessions.Delete(s.key)
		s.srv.clients.Add(-1)
		s.srv.metrics.ClientClosed(protocol)
	}
	s.endTx(true)
	s.closeHeld()
}

// run is the session's life: startup, authentication, the query loop.
// A drain (Serve's context ended) ends it between statements: when
// ReadyForQuery said idle ('I') and no extended-protocol batch is half
// sent. A transaction block, or a pipeline before its Sync, keeps the
// session until it ends or the drain times out.
func (s *session) run(ctx context.Context) error {
	// A client still logging in has nothing running: a drain may close it.
	if s.drain.Idle() {
		return nil
	}
	ok, err := s.startupAside(ctx)
	if err != nil || !ok {
		return err
	}
	s.drain.Describe(s.user, s.dbName)
	for {
		if !s.tx.open && !s.ext.pending && s.drain.Idle() {
			// As a PostgreSQL server shutting down tells its idle clients.
			return s.fatal("57P01", "terminating connection because shardgate is shutting down")
		}
		s.idle.Arm(s.idleTxTimeout())
		typ, body, err := s.r.ReadRaw()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			if s.idle.Expired(err) {
				return s.fatal("25P03", "terminating connection due to idle-in-transaction timeout (idle_transaction_timeout)")
			}
			return err
		}
		s.idle.Clear()
		s.drain.Busy()
		switch typ {
		case 'X':
			return nil
		case 'Q':
			text, err := pgwire.QueryText(body)
			if err != nil {
				return s.fatal("08P01", err.Error())
			}
			if err := s.simpleQuery(ctx, text); err != nil {
				return err
			}
		case 'd', 'c', 'f':
			// COPY data after the COPY failed: dropped, as PostgreSQL does.
		case 'P', 'B', 'D', 'E', 'C', 'H', 'S':
			if err := s.extended(ctx, typ, body); err != nil {
				return err
			}
		default:
			return s.fatal("08P01", fmt.Sprintf("unexpected message type %q", typ))
		}
	}
}

// startupAside runs startup on a goroutine of its own and waits for it.
// Logging in (SCRAM's key derivation, a TLS handshake) needs a deep
// stack, and a goroutine's stack is not shrunk while the GC sees a
// quarter of it in use: done here, it would keep this goroutine at 8 KB
// for the life of a mostly idle connection instead of 2 KB.
func (s *session) startupAside(ctx context.Context) (bool, error) {
	type result struct {
		ok  bool
		err error
	}
	done := make(chan result, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				s.srv.log.Error("client login panicked; connection closed", "remote", s.nc.RemoteAddr().String(), "panic", r, "stack", string(debug.Stack()))
				done <- result{err: fmt.Errorf("login panicked: %v", r)}
			}
		}()
		ok, err := s.startup(ctx)
		done <- result{ok, err}
	}()
	r := <-done
	return r.ok, r.err
}

// simpleQuery runs a Query message: one or more statements, then
// ReadyForQuery. An error stops the remaining statements, as in
// PostgreSQL.
func (s *session) simpleQuery(ctx context.Context, text string) error {
	var stmts []string
	var err error
	if one, ok := singleStatement(text); ok {
		// The common case, without a second pass of the tokenizer.
		if strings.TrimSpace(one) != "" {
			s.one[0] = one
			stmts = s.one[:]
		}
	} else {
		stmts, err = sqltext.Split(sqltext.Postgres, text)
	}
	if err != nil {
		s.sendError(classify(fmt.Errorf("%w: %v", router.ErrSyntax, err)))
		return s.ready()
	}
	if len(stmts) == 0 {
		s.w.Send(&pgproto3.EmptyQueryResponse{})
		return s.ready()
	}
	if len(stmts) > 1 && !s.tx.open {
		// As in PostgreSQL, the statements of one Query run as one
		// transaction unless the client opened its own.
		s.beginImplicit()
	}
	for _, sql := range stmts {
		if err := s.statement(ctx, sql); err != nil {
			var ce *clientError
			if !errors.As(err, &ce) {
				return err // the client connection itself failed
			}
			if ce != errRelayed { // a server's error was forwarded already
				s.sendError(ce)
			}
			if s.tx.open {
				s.tx.failed = true
			}
			break
		}
	}
	return s.syncPoint()
}

// syncPoint ends a Query or an extended-protocol Sync: the implicit
// transaction commits (or rolls back after an error), then
// ReadyForQuery.
func (s *session) syncPoint() error {
	if s.tx.implicit {
		if err := s.endImplicit(); err != nil {
			s.sendError(classify(err))
		}
	}
	s.implicitOff = false
	return s.ready()
}

// singleStatement recognises a query text that can hold only one
// statement: no ';' except as its last character (pgbench, ORMs and psql
// end statements so). A ';' inside a literal or comment just takes the
// general path.
func singleStatement(text string) (string, bool) {
	i := strings.IndexByte(text, ';')
	if i < 0 {
		return text, true
	}
	if strings.TrimRight(text[i+1:], " \t\r\n") == "" {
		return text[:i], true
	}
	return "", false
}

// ready sends ReadyForQuery with the transaction status and flushes.
func (s *session) ready() error {
	s.dropOpenPortals()
	status := byte('I')
	switch {
	case s.tx.open && s.tx.failed:
		status = 'E'
	case s.tx.open:
		status = 'T'
	}
	s.w.Send(&pgproto3.ReadyForQuery{TxStatus: status})
	return s.w.Flush()
}

// statement routes and runs one statement of the simple protocol. A
// *clientError is reported to the client and the session goes on; any
// other error ends the session.
func (s *session) statement(ctx context.Context, sql string) error {
	return s.execute(ctx, &work{sql: sql})
}

// execute routes and runs one statement, from either protocol, recording
// it in the metrics.
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
	snap := s.srv.store.Current()
	db, ok := snap.Database(topology.Postgres, s.dbName)
	if !ok {
		return metrics.RouteError, s.fatal("3D000", fmt.Sprintf("database %q no longer exists in the topology", s.dbName))
	}
	if s.tx.open && s.tx.failed && !isTxEnd(w.sql) {
		return metrics.RouteError, &clientError{code: "25P02", msg: "current transaction is aborted, commands ignored until end of transaction block"}
	}
	req := router.Request{DB: db, SQL: w.sql, Params: w.routeParams(),
		Session: router.Session{InTransaction: s.tx.open, Pinned: s.tx.pinned(), ReadOnly: s.tx.open && s.tx.readOnly}}
	if !s.tx.open {
		req.Session.Pinned = s.heldShard(db) // FETCH of a WITH HOLD cursor goes where it is
	}
	plan, err := s.route(w, req)
	if err == nil && s.tx.open {
		plan, err = s.followCursor(w, req, plan)
	}
	if need := router.ColumnsNeeded(err); need != nil {
		// INSERT INTO t VALUES (...): learn t's column order from a server.
		var cols []string
		if cols, err = s.tableColumns(ctx, db, need.Table); err == nil {
			req.TableColumns = func(string) []string { return cols }
			plan, err = s.route(w, req)
		}
	}
	if s.tx.implicit && errors.Is(err, router.ErrCrossShard) {
		// The pipeline spans shards but a transaction may not: what ran
		// so far commits, and its statements run each on its own until
		// Sync, as they did before implicit transactions.
		if err := s.endImplicit(); err != nil {
			return metrics.RouteError, err
		}
		s.implicitOff = true
		req.Session = router.Session{}
		plan, err = s.route(w, req)
	}
	if err == nil && plan.Statement.Kind == router.KindDDL {
		s.srv.columns.Forget(db.Name) // a table's columns may change
	}
	if err != nil {
		if console.IsCommand(w.sql) { // no grammar knows SHOW SHARDGATE
			return metrics.RouteLocal, s.console(w)
		}
		if done, lerr := s.sessionCommand(w.sql); done {
			return metrics.RouteLocal, lerr
		}
		return metrics.RouteError, classify(err)
	}
	switch plan.Statement.Kind {
	case router.KindOther, router.KindDDL:
		if done, lerr := s.sessionCommand(w.sql); done {
			return metrics.RouteLocal, lerr
		}
	}
	w.advisory = mayLock(plan.Statement, w.sql) || plan.Statement.Kind == router.KindOther && len(plan.Statement.Tables) == 0 &&
		strings.EqualFold(firstWord(w.sql), "CLOSE")
	switch {
	case plan.Statement.Kind == router.KindCopy && plan.Statement.CopyFrom && len(plan.Targets) > 1:
		err = s.copySplit(ctx, db, plan, w.sql)
	case plan.Route == router.RouteLocal:
		err = s.local(ctx, db, plan, w.sql)
	case plan.Route == router.RouteSingle:
		if w.ext == nil && db.PrepareSimple {
			w.shape = s.preparedShape(plan)
		}
		err = s.single(ctx, db, plan.Targets[0], w)
	default:
		err = s.multi(ctx, db, plan, w)
	}
	if plan.Write && isClean(err) {
		s.wrote(db, plan.Targets)
	}
	if plan.Statement.Kind == router.KindDDL {
		s.srv.back.schemaEpoch.Add(1) // after it ran: statements parsed before it may be stale
	}
	return plan.Route.String(), err
}

func isTxEnd(sql string) bool {
	w := strings.ToUpper(firstWord(sql))
	return w == "ROLLBACK" || w == "COMMIT" || w == "END" || w == "ABORT"
}

// firstWord is the statement's first keyword, past comments and blanks.
func firstWord(sql string) string {
	toks, err := sqltext.Tokens(sqltext.Postgres, sql)
	if err != nil {
		return ""
	}
	for _, t := range toks {
		if t.Kind == sqltext.TokWord {
			return t.Text(sql)
		}
	}
	return ""
}

// fatal sends a FATAL error and ends the session.
func (s *session) fatal(code, msg string) error {
	s.w.Send(pgwire.ErrorResponse("FATAL", code, msg))
	s.w.Flush()
	return fmt.Errorf("%s: %s", code, msg)
}

func (s *session) sendError(ce *clientError) {
	if ce.pg != nil {
		s.w.Send(ce.pg.Response())
		return
	}
	s.w.Send(pgwire.ErrorResponse("ERROR", ce.code, ce.msg))
}

// clientError is an error the client gets as an ErrorResponse, after
// which the session goes on.
type clientError struct {
	code, msg string
	pg        *pgwire.PgError // a server's own error, relayed unchanged
	cause     error           // what the proxy's error stands for (errorClass)
}

func (e *clientError) Error() string {
	if e.pg != nil {
		return e.pg.Error()
	}
	return e.code + ": " + e.msg
}

func (e *clientError) Unwrap() error { return e.cause }

// classify maps router and backend errors to SQLSTATEs at the wire edge.
// An error already mapped keeps its SQLSTATE (its cause may be a
// backend's login error, which is not the client's to see).
func classify(err error) *clientError {
	var ce *clientError
	if errors.As(err, &ce) {
		return ce
	}
	var pe *pgwire.PgError
	if errors.As(err, &pe) {
		return &clientError{pg: pe}
	}
	code := "XX000"
	switch {
	case errors.Is(err, router.ErrSyntax):
		code = "42601"
	case errors.Is(err, router.ErrUnsupported), errors.Is(err, router.ErrCrossShard),
		errors.Is(err, router.ErrMissingKey), errors.Is(err, router.ErrKeyChange):
		code = "0A000"
	case errors.Is(err, router.ErrUnknownShard):
		code = "42704"
	case errors.Is(err, router.ErrMultiStatement):
		code = "42601"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		code = "57014"
	}
	return &clientError{code: code, msg: err.Error(), cause: err}
}

// errorClass labels a failed statement for shardgate_errors_total.
func errorClass(err error) string {
	var ce *clientError
	switch {
	case errors.Is(err, router.ErrCrossShard):
		return metrics.ClassTransaction
	case errors.Is(err, router.ErrSyntax), errors.Is(err, router.ErrUnsupported), errors.Is(err, router.ErrMissingKey),
		errors.Is(err, router.ErrKeyChange), errors.Is(err, router.ErrUnknownShard), errors.Is(err, router.ErrMultiStatement):
		return metrics.ClassRoute
	case errors.Is(err, merge.ErrTooManyRows), errors.Is(err, merge.ErrUnsorted), errors.Is(err, merge.ErrBadValue), errors.Is(err, merge.ErrBadSpec):
		return metrics.ClassMerge
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return metrics.ClassTimeout
	case !errors.As(err, &ce):
		return metrics.ClassClient // the client connection failed: the session ends
	}
	switch {
	case ce == errRelayed || ce.pg != nil:
		return metrics.ClassBackend
	case strings.HasPrefix(ce.code, "25"): // an aborted transaction, DISCARD ALL in one
		return metrics.ClassTransaction
	case ce.code == "0A000": // what shardgate does not do (LISTEN, temporary tables)
		return metrics.ClassRoute
	case ce.code == "22P04": // malformed COPY data
		return metrics.ClassClient
	}
	return metrics.ClassBackend
}

// isClean reports whether a statement reached its servers and left their
// connections usable: no error, or the server's own.
func isClean(err error) bool {
	var ce *clientError
	return err == nil || errors.As(err, &ce) && (ce == errRelayed || ce.pg != nil)
}
