package pgserver

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgproto3/v2"

	"github.com/shardgate/shardgate/proxy/console"
	"github.com/shardgate/shardgate/proxy/pgwire"
	"github.com/shardgate/shardgate/router"
	"github.com/shardgate/shardgate/topology"
)

// The extended query protocol. Statements and portals live in the
// session; backend connections only see them when an Execute or a
// Describe needs a server, each as one Parse/Bind/Execute/Sync exchange
// on whichever pooled connection the route picks (statements are
// prepared there once per connection). Parse, Bind and Close are answered
// locally. A pipeline of several Executes outside a transaction runs in
// an implicit transaction up to its Sync, as in PostgreSQL (see
// beginImplicit).

// maxSessionStatements bounds the statements (and the portals) one client
// keeps: a client that never closes them would otherwise grow the proxy's
// memory without end (a variable for tests).
var maxSessionStatements = 16384

type preparedStmt struct {
	sql  string
	oids []uint32
	prep *router.Prepared // the text tokenized once for routing (named statements)
	// epoch is the schema epoch the client's view of it is from, and
	// rowDesc the RowDescription (empty: NoData) a Describe gave the
	// client, nil before one (see staleplans.go).
	epoch   uint64
	rowDesc []byte
}

type portal struct {
	stmt     *preparedStmt
	bind     *pgproto3.Bind
	describe bool          // Describe P is pending: answer it with the Execute
	open     *serverPortal // a row-limited Execute left it open on a server
}

type extState struct {
	stmts   map[string]*preparedStmt
	portals map[string]*portal
	failed  bool // an error was sent: skip messages until Sync
	// portalSeq names server portals; openPortals counts the client
	// portals open on servers (see portals.go).
	portalSeq   uint64
	openPortals int
	// pending: messages arrived since the last Sync. The client is in the
	// middle of a batch, so a drain must not end the session here.
	pending bool
}

func (s *session) extended(ctx context.Context, typ byte, body []byte) error {
	if s.ext.stmts == nil {
		s.ext.stmts, s.ext.portals = map[string]*preparedStmt{}, map[string]*portal{}
	}
	s.ext.pending = typ != 'S'
	switch typ {
	case 'S':
		s.ext.failed = false
		if err := s.flushDescribes(ctx); err != nil {
			return err
		}
		return s.syncPoint()
	case 'H':
		if err := s.flushDescribes(ctx); err != nil {
			return err
		}
		return s.w.Flush()
	}
	if s.ext.failed {
		return nil
	}
	msg, err := pgwire.DecodeFrontend(typ, body)
	if err != nil {
		return s.fatal("08P01", err.Error())
	}
	if _, isExec := msg.(*pgproto3.Execute); !isExec {
		if err := s.flushDescribes(ctx); err != nil {
			return err
		}
	}
	err = s.extMessage(ctx, msg)
	var ce *clientError
	if errors.As(err, &ce) {
		if ce != errRelayed {
			s.sendError(ce)
		}
		s.ext.failed = true
		if s.tx.open {
			s.tx.failed = true
		}
		return nil
	}
	return err
}

