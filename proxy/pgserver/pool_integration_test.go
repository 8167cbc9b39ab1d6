package pgserver

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shardgate/shardgate/topology"
	"github.com/shardgate/shardgate/topology/localcluster"
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

// pool.max_lifetime closes a server connection older than it when it
// goes back to its pool: with a pool of one, a client's next statement
// then runs in a new server session. Under the default (1h) it runs in
// the same one.
func TestPoolMaxLifetime(t *testing.T) {
	c := startCluster(t, localcluster.Options{})
	ctx := t.Context()
	// pids runs two statements on the unsharded primary and says in which
	// server sessions they ran, and how many connections the pools retired.
	pids := func(lifetime *topology.Duration) (first, second uint32, retired uint64) {
		f := serveProxy(t, c, Options{}, func(cfg *topology.Config) {
			cfg.Databases[0].Pool.MaxPerBackend = 1
			cfg.Databases[0].Pool.MaxLifetime = lifetime
		})
		conn := f.connect(t)
		for _, pid := range []*uint32{&first, &second} {
			if err := conn.QueryRow(ctx, "/* role=primary */ SELECT pg_backend_pid()").Scan(pid); err != nil {
				t.Fatal(err)
			}
		}
		for _, p := range f.srv.PoolStats() {
			retired += p.Retired
		}
		return first, second, retired
	}
	if a, b, r := pids(nil); a != b || r != 0 {
		t.Errorf("default max_lifetime: the second statement ran in server session %d, the first in %d (%d retired)", b, a, r)
	}
	tiny := topology.Duration(time.Nanosecond)
	if a, b, r := pids(&tiny); a == b || r < 2 {
		t.Errorf("max_lifetime 1ns: statements ran in server sessions %d and %d, %d connections retired (want 2 sessions, 2 retired)", a, b, r)
	}
}
