package myserver

import (
	"context"
	"errors"
	"fmt"

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
	more    bool // more statements of the same COM_QUERY follow
	binary  bool
	params  []mysqlwire.Param
	rparams []router.Param
}

// lease is a backend connection held for one statement (or a
// transaction) and how to give it back.
type lease struct {
	conn    *backendConn
	release func(broken bool)
}

// execute routes and runs one statement.
func (s *session) execute(ctx context.Context, w *work) error {
	db, err := s.db()
	if err != nil {
		return err
	}
	if alias, ok := lastInsertIDQuery(w.sql); ok {
		return s.sendLastInsertID(alias, w)
	}
	plan, err := s.srv.router.Route(router.Request{DB: db, SQL: w.sql, Params: w.rparams,
		Session: router.Session{InTransaction: s.tx.open || !s.autocommit, Pinned: s.tx.shard}})
	if err != nil {
		return err
	}
	switch plan.Route {
	case router.RouteLocal:
		return s.local(ctx, db, plan, w)
	case router.RouteSingle:
		return s.single(ctx, db, plan.Targets[0], w)
	}
	return s.multi(ctx, db, plan, w)
}

// acquire gets a connection for a target: the transaction's pinned one,
// or one from the pool of the server the target's role picks. The first
// statement of a transaction pins its shard and sends the deferred
// START TRANSACTION.
func (s *session) acquire(ctx context.Context, db *topology.DB, t router.Target) (*lease, error) {
	if !s.autocommit && !s.tx.open {
		s.openTx(nil) // autocommit=0: every statement is in a transaction
	}
	pinned := &lease{release: func(broken bool) {
		if broken {
			s.endTx(true)
		}
	}}
	if s.tx.open && s.tx.conn != nil {
		pinned.conn = s.tx.conn
		return pinned, nil
	}
	if s.tx.open {
		t.Role = router.RolePrimary
	}
	c, addr, release, err := s.connect(ctx, db, t)
	if err != nil {
		return nil, err
	}
	if !s.tx.open {
		return &lease{conn: c, release: release}, nil
	}
	for _, q := range s.tx.deferred {
		if _, err := c.Simple(q); err != nil {
			release(!isServerError(err))
			return nil, err
		}
	}
	s.tx.conn, s.tx.shard, s.tx.addr, s.tx.db, s.tx.deferred = c, t.Shard, addr, db, nil
	s.tx.release = release
	pinned.conn = c
	return pinned, nil
}

// connect takes a connection to the server a target runs on from its
// pool, with the session's state applied.
func (s *session) connect(ctx context.Context, db *topology.DB, t router.Target) (*backendConn, string, func(bool), error) {
	addr := s.srv.server(db, t)
	p := s.srv.back.poolFor(db, addr)
	c, err := p.Acquire(ctx)
	if err != nil {
		return nil, "", nil, &mysqlwire.Error{Code: erUnknown, State: "HY000",
			Message: fmt.Sprintf("shardgate: cannot reach backend %s (shard %s): %v", addr, t.Shard.Name, err)}
	}
	release := func(broken bool) {
		if broken {
			p.Discard(c)
		} else {
			p.Release(c)
		}
	}
	if err := c.syncState(s); err != nil {
		release(true)
		return nil, "", nil, err
	}
	return c, addr, release, nil
}

func isServerError(err error) bool {
	var me *mysqlwire.Error
	return errors.As(err, &me)
}

// openTx starts a transaction in the session; its START TRANSACTION (or
// the client's BEGIN text) is sent when a statement picks the shard.
func (s *session) openTx(begin []string) {
	if len(begin) == 0 {
		begin = []string{"START TRANSACTION"}
	}
	s.tx = txState{open: true, deferred: append(s.nextTx, begin...)}
	s.nextTx = nil
}

// endTx gives the pinned connection back (or discards it, which rolls
// the transaction back on the server) and forgets the transaction.
func (s *session) endTx(broken bool) {
	if s.tx.conn != nil {
		s.tx.release(broken)
	}
	s.tx = txState{}
}

// single runs a statement on one target, streaming its result through.
func (s *session) single(ctx context.Context, db *topology.DB, t router.Target, w *work) error {
	l, err := s.acquire(ctx, db, t)
	if err != nil {
		return err
	}
	status, err := s.relay(ctx, l.conn, w, t)
	var be *backendError
	var fe *fatalError
	broken := errors.As(err, &be) || errors.As(err, &fe) || s.killed.Load() ||
		(!s.tx.open && status&statusInTrans != 0)
	l.release(broken)
	return err
}

// sendTo starts a statement on a backend connection: COM_QUERY, or for a
// prepared statement COM_STMT_EXECUTE of the text prepared on that
// connection (prepared there on first use).
func (s *session) sendTo(c *backendConn, w *work, t router.Target) error {
	text := t.SQL
	if text == "" {
		text = w.sql
	}
	buf := s.cmd[:0]
	if !w.binary {
		buf = append(append(buf, comQuery), text...)
	} else {
		st, err := c.prepare(text)
		if err != nil {
			return err
		}
		params := w.params
		if t.Params != nil {
			params = make([]mysqlwire.Param, len(t.Params))
			for i, n := range t.Params {
				params[i] = w.params[n-1]
			}
		}
		if len(params) != st.params {
			return fmt.Errorf("%w: statement for shard %s takes %d parameters, %d bound", router.ErrUnsupported, t.Shard.Name, st.params, len(params))
		}
		buf = mysqlwire.AppendStmtExecute(buf, st.id, 0, params)
	}
	s.cmd = buf
	if err := c.send(buf); err != nil {
		return &backendError{c.addr, err}
	}
	return nil
}

// relay runs one statement on a connection and forwards the server's
// answer to the client packet by packet. It returns the server's final
// status flags. A server's ERR packet is forwarded and reported as
// errRelayed.
func (s *session) relay(ctx context.Context, c *backendConn, w *work, t router.Target) (uint16, error) {
	if err := s.sendTo(c, w, t); err != nil {
		return 0, err
	}
	s.watchOne(ctx, c)
	defer s.unwatch()
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
