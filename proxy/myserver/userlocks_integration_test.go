package myserver

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/shardgate/shardgate/topology"
)

// A client's GET_LOCK lock stays its own under transaction pooling: the
// server connection that holds it is kept for the client, so another
// client neither resets it away nor re-enters it, and RELEASE_LOCK runs
// where the lock is.
func TestUserLocksStayWithTheirClient(t *testing.T) {
	f := startFixture(t, 0, func(c *topology.Config) { c.Databases[0].Pool.MaxPerBackend = 2 })
	ctx := t.Context()
	conn := func(mode string) (*sql.Conn, *sql.DB) {
		db := f.open(t, map[string]string{"interpolateParams": mode})
		c, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c, db
	}
	a, _ := conn("false")
	b, bdb := conn("true")
	lock := func(c *sql.Conn, who string, wait int) int64 {
		t.Helper()
		var got sql.NullInt64
		if err := c.QueryRowContext(ctx, "SELECT GET_LOCK('migrations', ?)", wait).Scan(&got); err != nil {
			t.Fatalf("%s: GET_LOCK: %v", who, err)
		}
		return got.Int64
	}
	if lock(a, "a", 5) != 1 {
		t.Fatal("a could not take a free lock")
	}
	// The holder's other statements run as usual, on both shards.
	for id := int64(1); id <= 6; id++ {
		if _, err := a.ExecContext(ctx, "INSERT INTO users (id, name) VALUES (?, 'x')", id); err != nil {
			t.Fatalf("insert %d while holding a lock: %v", id, err)
		}
	}
	tx, err := a.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, "UPDATE users SET name = 'y' WHERE id = 1"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if lock(b, "b", 0) != 0 {
		t.Fatal("b took the lock a holds (a's server connection was reset or handed to b)")
	}
	var released sql.NullInt64
	if err := a.QueryRowContext(ctx, "SELECT RELEASE_LOCK('migrations')").Scan(&released); err != nil || released.Int64 != 1 {
		t.Fatalf("a's RELEASE_LOCK: %v %v (it must run where the lock is)", released, err)
	}
	if lock(b, "b", 0) != 1 {
		t.Fatal("b cannot take the lock a released")
	}
	if _, err := b.ExecContext(ctx, "SELECT RELEASE_ALL_LOCKS()"); err != nil {
		t.Fatal(err)
	}
	// A holder that leaves releases its locks: its connection is closed.
	if lock(b, "b", 0) != 1 {
		t.Fatal("b cannot take the lock again")
	}
	b.Close()
	bdb.Close() // closes b's connection to the proxy
	deadline := time.Now().Add(10 * time.Second)
	for lock(a, "a", 0) != 1 {
		if time.Now().After(deadline) {
			t.Fatal("a cannot take the lock of a client that left")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := a.ExecContext(context.Background(), "SELECT RELEASE_ALL_LOCKS()"); err != nil {
		t.Fatal(err)
	}
}
