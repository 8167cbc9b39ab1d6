package pgserver

import (
	"testing"
	"time"

	"github.com/shardgate/shardgate/topology"
)

// A statement that finds its server's pool busy for pool.wait_timeout
// fails with 53300 instead of waiting without end; the server is not
// counted as failed, and the session goes on.
func TestPoolWaitTimeout(t *testing.T) {
	f := startFixture(t, func(c *topology.Config) {
		c.Databases[0].Pool.MaxPerBackend = 1
		wait := topology.Duration(time.Second)
		c.Databases[0].Pool.WaitTimeout = &wait
	})
	ctx := t.Context()
	ids := f.idsOn(2)[0] // both on shard 0
	holder, waiter := f.connect(t), f.connect(t)
	if _, err := holder.Exec(ctx, "BEGIN"); err != nil {
		t.Fatal(err)
	}
	if _, err := holder.Exec(ctx, "INSERT INTO users (id, name) VALUES ($1, 'held')", ids[0]); err != nil {
		t.Fatal(err)
	}
	// The holder's transaction keeps shard 0's one primary connection.
	start := time.Now()
	_, err := waiter.Exec(ctx, "INSERT INTO users (id, name) VALUES ($1, 'waiter')", ids[1])
	if pgCode(err) != "53300" {
		t.Fatalf("a statement behind a full pool: %v, want 53300", err)
	}
	t.Logf("refused after %v: %v", time.Since(start).Round(time.Millisecond), err)
	if _, err := holder.Exec(ctx, "COMMIT"); err != nil {
		t.Fatal(err)
	}
	// The server was not taken for failed: the session goes on there.
	if _, err := waiter.Exec(ctx, "INSERT INTO users (id, name) VALUES ($1, 'waiter')", ids[1]); err != nil {
		t.Fatalf("once the connection is free: %v", err)
	}
	if got := f.userIDs(t, 0); len(got) != 2 {
		t.Fatalf("shard 0 holds %v, want both rows", got)
	}
}
