package pgserver

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/shardgate/shardgate/topology"
)

// A transaction that spans shards waits for a lock at most
// cross_shard_lock_timeout, so a deadlock across shards, which no server
// sees, ends with 55P03 instead of never; also after a ROLLBACK TO
// SAVEPOINT that undid the timeout's SET LOCAL. The other side is a
// client straight on the shards, whose waits no proxy bounds: only the
// proxied transaction's timeout can end the deadlock.
func TestCrossShardDeadlockEnds(t *testing.T) {
	f := startFixture(t, func(c *topology.Config) {
		c.Databases[0].Transactions = string(topology.MultiShard)
		timeout := topology.Duration(time.Second)
		c.Databases[0].CrossShardLockTimeout = &timeout
	})
	ctx := t.Context()
	ids := f.idsOn(3)
	x, y, z := ids[0][0], ids[1][0], ids[1][1] // x on shard 0, y and z on shard 1
	setup := f.connect(t)
	for _, id := range []int64{x, y, z} {
		if _, err := setup.Exec(ctx, "INSERT INTO users (id, name) VALUES ($1, 'row')", id); err != nil {
			t.Fatal(err)
		}
	}
	for _, savepoint := range []bool{false, true} {
		a := f.connect(t)
		exec := func(sql string, args ...any) {
			t.Helper()
			if _, err := a.Exec(ctx, sql, args...); err != nil {
				t.Fatalf("%s: %v", sql, err)
			}
		}
		exec("BEGIN")
		if savepoint {
			// Span both shards after a savepoint, then roll back to it.
			exec("SAVEPOINT early")
			exec("UPDATE users SET name = 'a' WHERE id = $1", x)
			exec("UPDATE users SET name = 'a' WHERE id = $1", z)
			exec("ROLLBACK TO SAVEPOINT early")
		}
		exec("UPDATE users SET name = 'a' WHERE id = $1", x)

		// The other transaction: y on shard 1, then waits for x on shard 0.
		b1, b0 := f.direct(t, 1), f.direct(t, 0)
		for _, c := range []*pgx.Conn{b1, b0} {
			if _, err := c.Exec(ctx, "BEGIN"); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := b1.Exec(ctx, "UPDATE users SET name = 'b' WHERE id = $1", y); err != nil {
			t.Fatal(err)
		}
		bDone := make(chan error, 1)
		go func() {
			_, err := b0.Exec(ctx, "UPDATE users SET name = 'b' WHERE id = $1", x)
			bDone <- err
		}()

		// The proxied transaction now waits for y: a deadlock.
		wait, cancel := context.WithTimeout(ctx, 20*time.Second)
		start := time.Now()
		_, err := a.Exec(wait, "UPDATE users SET name = 'a' WHERE id = $1", y)
		cancel()
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "55P03" {
			t.Fatalf("savepoint %v: the deadlocked statement after %v: %v, want 55P03 (lock timeout)", savepoint, time.Since(start), err)
		}
		exec("ROLLBACK")
		if err := <-bDone; err != nil {
			t.Fatalf("the other transaction, once the deadlock ended: %v", err)
		}
		for _, c := range []*pgx.Conn{b1, b0} {
			if _, err := c.Exec(ctx, "COMMIT"); err != nil {
				t.Fatal(err)
			}
		}
		t.Logf("savepoint %v: deadlock ended after %v", savepoint, time.Since(start).Round(time.Millisecond))
	}
}
