package myserver

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/shardgate/shardgate/topology"
)

// A transaction that spans shards waits for a lock at most
// cross_shard_lock_timeout, so a deadlock across shards, which no server
// sees, ends with 1205 in a second instead of innodb_lock_wait_timeout's
// 50. The other side is a client straight on the shards. The setting
// does not outlive the transaction on the pooled connections.
func TestCrossShardDeadlockEnds(t *testing.T) {
	f := startFixture(t, 0, func(c *topology.Config) {
		c.Databases[0].Transactions = string(topology.MultiShard)
		c.Databases[0].Pool.MaxPerBackend = 1 // the session gets the same connections back
		timeout := topology.Duration(time.Second)
		c.Databases[0].CrossShardLockTimeout = &timeout
	})
	ctx := t.Context()
	var x, y int64 // x on shard 0, y on shard 1
	for id := int64(1); x == 0 || y == 0; id++ {
		if f.ownerOf(id) == 0 && x == 0 {
			x = id
		} else if f.ownerOf(id) == 1 && y == 0 {
			y = id
		}
	}
	db := f.open(t, map[string]string{"interpolateParams": "false"})
	for _, id := range []int64{x, y} {
		mustExec(t, db, "INSERT INTO users (id, name) VALUES (?, 'row')", id)
	}
	a, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := a.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec("BEGIN")
	exec("UPDATE users SET name = 'a' WHERE id = ?", x)

	// The other transaction: y on shard 1, then waits for x on shard 0.
	var b [2]*sql.Tx
	for i := range b {
		if b[i], err = f.shardDB(t, i).BeginTx(ctx, nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b[1].Exec("UPDATE users SET name = 'b' WHERE id = ?", y); err != nil {
		t.Fatal(err)
	}
	bDone := make(chan error, 1)
	go func() {
		_, err := b[0].Exec("UPDATE users SET name = 'b' WHERE id = ?", x)
		bDone <- err
	}()

	// The proxied transaction now waits for y: a deadlock.
	wait, cancel := context.WithTimeout(ctx, 30*time.Second)
	start := time.Now()
	_, err = a.ExecContext(wait, "UPDATE users SET name = 'a' WHERE id = ?", y)
	cancel()
	var me *mysql.MySQLError
	if !errors.As(err, &me) || me.Number != 1205 {
		t.Fatalf("the deadlocked statement after %v: %v, want 1205 (lock wait timeout)", time.Since(start), err)
	}
	t.Logf("deadlock ended after %v", time.Since(start).Round(time.Millisecond))
	exec("ROLLBACK")
	if err := <-bDone; err != nil {
		t.Fatalf("the other transaction, once the deadlock ended: %v", err)
	}
	for _, tx := range b {
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}

	// Outside the transaction each shard's one pooled connection has the
	// server's own timeout again.
	for _, id := range []int64{x, y} {
		var got int64
		if err := a.QueryRowContext(ctx, "SELECT @@innodb_lock_wait_timeout FROM users WHERE id = ?", id).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != 50 {
			t.Errorf("innodb_lock_wait_timeout on the connection to shard %d after the transaction: %d, want the server's 50", f.ownerOf(id), got)
		}
	}
}
