package pgserver

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/jackc/pgproto3/v2"

	"github.com/shardgate/shardgate/proxy/pgwire"
	"github.com/shardgate/shardgate/router"
	"github.com/shardgate/shardgate/topology"
)

// flushEvery bounds what is buffered for the client while relaying, so a
// huge result streams through in constant memory.
const flushEvery = 64 << 10

// backendError is a failure of the connection to a server (not an error
// the server reported): the connection is discarded and the client gets
// 08006.
type backendError struct {
	addr string
	err  error
}

func (e *backendError) Error() string {
	return fmt.Sprintf("lost connection to backend %s: %v", e.addr, e.err)
}
func (e *backendError) Unwrap() error { return e.err }

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

// errRelayed marks a statement whose ErrorResponse the server sent and
// the client already got.
var errRelayed = &clientError{code: "relayed"}

// lease is a backend connection held for one statement (or a
// transaction) and how to give it back.
type lease struct {
	conn    *backendConn
	release func(broken bool)
}

// single runs a statement on one target, streaming its results through.
// A read outside a transaction whose connection fails before any of its
// answer reached the client runs once more on another server.
func (s *session) single(ctx context.Context, db *topology.DB, t router.Target, w *work) error {
	inTx := s.tx.open // before: a failure may end the transaction's connection
	mark := s.w.Mark()
	err := s.singleOnce(ctx, db, t, w, "")
	be := lostBackend(err)
	if be != nil && !inTx && s.forwarded > 0 && s.w.Rewind(mark) {
		s.forwarded = 0 // what was relayed never left the proxy: the client saw nothing
	}
	if be != nil {
		s.lostServer(be)
		if !inTx && s.retryable(t) {
			s.srv.metrics.Retry(db.Name)
			err = s.singleOnce(ctx, db, t, w, be.addr)
		}
	}
	if be := lostBackend(err); be != nil {
		return &clientError{code: "08006", msg: be.Error()}
	}
	return err
}

// lostServer reports a server connection that failed under a statement
// (retried or not: a write is not) and drops the server's other idle
// connections, most likely dead with it, so the next statements do not
// meet them one by one.
func (s *session) lostServer(be *backendError) {
	s.srv.health.ReportFailure(be.addr, be.err)
	s.srv.back.closeIdle(be.addr)
}

// singleOnce is single without the retry; avoid is a server that just
// failed the statement.
func (s *session) singleOnce(ctx context.Context, db *topology.DB, t router.Target, w *work, avoid string) error {
	var l *lease
	var err error
	if avoid == "" {
		l, err = s.acquireFor(ctx, db, t, true)
	} else {
		var c *backendConn
		var release func(bool)
		c, _, release, err = s.connectTo(ctx, db, t, avoid)
		l = &lease{conn: c, release: release}
	}
	if err != nil {
		return err
	}
	if err := s.checkPlan(l.conn, w, t); err != nil {
		l.release(lostBackend(err) != nil)
		return err
	}
	status, err := s.relay(l.conn, w, t)
	broken := lostBackend(err) != nil || (!s.tx.open && status != 'I')
	l.conn.advisory = l.conn.advisory || w.advisory
	l.release(broken)
	return err
}

// relay runs one statement on a connection and forwards the server's
// answer to the client as it arrives, without decoding rows. It returns
// the server's transaction status. An ErrorResponse is forwarded and
// reported as errRelayed; a FATAL one is not (see sessionEnded).
func (s *session) relay(c *backendConn, w *work, t router.Target) (byte, error) {
	s.running.add(c)
	defer s.running.remove(c)
	for {
		status, again, err := s.relayOnce(c, w, t)
		if !again {
			return status, err
		}
		w.shape = nil // its prepared shape failed before running: send the text
	}
}

