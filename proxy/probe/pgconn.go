package probe

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/jackc/pgproto3/v2"
	"github.com/shardgate/shardgate/proxy/pgwire"
	"github.com/shardgate/shardgate/topology"
)

// pgConn is one logged-in probe session to a PostgreSQL server, speaking
// the simple query protocol through the proxy's own pgwire stack.
type pgConn struct {
	nc   net.Conn
	r    *pgwire.Reader
	w    *pgwire.Writer
	cred topology.Backend // what it logged in with: a reload may change it
}

// dialPG connects and logs in, all within ctx.
func dialPG(ctx context.Context, addr string, cred topology.Backend) (*pgConn, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, topology.Network(addr), addr)
	if err != nil {
		return nil, ioError(ctx, addr, err)
	}
	conf, err := cred.TLSConfig(addr)
	if err == nil {
		var tc net.Conn
		if tc, err = pgwire.StartTLS(ctx, nc, conf); err == nil {
			nc = tc
		}
	}
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("TLS to %s: %w", addr, err)
	}
	params := map[string]string{"application_name": applicationName}
	_, r, w, err := pgwire.BackendLogin(ctx, nc, cred.User, cred.Password, cred.Database, params)
	if err != nil {
		nc.Close()
		return nil, ioError(ctx, addr, err)
	}
	return &pgConn{nc: nc, r: r, w: w, cred: cred}, nil
}

// errServer marks an ErrorResponse: the server answered, so the
// connection is still in step and usable.
var errServer = errors.New("server error")

// queryRow runs sql and returns its first row. A server error comes back
// wrapping errServer (and the *pgwire.PgError); any other error means the
// connection is broken and must be closed.
func (c *pgConn) queryRow(ctx context.Context, sql string) ([]value, error) {
	release := bind(ctx, c.nc)
	defer release()
	if err := c.w.Send(&pgproto3.Query{String: sql}); err != nil {
		return nil, err
	}
	if err := c.w.Flush(); err != nil {
		return nil, err
	}
	var row []value
	var qerr error
	for {
		typ, body, err := c.r.ReadRaw()
		if err != nil {
			return nil, err
		}
		msg, err := pgwire.DecodeBackend(typ, body)
		if err != nil {
			return nil, err
		}
		switch m := msg.(type) {
		case *pgproto3.DataRow:
			if row == nil {
				row = make([]value, len(m.Values))
				for i, v := range m.Values {
					// Copy: the values alias the reader's buffer.
					row[i] = value{s: string(v), null: v == nil}
				}
			}
		case *pgproto3.ErrorResponse:
			qerr = fmt.Errorf("%w: %w", errServer, pgwire.NewPgError(m))
		case *pgproto3.ReadyForQuery:
			if qerr != nil {
				return nil, qerr
			}
			if row == nil {
				return nil, fmt.Errorf("%w: %q returned no row", pgwire.ErrProtocol, sql)
			}
			return row, nil
		}
		// RowDescription, CommandComplete, notices and parameter changes
		// need no answer.
	}
}

func (c *pgConn) close() {
	// Terminate lets the server end the session cleanly instead of logging
	// an unexpected EOF; it is best effort.
	_ = c.nc.SetDeadline(deadlineSoon())
	_ = c.w.Send(&pgproto3.Terminate{})
	_ = c.w.Flush()
	_ = c.nc.Close()
}
