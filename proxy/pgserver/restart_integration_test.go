package pgserver

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shardgate/shardgate/proxy/netcheck"
	"github.com/shardgate/shardgate/proxy/pool"
)

// A shard primary that restarts between statements leaves the proxy's
// idle connections to it dead. A write is never retried elsewhere, so a
// dead connection handed out fails the client's statement: after a quick
// restart (the connections were used less than netcheck.QuietFor ago, so
// they are lent unchecked) one write may fail, and its failure drops the
// other idle connections; after a restart that took longer, the pool
// looks at each idle connection before lending it, drops the dead ones,
// and dials afresh: no write fails.
func TestProxyPrimaryRestartBetweenWrites(t *testing.T) {
	f := startFixture(t)
	ctx := t.Context()
	client, err := pgxpool.New(ctx, f.dsn("app", "app-secret")+"&pool_max_conns=6")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(client.Close)
	var key int64 = 1
	for f.shardOf(key) != 1 {
		key++
	}
	if _, err := client.Exec(ctx, "INSERT INTO users (id, name, country) VALUES ($1, 'u', '0')", key); err != nil {
		t.Fatal(err)
	}
	primary := f.cluster.Shards[1].Primary
	done := 0
	for round, pause := range []time.Duration{0, netcheck.QuietFor + 100*time.Millisecond} {
		// Several pooled connections to the primary that will restart: six
		// writes at once, each holding its connection for 200ms.
		var wg sync.WaitGroup
		for range 6 {
			wg.Go(func() {
				if _, err := client.Exec(ctx, "UPDATE users SET name = name || '' WHERE id = $1 AND pg_sleep(0.2) IS NOT NULL", key); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		before := f.poolStat(t, primary.Addr)
		if before.Idle < 2 {
			t.Fatalf("round %d: %d idle connections to the primary before the restart, want several", round, before.Idle)
		}
		if err := primary.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		time.Sleep(pause)
		if err := primary.Start(ctx); err != nil {
			t.Fatal(err)
		}
		var failures []string
		for range 10 {
			if _, err := client.Exec(ctx, "UPDATE users SET country = (country::int + 1)::text WHERE id = $1", key); err != nil {
				failures = append(failures, err.Error())
			} else {
				done++
			}
		}
		after := f.poolStat(t, primary.Addr)
		t.Logf("round %d (restart with a %v pause): %d idle before, %d dropped as dead, failed writes %q",
			round, pause, before.Idle, after.DeadIdle-before.DeadIdle, failures)
		if max := 1 - round; len(failures) > max {
			t.Errorf("round %d: %d writes failed after the primary restarted, want at most %d", round, len(failures), max)
		}
		if round == 1 && after.DeadIdle == before.DeadIdle {
			t.Errorf("round %d: no idle connection dropped as dead (%d idle before the restart)", round, before.Idle)
		}
	}
	var country string
	if err := f.direct(t, 1).QueryRow(ctx, "SELECT country FROM users WHERE id = $1", key).Scan(&country); err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprint(done); country != want {
		t.Errorf("country on the restarted primary %q, want %q (every successful write once)", country, want)
	}
}

// poolStat is the state of the proxy's pool of connections to addr.
func (f *fixture) poolStat(t *testing.T, addr string) pool.Stats {
	t.Helper()
	var st pool.Stats
	found := false
	f.srv.back.set.Each(func(k pool.Key, _ string, s pool.Stats) {
		if k.Addr == addr {
			st, found = s, true
		}
	})
	if !found {
		t.Fatalf("no pool for %s", addr)
	}
	return st
}