func (s *session) extMessage(ctx context.Context, msg pgproto3.FrontendMessage) error {
	switch m := msg.(type) {
	case *pgproto3.Parse:
		_, exists := s.ext.stmts[m.Name]
		_, sqlExists := s.sqlStmts[m.Name]
		if (exists || sqlExists) && m.Name != "" {
			return &clientError{code: "42P05", msg: fmt.Sprintf("prepared statement %q already exists", m.Name)}
		}
		if !exists && len(s.ext.stmts) >= maxSessionStatements {
			return &clientError{code: "53400", msg: fmt.Sprintf("shardgate: a client may keep at most %d prepared statements; close (DEALLOCATE) the ones no longer used", maxSessionStatements)}
		}
		ps := &preparedStmt{sql: m.Query, oids: append([]uint32(nil), m.ParameterOIDs...), epoch: s.srv.back.schemaEpoch.Load()}
		switch prev := s.ext.stmts[""]; {
		case m.Name != "": // executed many times: tokenize once
			ps.prep = s.srv.router.Prepare(m.Query)
		case prev != nil && prev.sql == m.Query:
			// The same unnamed text again (a driver that never names its
			// statements, in a loop): tokenize it once, on its second use.
			if prev.prep == nil {
				prev.prep = s.srv.router.Prepare(m.Query)
			}
			ps.prep = prev.prep
		}
		s.ext.stmts[m.Name] = ps
		s.w.Send(&pgproto3.ParseComplete{})
	case *pgproto3.Bind:
		st, ok := s.ext.stmts[m.PreparedStatement]
		if !ok {
			return &clientError{code: "26000", msg: fmt.Sprintf("prepared statement %q does not exist", m.PreparedStatement)}
		}
		if _, exists := s.ext.portals[m.DestinationPortal]; !exists && len(s.ext.portals) >= maxSessionStatements {
			return &clientError{code: "53400", msg: fmt.Sprintf("shardgate: a client may keep at most %d portals; close the ones no longer used", maxSessionStatements)}
		}
		s.ext.portals[m.DestinationPortal] = &portal{stmt: st, bind: copyBind(m)}
		s.w.Send(&pgproto3.BindComplete{})
	case *pgproto3.Describe:
		if m.ObjectType == 'P' {
			p, ok := s.ext.portals[m.Name]
			if !ok && m.Name != "" {
				if ok, err := s.describeCursor(ctx, m.Name); ok {
					return err
				}
			}
			if !ok {
				return &clientError{code: "34000", msg: fmt.Sprintf("portal %q does not exist", m.Name)}
			}
			p.describe = true
			return nil
		}
		st, ok := s.ext.stmts[m.Name]
		if !ok {
			return &clientError{code: "26000", msg: fmt.Sprintf("prepared statement %q does not exist", m.Name)}
		}
		return s.describeStatement(ctx, st)
	case *pgproto3.Execute:
		p, ok := s.ext.portals[m.Portal]
		if !ok {
			return &clientError{code: "34000", msg: fmt.Sprintf("portal %q does not exist", m.Portal)}
		}
		return s.executePortal(ctx, m.Portal, p, m.MaxRows)
	case *pgproto3.Close:
		if m.ObjectType == 'S' {
			delete(s.ext.stmts, m.Name)
			delete(s.sqlStmts, m.Name) // one namespace with SQL PREPARE, as on a server
		} else {
			delete(s.ext.portals, m.Name)
		}
		s.w.Send(&pgproto3.CloseComplete{})
	default:
		return s.fatal("08P01", fmt.Sprintf("unexpected message %T", msg))
	}
	return nil
}

// forgetStmt drops the client's statement st after a server refused its
// Parse: the proxy answered ParseComplete itself, but on a server a
// failed Parse leaves no statement, and a client may Parse the same name
// again.
func (s *session) forgetStmt(st *preparedStmt) {
	for name, x := range s.ext.stmts {
		if x == st {
			delete(s.ext.stmts, name)
		}
	}
}

func copyBind(m *pgproto3.Bind) *pgproto3.Bind {
	b := &pgproto3.Bind{
		ParameterFormatCodes: append([]int16(nil), m.ParameterFormatCodes...),
		ResultFormatCodes:    append([]int16(nil), m.ResultFormatCodes...),
		Parameters:           make([][]byte, len(m.Parameters)),
	}
	for i, p := range m.Parameters {
		if p != nil {
			b.Parameters[i] = append([]byte{}, p...) // the message body is reused
		}
	}
	return b
}

// flushDescribes answers Describe P requests that no Execute followed.
func (s *session) flushDescribes(ctx context.Context) error {
	for _, p := range s.ext.portals {
		if !p.describe {
			continue
		}
		p.describe = false
		if err := s.describePortal(ctx, p); err != nil {
			var ce *clientError
			if errors.As(err, &ce) {
				if ce != errRelayed {
					s.sendError(ce)
				}
				s.ext.failed = true
				return nil
			}
			return err
		}
	}
	return nil
}

