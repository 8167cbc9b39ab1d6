package myserver

import (
	"errors"

	"github.com/shardgate/shardgate/proxy/console"
	"github.com/shardgate/shardgate/proxy/drain"
	"github.com/shardgate/shardgate/proxy/mysqlwire"
	"github.com/shardgate/shardgate/topology"
)

// EachClient calls f for every connected client.
func (s *Server) EachClient(f func(drain.ConnInfo)) { s.conns.Each(f) }

// typeVarString is the column type of the console's text columns.
const typeVarString = 0xfd

// console answers a SHOW SHARDGATE statement for the session's user, who
// must be an admin of the topology in force. It needs no database: an
// admin may connect without one.
func (s *session) console(w *work) error {
	snap := s.srv.store.Current()
	if u, ok := snap.User(s.c.User); !ok || !u.Admin {
		return &mysqlwire.Error{Code: 1227, State: "42000", Message: "Access denied; SHOW SHARDGATE needs a user with admin: true in the topology"}
	}
	var db *topology.DB
	if s.dbName != "" {
		db, _ = snap.Database(topology.MySQL, s.dbName)
	}
	r, err := console.Run(w.sql, db, s.srv.opts.Console)
	switch {
	case errors.Is(err, console.ErrUnknown):
		return &mysqlwire.Error{Code: 1064, State: "42000", Message: err.Error()}
	case err != nil:
		return &mysqlwire.Error{Code: 1210, State: "HY000", Message: err.Error()}
	}
	cols := make([]mysqlwire.Column, len(r.Columns))
	for i, c := range r.Columns {
		cols[i] = mysqlwire.Column{Catalog: "def", Name: c, Charset: 45, Length: 1024, Type: typeVarString}
	}
	rows := make([][][]byte, len(r.Rows))
	for i, row := range r.Rows {
		rows[i] = make([][]byte, len(row))
		for j, v := range row {
			rows[i][j] = []byte(v)
		}
	}
	return s.sendRows(cols, rows, w)
}