// relayOnce is one try of relay. again: the statement ran as its prepared
// shape, whose Parse or Bind failed before anything ran, outside any
// transaction: nothing reached the client and the text is to be sent.
func (s *session) relayOnce(c *backendConn, w *work, t router.Target) (status byte, again bool, err error) {
	sent, err := s.send(c, w, t, false)
	if err != nil {
		return 0, false, err
	}
	shape, opening := sent.shape, sent.opening
	var result error
	var held []byte // the shape's Parse or Bind error, until ReadyForQuery says what it aborted
	bound := false
	for {
		typ, body, err := c.r.ReadRaw()
		if err != nil {
			return 0, false, &backendError{c.addr, err}
		}
		if opening > 0 && typ != 'Z' {
			// The answer to the transaction's opening statements: the
			// client had its answer when they were deferred. One that
			// failed kept the statement from running; the client learns
			// why.
			switch typ {
			case 'C':
				opening--
			case 'E':
				if isFatal(body) {
					return 0, false, sessionEnded(c, body)
				}
				opening = 0
				c.failed(body) // the server skipped the statement's Parse too
				s.forwarded++
				s.w.WriteRaw(typ, body)
				result = errRelayed
			case 'S':
				c.noteParameter(body)
			}
			continue
		}
		switch typ {
		case 'Z':
			if len(body) != 1 {
				return 0, false, &backendError{c.addr, pgwire.ErrProtocol}
			}
			if held != nil {
				if body[0] == 'I' {
					return 0, true, nil
				}
				s.forwarded++
				s.w.WriteRaw('E', held)
				result = errRelayed
			}
			return body[0], false, result
		case 'E':
			if isFatal(body) {
				return 0, false, sessionEnded(c, body)
			}
			if shape != nil && !bound {
				if c.lastParsed != "" { // the Parse itself failed
					s.srv.shapes.set(string(shape.key), shapeBad)
				}
				shape.forget(c)
				held = append([]byte(nil), body...)
				continue
			}
			result = errRelayed
			if c.lastParsed != "" && w.ext != nil {
				s.forgetStmt(w.ext.stmt) // its Parse failed: on a server it would not exist
			}
			c.failed(body)
		case 'S':
			c.noteParameter(body)
		case '1': // ParseComplete: the statement stays prepared on c
			c.lastParsed = ""
			continue
		case '2': // BindComplete
			bound = true
			if shape != nil && shape.tried {
				s.srv.shapes.set(string(shape.key), shapeGood)
				shape.tried = false
			}
			continue
		case '3': // CloseComplete
			continue
		case 's': // PortalSuspended: a row-limited Execute has more rows
			s.suspended = true
		case 'n': // NoData: a shape without rows; the Query would not say so
			if shape != nil {
				continue
			}
		case 'G': // CopyInResponse: the client sends the data next
			s.forwarded++
			s.w.WriteRaw(typ, body)
			if err := s.w.Flush(); err != nil {
				return 0, false, err
			}
			if err := s.copyIn(c); err != nil {
				return 0, false, err
			}
			continue
		}
		s.forwarded++
		s.w.WriteRaw(typ, body)
		if s.w.Buffered() > flushEvery {
			if err := s.w.Flush(); err != nil {
				return 0, false, err
			}
		}
	}
}

// sent says how send started a statement.
type sent struct {
	shape   *shapeExec // it runs as its prepared shape
	opening int        // the transaction's opening statements that went first
}

// send starts a statement on a connection: a Query (or its prepared
// shape), or for the extended protocol Parse (once per connection and
// text), Bind, Describe, Execute and Sync. describe forces a
// RowDescription (a merge needs the types). The transaction's opening
// statements, when join left them to go with this one, go first in the
// same message sequence, so that if one fails the statement does not run:
// in front of a Query's text, or as extended-protocol executions, whose
// failure makes the server skip to Sync.
func (s *session) send(c *backendConn, w *work, t router.Target, describe bool) (sent, error) {
	text := t.SQL
	if text == "" {
		text = w.sql
	}
	out := sent{opening: len(c.opening)}
	switch {
	case w.ext != nil:
		c.sendOpening()
		w.ext.send(c, text, t.Params, describe)
	case w.shape != nil && t.SQL == "" && !describe && c.conformingStrings():
		out.shape = w.shape
		c.sendOpening()
		out.shape.send(c)
	default:
		if len(c.opening) > 0 {
			// "\n;\n": a statement ending in a -- comment still ends.
			text = strings.Join(append(c.opening, text), "\n;\n")
			c.opening = nil
		}
		c.w.Send(&pgproto3.Query{String: text})
	}
	if sh := t.Shard; sh != nil {
		s.srv.metrics.BackendQuery(protocol, s.dbName, sh.Name, roleOf(c.addr, sh))
	}
	if err := c.w.Flush(); err != nil {
		return sent{}, &backendError{c.addr, err}
	}
	return out, nil
}

// sendOpening queues the transaction's opening statements as unnamed
// extended-protocol executions.
func (c *backendConn) sendOpening() {
	for _, sql := range c.opening {
		c.w.Send(&pgproto3.Parse{Query: sql})
		c.w.Send(&pgproto3.Bind{})
		c.w.Send(&pgproto3.Execute{})
	}
	c.opening = nil
}

// multi runs a plan on several targets at once: concatenating results,
// merging them per the plan, or adding up row counts.
// A read outside a transaction whose server connection fails before any
// of the merged answer left the proxy runs once more: the failed server
// is banned, so the second run reads elsewhere.
func (s *session) multi(ctx context.Context, db *topology.DB, plan *router.Plan, w *work) error {
	if w.ext != nil && w.ext.rowLimited() {
		w = w.unlimited() // merged rows cannot be read in pieces (see portals.go)
	}
	inTx := s.tx.open
	mark := s.w.Mark()
	err := s.multiOnce(ctx, db, plan, w)
	be := lostBackend(err)
	if be != nil {
		s.lostServer(be)
	}
	if be != nil && !inTx && !plan.Write && s.w.Rewind(mark) {
		s.forwarded = 0
		s.srv.metrics.Retry(db.Name)
		err = s.multiOnce(ctx, db, plan, w)
	}
	if be := lostBackend(err); be != nil {
		return &clientError{code: "08006", msg: be.Error()}
	}
	return err
}

