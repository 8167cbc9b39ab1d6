package pgserver

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shardgate/shardgate/topology"
	"github.com/shardgate/shardgate/topology/localcluster"
)

// TestClientDisconnectCancels: a client that goes away mid-statement gets
// its statement cancelled on the server, so the pooled connection is free
// again long before the statement would have ended.
func TestClientDisconnectCancels(t *testing.T) {
	f := startFixture(t, func(c *topology.Config) { c.Databases[0].Pool.MaxPerBackend = 1 })
	gone := f.connect(t)
	errc := make(chan error, 1)
	go func() {
		_, err := gone.Exec(context.Background(), "/* shard=-80 */ SELECT pg_sleep(30)")
		errc <- err
	}()
	// Let the sleep start on the shard's only connection (watched on the
	// servers directly: the proxy's pool is busy), then vanish.
	ctx := t.Context()
	sleeping := func() int {
		n := 0
		for _, node := range append([]*localcluster.Node{f.cluster.Shards[0].Primary}, f.cluster.Shards[0].Replicas...) {
			c, err := pgx.Connect(ctx, f.cluster.DSN(node))
			if err != nil {
				t.Fatal(err)
			}
			var k int
			err = c.QueryRow(ctx, "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(30)%' AND state = 'active' AND pid <> pg_backend_pid()").Scan(&k)
			c.Close(ctx)
			if err != nil {
				t.Fatal(err)
			}
			n += k
		}
		return n
	}
	deadline := time.Now().Add(10 * time.Second)
	for sleeping() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the sleep never started")
		}
	}
	admin := f.connect(t)
	gone.PgConn().Conn().Close()
	<-errc
	start := time.Now()
	var one int
	if err := admin.QueryRow(ctx, "/* shard=-80 */ SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("query after the disconnect: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("the next query waited %v: the abandoned statement kept the connection", d)
	}
	if n := sleeping(); n != 0 {
		t.Fatalf("%d abandoned sleeps still running on the servers", n)
	}
}
