package myserver

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/shardgate/shardgate/router"
	"github.com/shardgate/shardgate/topology"
)

// columnCache remembers tables' column orders, learnt from a server for
// INSERTs that name no columns. Any DDL through the proxy forgets a
// database's entries; DDL run on the servers directly is not seen, and
// an INSERT routed by a stale order goes wrong only if the key column
// moved, which needs a table rebuild that a DBA runs through the proxy.
type columnCache struct {
	mu     sync.Mutex
	tables map[columnKey][]string
}

type columnKey struct{ database, table string }

func (c *columnCache) get(k columnKey) ([]string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cols, ok := c.tables[k]
	return cols, ok
}

func (c *columnCache) put(k columnKey, cols []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tables == nil {
		c.tables = map[columnKey][]string{}
	}
	c.tables[k] = cols
}

// forgetColumns drops what is known of a database's tables.
func (s *Server) forgetColumns(database string) {
	s.columns.mu.Lock()
	defer s.columns.mu.Unlock()
	for k := range s.columns.tables {
		if k.database == database {
			delete(s.columns.tables, k)
		}
	}
}

// tableColumns returns a table's columns in order, asking a server (the
// first shard's primary: every shard has every sharded table) the first
// time.
func (s *session) tableColumns(ctx context.Context, db *topology.DB, table string) ([]string, error) {
	k := columnKey{db.Name, table}
	if cols, ok := s.srv.columns.get(k); ok {
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
	s.srv.columns.put(k, cols)
	return cols, nil
}
