package pgserver

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/shardgate/shardgate/proxy/pgwire"
	"github.com/shardgate/shardgate/router"
	"github.com/shardgate/shardgate/topology"
)

func (s *session) route(w *work, req router.Request) (*router.Plan, error) {
	if w.prep != nil {
		return s.srv.router.RoutePrepared(w.prep, req)
	}
	return s.srv.router.Route(req)
}

// tableColumns returns a table's columns in order, asking a server (the
// first shard's primary: every shard has every sharded table) the first
// time. Any DDL through the proxy forgets a database's entries; DDL run
// on the servers directly is not seen (an order learnt before it routes
// wrongly only if the key column moved, which takes a table rebuild).
func (s *session) tableColumns(ctx context.Context, db *topology.DB, table string) ([]string, error) {
	if cols, ok := s.srv.columns.Get(db.Name, table); ok {
		return cols, nil
	}
	c, _, release, err := s.connect(ctx, db, router.Target{Shard: db.Shards[0], Role: router.RolePrimary})
	if err != nil {
		return nil, err
	}
	// The table resolves through the search_path, as the INSERT's does.
	q := "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass('" + strings.ReplaceAll(table, "'", "''") +
		"') AND attnum > 0 AND NOT attisdropped ORDER BY attnum"
	cols, err := c.column(q)
	var pe *pgwire.PgError
	release(err != nil && !errors.As(err, &pe)) // a server's error leaves the connection usable
	if err != nil {
		return nil, err
	}
	if len(cols) == 0 {
		return nil, fmt.Errorf("%w: table %s has no columns on shard %s (does it exist?)", router.ErrMissingKey, table, db.Shards[0].Name)
	}
	s.srv.columns.Put(db.Name, table, cols)
	return cols, nil
}
