package pgserver

import (
	"errors"

	"github.com/jackc/pgproto3/v2"

	"github.com/shardgate/shardgate/proxy/console"
	"github.com/shardgate/shardgate/proxy/drain"
	"github.com/shardgate/shardgate/topology"
)

// EachClient calls f for every connected client.
func (s *Server) EachClient(f func(drain.ConnInfo)) { s.conns.Each(f) }

// consoleResult runs a SHOW SHARDGATE statement for the session's user,
// who must be an admin of the topology in force.
func (s *session) consoleResult(sql string) (*console.Result, error) {
	snap := s.srv.store.Current()
	if u, ok := snap.User(s.user); !ok || !u.Admin {
		return nil, &clientError{code: "42501", msg: "permission denied: SHOW SHARDGATE needs a user with admin: true in the topology"}
	}
	db, _ := snap.Database(topology.Postgres, s.dbName)
	r, err := console.Run(sql, db, s.srv.opts.Console)
	switch {
	case errors.Is(err, console.ErrUnknown):
		return nil, &clientError{code: "42601", msg: err.Error()}
	case err != nil:
		return nil, &clientError{code: "22023", msg: err.Error()}
	}
	return r, nil
}

// console answers a SHOW SHARDGATE statement: its rows, preceded by their
// description unless the client had it from a Describe of the statement.
func (s *session) console(w *work) error {
	r, err := s.consoleResult(w.sql)
	if err != nil {
		return err
	}
	if w.ext == nil || w.ext.describe {
		s.w.Send(consoleRowDescription(r))
	}
	for _, row := range r.Rows {
		vals := make([][]byte, len(row))
		for i, v := range row {
			vals[i] = []byte(v)
		}
		s.w.Send(&pgproto3.DataRow{Values: vals})
	}
	return s.complete("SHOW")
}

// describeConsole answers a Describe of a SHOW SHARDGATE statement
// (statement: with its parameter description) without a server.
func (s *session) describeConsole(sql string, statement bool) error {
	r, err := s.consoleResult(sql)
	if err != nil {
		return err
	}
	if statement {
		s.w.Send(&pgproto3.ParameterDescription{})
	}
	s.w.Send(consoleRowDescription(r))
	return nil
}

// consoleRowDescription describes a result's columns, all text: a
// binary-format request reads the same bytes for text.
func consoleRowDescription(r *console.Result) *pgproto3.RowDescription {
	fields := make([]pgproto3.FieldDescription, len(r.Columns))
	for i, c := range r.Columns {
		fields[i] = pgproto3.FieldDescription{Name: []byte(c), DataTypeOID: oidText, DataTypeSize: -1, TypeModifier: -1}
	}
	return &pgproto3.RowDescription{Fields: fields}
}
