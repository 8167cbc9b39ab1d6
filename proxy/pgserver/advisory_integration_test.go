package pgserver

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shardgate/shardgate/topology"
)

// A client's session-level advisory lock stays its own under transaction
// pooling: the server connection that holds it is kept for the client
// until the lock is released, so another client cannot re-enter it on the
// same connection, and the unlock runs where the lock is.
func TestAdvisoryLocksStayWithTheirClient(t *testing.T) {
	f := startFixture(t, func(c *topology.Config) { c.Databases[0].Pool.MaxPerBackend = 2 })
	ctx := t.Context()
	a, err := pgx.Connect(ctx, f.dsn("app", "app-secret"))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close(context.Background())
	b := f.connect(t) // simple protocol

	tryLock := func(c *pgx.Conn, who string) bool {
		t.Helper()
		var ok bool
		if err := c.QueryRow(ctx, "SELECT pg_try_advisory_lock(42)").Scan(&ok); err != nil {
			t.Fatalf("%s: try lock: %v", who, err)
		}
		return ok
	}
	if _, err := a.Exec(ctx, "SELECT pg_advisory_lock(42)"); err != nil {
		t.Fatal(err)
	}
	// Other statements of the holder run as usual, on both shards.
	for id := int64(1); id <= 6; id++ {
		if _, err := a.Exec(ctx, "INSERT INTO users (id, name) VALUES ($1, 'x')", id); err != nil {
			t.Fatalf("insert %d while holding a lock: %v", id, err)
		}
	}
	tx, err := a.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "UPDATE users SET name = 'y' WHERE id = 1"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if tryLock(b, "b") {
		t.Fatal("b took the lock a holds (it got a's server connection)")
	}
	var released bool
	if err := a.QueryRow(ctx, "SELECT pg_advisory_unlock(42)").Scan(&released); err != nil || !released {
		t.Fatalf("a's unlock: %v %v (it must run where the lock is)", released, err)
	}
	if !tryLock(b, "b") {
		t.Fatal("b cannot take the lock a released")
	}
	// A holder that leaves releases its locks: its connection is closed.
	if _, err := b.Exec(ctx, "SELECT pg_advisory_unlock_all()"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Exec(ctx, "SELECT pg_advisory_lock(42)"); err != nil {
		t.Fatal(err)
	}
	b.Close(ctx)
	// The proxy notices b left and closes its server connection; the
	// server then drops the lock: both take a moment.
	deadline := time.Now().Add(10 * time.Second)
	for !tryLock(a, "a") {
		if time.Now().After(deadline) {
			t.Fatal("a cannot take the lock of a client that left")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// DISCARD ALL releases a session's advisory locks, as on a server.
	if _, err := a.Exec(ctx, "DISCARD ALL"); err != nil {
		t.Fatal(err)
	}
	c := f.connect(t)
	for deadline := time.Now().Add(10 * time.Second); !tryLock(c, "c"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("DISCARD ALL did not release a's lock")
		}
	}
	if _, err := c.Exec(ctx, "SELECT pg_advisory_unlock(42)"); err != nil {
		t.Fatal(err)
	}

	// Sequences run on the primary: a replica refuses nextval.
	if _, err := a.Exec(ctx, "CREATE SEQUENCE ids"); err != nil {
		t.Fatal(err)
	}
	for want := int64(1); want <= 3; want++ {
		var n int64
		if err := a.QueryRow(ctx, "SELECT nextval('ids')").Scan(&n); err != nil || n != want {
			t.Fatalf("nextval: %d %v, want %d", n, err, want)
		}
	}
}

// A WITH HOLD cursor (Django's iterator() declares one in autocommit)
// stays with its client as well: the connection it lives on is kept for
// the client until the cursor is closed, so its FETCHes find it even
// while other clients use the pool.
func TestHoldCursorsStayWithTheirClient(t *testing.T) {
	f := startFixture(t, func(c *topology.Config) { c.Databases[0].Pool.MaxPerBackend = 2 })
	ctx := t.Context()
	a, b := f.connect(t), f.connect(t)
	for id := int64(1); id <= 6; id++ {
		if _, err := a.Exec(ctx, fmt.Sprintf("INSERT INTO users (id, name) VALUES (%d, 'u%d')", id, id)); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.cluster.WaitReplicated(ctx); err != nil {
		t.Fatal(err)
	}
	fetch := func() []string {
		t.Helper()
		rows, err := a.Query(ctx, "FETCH 1 FROM c")
		if err != nil {
			t.Fatalf("FETCH: %v", err)
		}
		names, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatalf("FETCH: %v", err)
		}
		return names
	}
	if _, err := a.Exec(ctx, "DECLARE c CURSOR WITH HOLD FOR SELECT name FROM users WHERE id IN (5, 5)"); err != nil {
		t.Fatal(err)
	}
	// b takes a connection to the same server inside a transaction: the
	// one a's cursor is on, if a had given it back.
	tx, err := b.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	if err := tx.QueryRow(ctx, "SELECT count(*) FROM users WHERE id = 5").Scan(&n); err != nil || n != 1 {
		t.Fatalf("b: %d %v", n, err)
	}
	if got := fetch(); fmt.Sprint(got) != "[u5]" {
		t.Errorf("first FETCH: %v", got)
	}
	if got := fetch(); len(got) != 0 {
		t.Errorf("second FETCH: %v, want nothing left", got)
	}
	if _, err := a.Exec(ctx, "CLOSE c"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	// Closed: the connection went back, with no cursor left on it.
	q := fmt.Sprintf("SELECT /* shard=%s */ count(*) FROM pg_cursors WHERE name = 'c'", f.db.Shards[f.shardOf(5)].Name)
	for range 3 { // the pool hands out its most recently used connection first
		if err := b.QueryRow(ctx, q).Scan(&n); err != nil || n != 0 {
			t.Errorf("the cursor is left on a pooled connection: %d %v", n, err)
		}
	}
}
