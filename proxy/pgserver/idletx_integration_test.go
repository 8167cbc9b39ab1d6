package pgserver

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/shardgate/shardgate/topology"
)

// A client that leaves its transaction open and goes quiet past
// idle_transaction_timeout is disconnected (25P03) and its transaction
// rolled back, so the row it locked is free again; a statement that
// runs longer than the timeout is not idleness.
func TestIdleTransactionTimeout(t *testing.T) {
	f := startFixture(t, func(c *topology.Config) {
		c.Databases[0].IdleTransactionTimeout = topology.Duration(time.Second)
	})
	ctx := t.Context()
	id := f.idsOn(1)[0][0]
	idle, other := f.connect(t), f.connect(t)
	if _, err := other.Exec(ctx, "INSERT INTO users (id, name) VALUES ($1, 'first')", id); err != nil {
		t.Fatal(err)
	}
	for _, sql := range []string{"BEGIN", fmt.Sprintf("UPDATE users SET name = 'idle' WHERE id = %d", id), "SELECT pg_sleep(1.5)"} {
		if _, err := idle.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	// Now it goes quiet, holding the row: the other client waits for
	// the lock until the proxy ends the idle session.
	wait, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	start := time.Now()
	if _, err := other.Exec(wait, "UPDATE users SET name = 'other' WHERE id = $1", id); err != nil {
		t.Fatalf("the update behind the idle transaction: %v", err)
	}
	t.Logf("the lock was freed after %v", time.Since(start).Round(time.Millisecond))
	_, err := idle.Exec(ctx, "SELECT 1")
	if err == nil {
		t.Fatal("the idle session still runs statements")
	}
	if code := pgCode(err); code != "25P03" && !idle.IsClosed() {
		t.Errorf("the idle session's next statement: %v (want 25P03 or a closed connection)", err)
	}
	var name string
	if err := f.direct(t, 0).QueryRow(ctx, "SELECT name FROM users WHERE id = $1", id).Scan(&name); err != nil || name != "other" {
		t.Fatalf("the row: %q %v (the idle transaction must have rolled back)", name, err)
	}
}
