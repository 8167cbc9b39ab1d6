package pgserver

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/shardgate/shardgate/topology"
)

// 50 clients, each with its own named prepared statements, share 2
// server connections per server through many transactions: every
// statement runs on whichever connection is free, prepared there lazily,
// and no client sees another's data or statements.
func TestProxyNamedStatementsOnASmallPool(t *testing.T) {
	f := startFixture(t, func(c *topology.Config) { c.Databases[0].Pool.MaxPerBackend = 2 })
	ctx := t.Context()
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for client := range 50 {
		wg.Go(func() {
			conn, err := pgx.Connect(ctx, f.dsn("app", "app-secret"))
			if err != nil {
				errs <- err
				return
			}
			defer conn.Close(context.Background())
			// Named statements of this client (pgx also caches its own).
			ins := fmt.Sprintf("ins_%d", client)
			sel := fmt.Sprintf("sel_%d", client)
			if _, err := conn.Prepare(ctx, ins, "INSERT INTO users (id, name) VALUES ($1, $2)"); err != nil {
				errs <- err
				return
			}
			if _, err := conn.Prepare(ctx, sel, "SELECT name FROM users WHERE id = $1"); err != nil {
				errs <- err
				return
			}
			for i := range 10 {
				id := int64(client*1000 + i)
				tx, err := conn.Begin(ctx)
				if err != nil {
					errs <- err
					return
				}
				if _, err := tx.Exec(ctx, ins, id, fmt.Sprintf("c%d-%d", client, i)); err != nil {
					errs <- fmt.Errorf("client %d insert: %w", client, err)
					tx.Rollback(ctx)
					return
				}
				var name string
				if err := tx.QueryRow(ctx, sel, id).Scan(&name); err != nil || name != fmt.Sprintf("c%d-%d", client, i) {
					errs <- fmt.Errorf("client %d read back %q: %v", client, name, err)
					tx.Rollback(ctx)
					return
				}
				if i%3 == 2 {
					err = tx.Rollback(ctx) // some transactions roll back
				} else {
					err = tx.Commit(ctx)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// Exactly the committed rows exist: 50 clients x (10 - 3 rolled back).
	var total int64
	for shard := range 2 {
		var n int64
		if err := f.direct(t, shard).QueryRow(ctx, "SELECT count(*) FROM users").Scan(&n); err != nil {
			t.Fatal(err)
		}
		total += n
	}
	if total != 50*7 {
		t.Errorf("%d rows committed, want %d", total, 50*7)
	}
	for _, sh := range f.db.Shards {
		if s := f.srv.back.poolFor(f.db, sh.Primary).Stats(); s.Open > 2 {
			t.Errorf("pool of %s opened %d connections, max 2", sh.Primary, s.Open)
		}
	}
}
