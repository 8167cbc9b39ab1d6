package pgserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/jackc/pgproto3/v2"

	"github.com/shardgate/shardgate/proxy/pgwire"
	"github.com/shardgate/shardgate/proxy/pool"
	"github.com/shardgate/shardgate/router"
	"github.com/shardgate/shardgate/topology"
	"github.com/shardgate/shardgate/topology/health"
)

// connect takes a connection to the server a target runs on from its
// pool, with the session's settings applied. A read outside a transaction
// whose server cannot be reached is tried once more on another server of
// the shard (the health monitor hears of the failure).
func (s *session) connect(ctx context.Context, db *topology.DB, t router.Target) (*backendConn, string, func(bool), error) {
	c, addr, release, err := s.connectTo(ctx, db, t, "")
	if err != nil && addr != "" && s.retryable(t) {
		s.srv.metrics.Retry(db.Name)
		c, addr, release, err = s.connectTo(ctx, db, t, addr)
	}
	return c, addr, release, err
}

// retryable: a statement that may run again elsewhere after its server
// failed (a read outside a transaction, not yet answered in part).
func (s *session) retryable(t router.Target) bool {
	return t.Role != router.RolePrimary && !s.tx.open && s.forwarded == 0
}

// giveBack ends a use of a pooled connection: back to its pool, or
// discarded when broken.
func (s *session) giveBack(p *pool.Pool[*backendConn], c *backendConn, addr string, broken bool) {
	s.srv.health.Done(addr)
	if broken {
		p.Discard(c)
	} else {
		p.Release(c)
	}
}

// connectTo is connect without the retry; avoid is a server that just
// failed. On a failure to reach the server it returns its address.
func (s *session) connectTo(ctx context.Context, db *topology.DB, t router.Target, avoid string) (*backendConn, string, func(bool), error) {
	if h := s.heldFor(db, t.Shard); h != nil { // the client's advisory locks live there
		release := func(broken bool) { s.releaseHeld(h, broken) }
		if err := h.conn.syncSettings(s.settings); err != nil {
			release(true)
			return nil, "", nil, classify(err)
		}
		return h.conn, h.addr, release, nil
	}
	addr, err := s.srv.health.Pick(db, t.Shard, health.PickRequest{Primary: s.wantsPrimary(t), ClientKey: s.clientKey, Avoid: avoid})
	if err != nil {
		return nil, "", nil, &clientError{code: "08006", msg: fmt.Sprintf("shard %s: %v", t.Shard.Name, err), cause: err}
	}
	p := s.srv.back.poolFor(db, addr)
	c, err := p.Acquire(ctx, db.PoolWaitTimeout)
	if errors.Is(err, pool.ErrWaitTimeout) { // the server is fine: no retry, no failure reported
		return nil, "", nil, &clientError{code: "53300", msg: fmt.Sprintf(
			"backend %s (shard %s): %v; sessions holding transactions open keep connections, or pool.max_per_backend is too small", addr, t.Shard.Name, err)}
	}
	if err != nil {
		s.srv.health.ReportFailure(addr, err)
		return nil, addr, nil, &clientError{code: "08006",
			msg: fmt.Sprintf("cannot reach backend %s (shard %s): %v", addr, t.Shard.Name, err), cause: err}
	}
	s.srv.health.Begin(addr)
	release := func(broken bool) {
		if c.advisory { // it may hold the client's advisory locks now
			s.releaseOrHold(db, t.Shard, c, addr, func(broken bool) { s.giveBack(p, c, addr, broken) }, broken)
			return
		}
		s.giveBack(p, c, addr, broken)
	}
	if err := c.syncSettings(s.settings); err != nil {
		release(true)
		var pe *pgwire.PgError
		if errors.As(err, &pe) {
			return nil, "", nil, classify(err)
		}
		// Not the server's answer: the pooled connection was dead (the
		// server restarted, or ended the session). Nothing ran yet, so the
		// statement may go elsewhere like after a failed dial.
		s.srv.health.ReportFailure(addr, err)
		s.srv.back.closeIdle(addr)
		return nil, addr, nil, &clientError{code: "08006", msg: (&backendError{addr, err}).Error()}
	}
	return c, addr, release, nil
}

// wantsPrimary: the target needs the primary, the session wrote to the
// shard within read_your_writes, or its transactions are SERIALIZABLE by
// default, which a hot standby refuses ("cannot use serializable mode in
// a hot standby").
func (s *session) wantsPrimary(t router.Target) bool {
	return t.Role == router.RolePrimary || s.recent.Primary(t.Shard, time.Now()) || s.serializable()
}

// serializable: the session's default_transaction_isolation (SET, SET
// SESSION CHARACTERISTICS, the startup packet) is serializable.
func (s *session) serializable() bool {
	sql, ok := s.settings["default_transaction_isolation"]
	return ok && strings.Contains(strings.ToLower(sql), "serializable")
}

// wrote remembers that the session wrote to these shards
// (read_your_writes). Inside a transaction the window restarts at COMMIT
// too (see finishTx): replicas replay the writes only from then on.
func (s *session) wrote(db *topology.DB, targets []router.Target) {
	if s.tx.open {
		s.tx.wrote = true
	}
	now := time.Now()
	for _, t := range targets {
		s.recent.Wrote(db, t.Shard, now)
	}
}

func roleOf(addr string, sh *topology.Shard) string {
	if addr == sh.Primary {
		return "primary"
	}
	return "replica"
}

// isFatal reports whether an ErrorResponse body has severity FATAL or
// PANIC: the server ends the session after sending it.
func isFatal(body []byte) bool {
	var sev, unlocalized []byte
	for len(body) > 0 && body[0] != 0 { // fields: a code byte, a C string; 0 ends them
		end := bytes.IndexByte(body, 0)
		if end < 0 {
			break
		}
		switch body[0] {
		case 'S':
			sev = body[1:end]
		case 'V':
			unlocalized = body[1:end]
		}
		body = body[end+1:]
	}
	if unlocalized != nil {
		sev = unlocalized // 'S' may be translated (lc_messages)
	}
	return string(sev) == "FATAL" || string(sev) == "PANIC"
}

// sessionEnded is the error of a connection whose server sent a FATAL
// ErrorResponse (a shutdown, pg_terminate_backend, an idle timeout): the
// server closes the session after it, so it is a lost connection like
// EOF, not an error of the statement. It is never relayed (a client such
// as pgx closes its own connection on a FATAL it receives, though its
// session with the proxy is fine), and a read is retried elsewhere.
func sessionEnded(c *backendConn, body []byte) error {
	msg := "FATAL error"
	if m, err := pgwire.DecodeBackend('E', body); err == nil {
		msg = pgwire.NewPgError(m.(*pgproto3.ErrorResponse)).Error()
	}
	return &backendError{c.addr, fmt.Errorf("server ended the session (%s): %w", msg, io.EOF)}
}
