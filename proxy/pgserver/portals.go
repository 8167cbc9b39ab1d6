package pgserver

import (
	"context"
	"strconv"

	"github.com/jackc/pgproto3/v2"

	"github.com/shardgate/shardgate/router"
	"github.com/shardgate/shardgate/topology"
)

// Row-limited Executes (a fetch size: pgjdbc's setFetchSize, postgres.js
// and asyncpg cursors) read a portal in pieces. A server keeps
// the portal open between them only inside a transaction block, so the
// proxy runs such an Execute in a transaction (the client's, or an
// implicit one up to Sync), binds it to a portal of its own name on the
// server, and sends the client's next Executes of that portal to it:
// each returns the next rows. Run anew instead, every Execute would
// return the first rows again and a client reading to the end would
// never get there.
//
// A row-limited Execute followed by Sync outside a transaction gets its
// first rows and PortalSuspended, and the portal is gone, as on a server.
// One of a query that spans shards returns all its rows at once (then
// CommandComplete): merged rows cannot be read in pieces.

// serverPortal is a client portal left open, suspended or run to its end,
// on the transaction's connection to its shard.
type serverPortal struct {
	name string
}

// rowLimited reports whether the Execute asks for at most some rows.
func (e *extExec) rowLimited() bool { return e.maxRows > 0 }

// newServerPortal names a server portal for a row-limited Execute.
func (s *session) newServerPortal() string {
	s.ext.portalSeq++
	return "sg_portal_" + strconv.FormatUint(s.ext.portalSeq, 10)
}

// executePortal runs a client's Execute of portal p (named name).
func (s *session) executePortal(ctx context.Context, name string, p *portal, maxRows uint32) error {
	e := &extExec{stmt: p.stmt, oids: p.stmt.oids, bind: p.bind, describe: p.describe, maxRows: maxRows}
	p.describe = false
	if p.open != nil {
		e.portal, e.resume = p.open.name, true
	}
	if !s.tx.open && !s.implicitOff {
		next, known := s.r.NextType()
		// More of the pipeline follows before Sync: as in PostgreSQL it
		// runs as one transaction. A row-limited Execute needs one to
		// keep its portal, unless Sync is known to come next.
		if known && next != 'S' || !known && e.rowLimited() {
			s.beginImplicit()
		}
	}
	if e.rowLimited() && s.tx.open && e.portal == "" {
		e.portal = s.newServerPortal()
	}
	s.suspended = false
	err := s.execute(ctx, &work{sql: p.stmt.sql, prep: p.stmt.prep, ext: e})
	switch {
	case e.portal != "" && s.tx.open && (e.bound || e.resume):
		if p.open == nil {
			p.open = &serverPortal{name: e.portal}
			s.ext.openPortals++
		}
	case s.suspended && !s.tx.open:
		// Suspended outside a transaction: the Sync that follows ends
		// it and the portal with it.
		delete(s.ext.portals, name)
	case name == "":
		delete(s.ext.portals, "") // the unnamed portal lasts one Execute here
	}
	return err
}

// dropOpenPortals forgets the client portals that were open on servers
// once the transaction that kept them there has ended.
func (s *session) dropOpenPortals() {
	if s.ext.openPortals == 0 || s.tx.open {
		return
	}
	for name, p := range s.ext.portals {
		if p.open != nil {
			delete(s.ext.portals, name)
		}
	}
	s.ext.openPortals = 0
}

// unlimited is w with its Execute asking for every row, on the unnamed
// portal.
func (w *work) unlimited() *work {
	e := *w.ext
	e.maxRows, e.portal = 0, ""
	c := *w
	c.ext = &e
	return &c
}

// sendResume asks for the next rows of a portal open on c.
func (e *extExec) sendResume(c *backendConn) {
	if e.describe {
		c.w.Send(&pgproto3.Describe{ObjectType: 'P', Name: e.portal})
	}
	c.w.Send(&pgproto3.Execute{Portal: e.portal, MaxRows: e.maxRows})
	c.w.Send(&pgproto3.Sync{})
}

// describeCursor answers a Describe of a portal the session does not
// know: a cursor DECLAREd in SQL is a portal of that name on the server
// that runs it (psycopg describes its named cursors so). It lives on the
// transaction's shard, or outside a transaction on the connection the
// client keeps for its WITH HOLD cursors. ok is false when there is
// neither.
func (s *session) describeCursor(ctx context.Context, name string) (ok bool, err error) {
	db, found := s.srv.store.Current().Database(topology.Postgres, s.dbName)
	if !found {
		return false, nil
	}
	var l *lease
	switch {
	case s.tx.pinned() != nil:
		sh := s.tx.pinned()
		if at := s.tx.cursors[name]; at != nil {
			sh = at
		}
		if l, err = s.join(ctx, db, sh, false); err != nil {
			return true, err
		}
	case s.heldShard(db) != nil:
		c, _, release, err := s.connect(ctx, db, router.Target{Shard: s.heldShard(db), Role: router.RolePrimary})
		if err != nil {
			return true, err
		}
		l = &lease{conn: c, release: release}
	default:
		return false, nil
	}
	c := l.conn
	c.w.Send(&pgproto3.Describe{ObjectType: 'P', Name: name})
	c.w.Send(&pgproto3.Sync{})
	if err := c.w.Flush(); err != nil {
		l.release(true)
		return true, &clientError{code: "08006", msg: (&backendError{c.addr, err}).Error()}
	}
	var result error
	for {
		typ, body, err := c.r.ReadRaw()
		if err != nil {
			l.release(true)
			return true, &clientError{code: "08006", msg: (&backendError{c.addr, err}).Error()}
		}
		switch typ {
		case 'T', 'n', 'N':
			s.w.WriteRaw(typ, body)
		case 'E':
			if isFatal(body) {
				l.release(true)
				return true, &clientError{code: "08006", msg: sessionEnded(c, body).Error()}
			}
			c.failed(body)
			s.w.WriteRaw(typ, body)
			result = errRelayed
		case 'Z':
			l.release(len(body) != 1)
			return true, result
		}
	}
}

// followCursor keeps track of the transaction's cursors: a DECLARE notes
// its shard, and a FETCH, MOVE or CLOSE of a cursor on another shard than
// the one the transaction is pinned to (a multi-shard transaction) is
// routed again to it.
func (s *session) followCursor(w *work, req router.Request, plan *router.Plan) (*router.Plan, error) {
	st := plan.Statement
	switch {
	case st.Cursor && st.Object != "" && plan.Route == router.RouteSingle:
		if s.tx.cursors == nil {
			s.tx.cursors = map[string]*topology.Shard{}
		}
		s.tx.cursors[st.Object] = plan.Targets[0].Shard
	case st.Kind == router.KindOther && st.Object != "" && len(st.Tables) == 0:
		if sh := s.tx.cursors[st.Object]; sh != nil && sh != req.Session.Pinned {
			req.Session.Pinned = sh
			return s.route(w, req)
		}
	}
	return plan, nil
}
