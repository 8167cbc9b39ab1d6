package pgserver

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgproto3/v2"

	"github.com/shardgate/shardgate/proxy/pgwire"
	"github.com/shardgate/shardgate/topology"
)

// backendConn is one logged-in connection to a PostgreSQL server.
type backendConn struct {
	addr   string
	born   time.Time // for the pool's max_lifetime
	nc     net.Conn
	r      *pgwire.Reader
	w      *pgwire.Writer
	params map[string]string // ParameterStatus values the server reported
	pid    uint32
	secret uint32
	// sets are the session settings applied on this connection beyond its
	// login state (variable name -> the SET statement that set it), so a
	// client's settings are re-applied only when they differ.
	sets map[string]string
	// prepared maps statement text (and parameter types) to the name it is
	// prepared under on this connection.
	prepared   map[string]serverStmt
	nextStmt   int
	lastParsed string // key of the statement the last send parsed
	// order lists the keys of prepared, oldest first: at most
	// maxStatementsPerConn stay prepared (see statementName).
	order  []string
	keyBuf []byte        // statementName's scratch
	bind   pgproto3.Bind // a shape's Bind, kept here so sending it allocates nothing
	// opening are the transaction's deferred BEGIN... that join left for
	// the next send to put in front of its statement.
	opening []string
	// lastTag and lastStatus are the command tag and transaction status
	// of the last statement run with query.
	lastTag    string
	lastStatus byte
	// textOrder is the collation tag of its database's text ("":
	// bytewise), for merges (see collation.go).
	textOrder string
	// advisory: a statement that may take or release a session-level
	// advisory lock ran here since the last check (see advisory.go).
	advisory bool
	// schema counts schema changes (shared by the connections of a
	// server); boundName is the statement the last send bound (see
	// staleplans.go).
	schema    *atomic.Uint64
	boundName string
}

// maxBackendMessage bounds one message from a server (a huge DataRow).
const maxBackendMessage = 1 << 30

func loginBackend(ctx context.Context, nc net.Conn, addr string, cred topology.Backend) (*backendConn, error) {
	sess, r, w, err := pgwire.BackendLogin(ctx, nc, cred.User, cred.Password, cred.Database,
		map[string]string{"application_name": "shardgate", "client_encoding": "UTF8"})
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("log in to %s: %w", addr, err)
	}
	return &backendConn{addr: addr, nc: nc, r: r, w: w, params: sess.Params, pid: sess.PID, secret: sess.Secret, sets: map[string]string{}}, nil
}

// Born is when the connection was made (the pool ages connections).
func (c *backendConn) Born() time.Time { return c.born }

func (c *backendConn) Close() error {
	c.w.Send(&pgproto3.Terminate{})
	c.w.Flush()
	return c.nc.Close()
}

// syncSettings makes the connection's settings equal the session's
// (variable name -> the client's SET statement) with one round trip, and
// none when they already are (the common case).
func (c *backendConn) syncSettings(want map[string]string) error {
	var stmts []string
	for name, stmt := range want {
		if c.sets[name] != stmt {
			stmts = append(stmts, stmt)
		}
	}
	for name := range c.sets {
		if _, ok := want[name]; !ok {
			stmts = append(stmts, "RESET "+quoteIdent(name))
		}
	}
	if len(stmts) == 0 {
		return nil
	}
	if err := c.simple(strings.Join(stmts, "; ")); err != nil {
		return err
	}
	c.sets = make(map[string]string, len(want))
	for k, v := range want {
		c.sets[k] = v
	}
	return nil
}

// simple runs a statement whose results are not wanted and waits for
// ReadyForQuery; a server error comes back as *pgwire.PgError.
func (c *backendConn) simple(sql string) error {
	_, err := c.query(sql, false)
	return err
}

// column runs a query and returns the first column of its rows as text
// (NULL as "").
func (c *backendConn) column(sql string) ([]string, error) {
	return c.query(sql, true)
}

// command runs a statement and returns its command tag ("COMMIT", or
// "ROLLBACK" for a COMMIT of a failed transaction).
func (c *backendConn) command(sql string) (string, error) {
	_, err := c.query(sql, false)
	return c.lastTag, err
}

// idle reports whether the server said, at the end of the last statement
// run with simple, column or command, that no transaction is open.
func (c *backendConn) idle() bool { return c.lastStatus == 'I' }

func (c *backendConn) query(sql string, collect bool) ([]string, error) {
	c.lastTag, c.lastStatus = "", 0
	if err := c.w.Send(&pgproto3.Query{String: sql}); err != nil {
		return nil, err
	}
	if err := c.w.Flush(); err != nil {
		return nil, err
	}
	var firstErr error
	var out []string
	for {
		typ, body, err := c.r.ReadRaw()
		if err != nil {
			return nil, err
		}
		switch typ {
		case 'D':
			if !collect {
				continue
			}
			msg, derr := pgwire.DecodeBackend(typ, body)
			if derr != nil {
				return nil, derr
			}
			if vals := msg.(*pgproto3.DataRow).Values; len(vals) > 0 {
				out = append(out, string(vals[0]))
			}
		case 'C':
			c.lastTag = string(trimNul(body))
		case 'E':
			if firstErr == nil {
				msg, derr := pgwire.DecodeBackend(typ, body)
				if derr != nil {
					return nil, derr
				}
				firstErr = pgwire.NewPgError(msg.(*pgproto3.ErrorResponse))
			}
		case 'S':
			c.noteParameter(body)
		case 'Z':
			if len(body) == 1 {
				c.lastStatus = body[0]
			}
			return out, firstErr
		}
	}
}

// noteParameter records a ParameterStatus the server sent.
func (c *backendConn) noteParameter(body []byte) {
	msg, err := pgwire.DecodeBackend('S', body)
	if err != nil {
		return
	}
	ps := msg.(*pgproto3.ParameterStatus)
	c.params[ps.Name] = ps.Value
}

// loginValue is a reported parameter's value as the connection logged in
// (false: the server does not report it, or a session's setting changed
// it since).
func (c *backendConn) loginValue(name string) (string, bool) {
	if _, changed := c.sets[name]; changed {
		return "", false
	}
	for k, v := range c.params {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}

func quoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}
