package myserver

import (
	"errors"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/shardgate/shardgate/topology"
)

// A statement that finds its server's pool busy for pool.wait_timeout
// fails with 1040 instead of waiting without end; the server is not
// counted as failed, and the session goes on.
func TestPoolWaitTimeout(t *testing.T) {
	f := startFixture(t, 0, func(c *topology.Config) {
		c.Databases[0].Pool.MaxPerBackend = 1
		wait := topology.Duration(time.Second)
		c.Databases[0].Pool.WaitTimeout = &wait
	})
	ctx := t.Context()
	var ids []int64 // two keys on shard 0
	for id := int64(1); len(ids) < 2; id++ {
		if f.ownerOf(id) == 0 {
			ids = append(ids, id)
		}
	}
	db := f.open(t, nil)
	holder, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := holder.Exec("INSERT INTO users (id, name) VALUES (?, 'held')", ids[0]); err != nil {
		t.Fatal(err)
	}
	// The holder's transaction keeps shard 0's one connection.
	start := time.Now()
	_, err = db.ExecContext(ctx, "INSERT INTO users (id, name) VALUES (?, 'waiter')", ids[1])
	var me *mysql.MySQLError
	if !errors.As(err, &me) || me.Number != 1040 {
		t.Fatalf("a statement behind a full pool: %v, want 1040", err)
	}
	t.Logf("refused after %v: %v", time.Since(start).Round(time.Millisecond), err)
	if err := holder.Commit(); err != nil {
		t.Fatal(err)
	}
	// The server was not taken for failed: statements go on there.
	mustExec(t, db, "INSERT INTO users (id, name) VALUES (?, 'waiter')", ids[1])
	if n := queryInt(t, f.shardDB(t, 0), "SELECT COUNT(*) FROM users"); n != 2 {
		t.Fatalf("shard 0 holds %d rows, want 2", n)
	}
}
