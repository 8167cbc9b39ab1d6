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

// A client that releases its last user lock with RELEASE_LOCK gets its
// held server connection back into the pool, whether the lock's name was
// a literal or a bound parameter; while one of its locks is still taken,
// or one whose name the proxy could not read, the connection stays held.
func TestReleaseLockGivesTheConnectionBack(t *testing.T) {
	f := startFixture(t, 0, func(c *topology.Config) { c.Databases[0].Pool.MaxPerBackend = 2 })
	ctx := t.Context()
	primary := f.db.Unsharded.Primary // user locks name no table: they run there
	inUse := func() int {
		n := 0
		for _, p := range f.srv.PoolStats() {
			if p.Backend == primary {
				n += p.InUse
			}
		}
		return n
	}
	for _, mode := range []string{"true", "false"} {
		t.Run("interpolateParams="+mode, func(t *testing.T) {
			c, err := f.open(t, map[string]string{"interpolateParams": mode}).Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			step := func(query string, args []any, wantHeld int) {
				t.Helper()
				var got sql.NullInt64
				if err := c.QueryRowContext(ctx, query, args...).Scan(&got); err != nil {
					t.Fatalf("%s: %v", query, err)
				}
				if n := inUse(); n != wantHeld {
					t.Fatalf("after %s %v: %d connections of %s in use, want %d", query, args, n, primary, wantHeld)
				}
			}
			step("SELECT GET_LOCK(?, 5)", []any{"jobs"}, 1)
			step("SELECT GET_LOCK('mail', 5)", nil, 1)
			step("SELECT RELEASE_LOCK('jobs')", nil, 1) // 'mail' is still taken
			step("SELECT RELEASE_LOCK(?)", []any{"mail"}, 0)
			step("SELECT GET_LOCK(CONCAT('a', ?), 5)", []any{"b"}, 1)
			step("SELECT RELEASE_LOCK('ab')", nil, 1) // the proxy could not read the name: kept
			step("SELECT RELEASE_ALL_LOCKS()", nil, 0)
		})
	}
}
