package myserver

import (
	"context"
	"testing"
	"time"

	"github.com/shardgate/shardgate/topology"
)

// A client that leaves its transaction open and goes quiet past
// idle_transaction_timeout is disconnected and its transaction rolled
// back, so the row it locked is free again; a statement that runs longer
// than the timeout is not idleness.
func TestIdleTransactionTimeout(t *testing.T) {
	f := startFixture(t, 0, func(c *topology.Config) {
		c.Databases[0].IdleTransactionTimeout = topology.Duration(time.Second)
	})
	ctx := t.Context()
	db := f.open(t, nil)
	mustExec(t, db, "INSERT INTO users (id, name) VALUES (5, 'first')")
	idle, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idle.Close() })
	for _, q := range []string{"BEGIN", "UPDATE users SET name = 'idle' WHERE id = 5", "SELECT SLEEP(1.5) FROM users WHERE id = 5"} {
		if _, err := idle.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	// Now it goes quiet, holding the row: another client waits for the
	// lock until the proxy ends the idle session.
	wait, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	start := time.Now()
	if _, err := db.ExecContext(wait, "UPDATE users SET name = 'other' WHERE id = 5"); err != nil {
		t.Fatalf("the update behind the idle transaction: %v", err)
	}
	t.Logf("the lock was freed after %v", time.Since(start).Round(time.Millisecond))
	if _, err := idle.ExecContext(ctx, "SELECT 1"); err == nil {
		t.Fatal("the idle session still runs statements")
	}
	if n := queryStrings(t, f.shardDB(t, f.ownerOf(5)), "SELECT name FROM users WHERE id = 5"); fmtRows(n) != `["other"]` {
		t.Fatalf("the row: %v (the idle transaction must have rolled back)", n)
	}
}