func (s *session) multiOnce(ctx context.Context, db *topology.DB, plan *router.Plan, w *work) error {
	leases := make([]*lease, len(plan.Targets))
	errs := make([]error, len(plan.Targets))
	if s.tx.open {
		// The transaction's connections: joining one changes s.tx.
		for i, t := range plan.Targets {
			leases[i], errs[i] = s.acquire(ctx, db, t)
		}
	} else {
		var wg sync.WaitGroup
		for i, t := range plan.Targets {
			wg.Go(func() { leases[i], errs[i] = s.acquire(ctx, db, t) })
		}
		wg.Wait()
	}
	broken := make([]bool, len(leases))
	defer func() {
		for i, l := range leases {
			if l != nil {
				l.conn.advisory = l.conn.advisory || w.advisory
				l.release(broken[i])
			}
		}
	}()
	if err := errors.Join(errs...); err != nil {
		return classify(firstErr(errs))
	}
	if plan.Merge != nil && w.ext != nil {
		w.ext.shardFormats = shardFormats(plan.Merge, w.ext)
	}
	for i, l := range leases {
		if _, err := s.send(l.conn, w, plan.Targets[i], plan.Merge != nil); err != nil {
			for j := range i + 1 {
				broken[j] = true // sent, with an answer nobody will read
			}
			return err
		}
		s.running.add(l.conn)
		defer s.running.remove(l.conn)
	}
	conns := make([]*backendConn, len(leases))
	for i, l := range leases {
		conns[i] = l.conn
	}
	var err error
	if plan.Merge != nil {
		err = s.merged(conns, plan, broken, w)
	} else {
		err = s.concatenated(conns, plan, broken)
	}
	var ce *clientError
	if err != nil && !errors.As(err, &ce) {
		// A lost backend or client connection: the shards not read to the
		// end still have answers in flight, so none is reused.
		for i := range broken {
			broken[i] = true
		}
	}
	return err
}

// settled reports whether a ReadyForQuery left the connection as the
// statement should: idle outside a transaction, in it (or failed) inside.
func settled(z []byte, inTx bool) bool {
	if len(z) != 1 {
		return false
	}
	return (z[0] == 'I') != inTx
}

func firstErr(errs []error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// concatenated streams each shard's rows in turn under one
// RowDescription and reports one CommandComplete with the counts added.
func (s *session) concatenated(conns []*backendConn, plan *router.Plan, broken []bool) error {
	var (
		described  bool
		tag        commandTag
		firstPgErr *pgproto3.ErrorResponse
		join       *binaryJoin // COPY TO STDOUT in binary format
	)
	for i, c := range conns {
		for {
			typ, body, err := c.r.ReadRaw()
			if err != nil {
				broken[i] = true
				return &backendError{c.addr, err}
			}
			switch typ {
			case 'T':
				if !described {
					s.w.WriteRaw(typ, body)
					described = true
				}
				continue
			case 'd':
				if join == nil {
					s.w.WriteRaw(typ, body)
				} else if err := join.data(i, body); err != nil {
					broken[i] = true
					return &backendError{c.addr, err}
				}
			case 'D', 'N':
				s.w.WriteRaw(typ, body)
			case 'n': // NoData (a Describe of a statement without rows)
				if !described {
					s.w.WriteRaw(typ, body)
					described = true
				}
			case 'C':
				tag.add(string(trimNul(body)), plan.SumAffected || !plan.Write, i == 0)
			case 'E':
				c.failed(body)
				if firstPgErr == nil {
					msg, derr := pgwire.DecodeBackend(typ, body)
					if derr == nil {
						firstPgErr = msg.(*pgproto3.ErrorResponse)
					}
				}
			case 'S':
				c.noteParameter(body)
			case 'H':
				// COPY TO STDOUT: one CopyOutResponse for all shards.
				if !described {
					s.w.WriteRaw(typ, body)
					described = true
					if len(body) > 0 && body[0] == 1 { // binary: one header, one trailer
						join = newBinaryJoin(len(conns), func(b []byte) { s.w.WriteRaw('d', b) })
					}
				}
			case 'c':
				// CopyDone once, after the last shard.
				if join != nil {
					join.done(i)
				}
			}
			if typ == 'Z' {
				if !settled(body, s.tx.open) {
					broken[i] = true
				}
				break
			}
			if s.w.Buffered() > flushEvery {
				if err := s.w.Flush(); err != nil {
					return err
				}
			}
		}
	}
	if firstPgErr != nil {
		s.w.Send(firstPgErr)
		return errRelayed
	}
	if tag.copyOut {
		s.w.Send(&pgproto3.CopyDone{})
	}
	s.w.Send(&pgproto3.CommandComplete{CommandTag: []byte(tag.String())})
	return nil
}

func trimNul(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == 0 {
		return b[:n-1]
	}
	return b
}
