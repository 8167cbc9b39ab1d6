package myserver

import (
	"context"
	"fmt"
	"strings"

	"github.com/shardgate/shardgate/router"
	"github.com/shardgate/shardgate/topology"
)

// tableColumns returns a table's columns in order, asking a server (the
// first shard's primary: every shard has every sharded table) the first
// time. Any DDL through the proxy forgets a database's entries; DDL run
// on the servers directly is not seen (an order learnt before it routes
// wrongly only if the key column moved, which takes a table rebuild).
func (s *session) tableColumns(ctx context.Context, db *topology.DB, table string) ([]string, error) {
	if cols, ok := s.srv.columns.Get(db.Name, table); ok {
		return cols, nil
	}
	l, err := s.connect(ctx, db, router.Target{Shard: db.Shards[0], Role: router.RolePrimary})
	if err != nil {
		return nil, err
	}
	q := "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '" +
		strings.NewReplacer(`\`, `\\`, `'`, `''`).Replace(table) + "' ORDER BY ORDINAL_POSITION"
	_, rows, err := l.conn.Query(q)
	s.release(l, err != nil && !isServerError(err))
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("%w: table %s has no columns on shard %s (does it exist?)", router.ErrMissingKey, table, db.Shards[0].Name)
	}
	cols := make([]string, len(rows))
	for i, r := range rows {
		cols[i] = string(r[0])
	}
	s.srv.columns.Put(db.Name, table, cols)
	return cols, nil
}