// describeLease is the connection a Describe runs on: the transaction's
// first shard once it has one (the statement may name a table created in
// it), else a pooled connection to the unsharded shard's primary (every
// shard has the same schema). A transaction that has touched no shard yet
// is not started anywhere by a Describe: the statement that follows picks
// its shard (pgx describes a new statement inside the transaction before
// it binds the key). inTx: the lease is the transaction's connection.
func (s *session) describeLease(ctx context.Context, db *topology.DB) (l *lease, inTx bool, err error) {
	if pinned := s.tx.pinned(); pinned != nil {
		l, err = s.join(ctx, db, pinned, false)
		return l, true, err
	}
	c, _, release, err := s.connect(ctx, db, router.Target{Shard: db.Unsharded, Role: router.RolePrimary})
	if err != nil {
		return nil, false, err
	}
	return &lease{conn: c, release: release}, false, nil
}

// describeStatement asks a server for a statement's parameter and row
// descriptions and remembers the parameter types (binary parameters are
// decoded by them for routing).
func (s *session) describeStatement(ctx context.Context, st *preparedStmt) error {
	if console.IsCommand(st.sql) {
		return s.describeConsole(st.sql, true)
	}
	st.rowDesc = []byte{} // NoData unless a RowDescription comes
	return s.describe(ctx, st, false, func(c *backendConn, name string) {
		c.w.Send(&pgproto3.Describe{ObjectType: 'S', Name: name})
	})
}

// describePortal answers a Describe P that no Execute followed: the
// statement's row description with the portal's formats, from a server.
func (s *session) describePortal(ctx context.Context, p *portal) error {
	if console.IsCommand(p.stmt.sql) {
		return s.describeConsole(p.stmt.sql, false)
	}
	return s.describe(ctx, p.stmt, true, func(c *backendConn, name string) {
		b := *p.bind
		b.PreparedStatement = name
		c.w.Send(&b)
		c.w.Send(&pgproto3.Describe{ObjectType: 'P'})
	})
}

// describe runs a Describe exchange on the connection a Describe uses:
// Parse if the connection lacks the statement, what ask sends, Sync; the
// descriptions go to the client.
func (s *session) describe(ctx context.Context, st *preparedStmt, isPortal bool, ask func(c *backendConn, name string)) error {
	db, ok := s.srv.store.Current().Database(topology.Postgres, s.dbName)
	if !ok {
		return s.fatal("3D000", fmt.Sprintf("database %q no longer exists in the topology", s.dbName))
	}
	l, inTx, err := s.describeLease(ctx, db)
	if err != nil {
		return err
	}
	c := l.conn
	name, key, prepared := c.statementName(st.sql, st.oids, st.epoch)
	c.lastParsed = ""
	if !prepared {
		c.w.Send(&pgproto3.Parse{Name: name, Query: st.sql, ParameterOIDs: st.oids})
		c.lastParsed = key
	}
	ask(c, name)
	c.w.Send(&pgproto3.Sync{})
	if err := c.w.Flush(); err != nil {
		l.release(true)
		return &clientError{code: "08006", msg: (&backendError{c.addr, err}).Error()}
	}
	var result error
	for {
		typ, body, err := c.r.ReadRaw()
		if err != nil {
			l.release(true)
			return &clientError{code: "08006", msg: (&backendError{c.addr, err}).Error()}
		}
		switch typ {
		case '1':
			c.lastParsed = "" // the Parse went through
		case 't':
			if msg, derr := pgwire.DecodeBackend(typ, body); derr == nil {
				st.oids = append([]uint32(nil), msg.(*pgproto3.ParameterDescription).ParameterOIDs...)
			}
			s.w.WriteRaw(typ, body)
		case 'T':
			if st.rowDesc != nil && !isPortal {
				st.rowDesc = append(st.rowDesc[:0], body...)
			}
			s.w.WriteRaw(typ, body)
		case 'n', 'N':
			s.w.WriteRaw(typ, body)
		case 'E':
			if isFatal(body) {
				l.release(true)
				return &clientError{code: "08006", msg: sessionEnded(c, body).Error()}
			}
			if !isPortal {
				st.rowDesc = nil // not described after all
			}
			if c.lastParsed != "" {
				s.forgetStmt(st) // its Parse failed: on a server it would not exist
			}
			c.failed(body)
			s.w.WriteRaw(typ, body)
			result = errRelayed
		case 'Z':
			l.release(len(body) != 1 || (!inTx && body[0] != 'I'))
			return result
		}
	}
}
