package pgserver

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/shardgate/shardgate/topology"
)

// After DDL that changes a statement's result columns, a client sees what
// a plain server would show it: one "cached plan must not change result
// type" (0A000) for the statement it prepared before, and once it
// prepares it again (pgx does so by itself), the new columns, on every
// pooled connection, never the old plan again.
func TestStalePlansAfterDDL(t *testing.T) {
	f := startFixture(t, func(c *topology.Config) { c.Databases[0].Pool.MaxPerBackend = 2 })
	ctx := t.Context()
	connect := func() *pgx.Conn {
		c, err := pgx.Connect(ctx, f.dsn("app", "app-secret"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close(context.Background()) })
		return c
	}
	a, b, admin := connect(), connect(), connect()
	if _, err := admin.Exec(ctx, "CREATE TABLE notes (id bigint PRIMARY KEY, body text)"); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(ctx, "INSERT INTO notes VALUES (1, 'one')"); err != nil {
		t.Fatal(err)
	}
	if err := f.cluster.WaitReplicated(ctx); err != nil { // b reads from a replica
		t.Fatal(err)
	}
	const q = "SELECT * FROM notes WHERE body = $1" // an unsharded table: one shard
	columns := func(c *pgx.Conn) (int, error) {
		rows, err := c.Query(ctx, q, "one")
		if err != nil {
			return 0, err
		}
		defer rows.Close()
		n := len(rows.FieldDescriptions())
		for rows.Next() {
			if v, err := rows.Values(); err != nil || len(v) != n {
				return 0, err
			}
		}
		return n, rows.Err()
	}
	// Both clients prepare the statement, on both server connections of
	// each shard: a's transaction keeps one busy while b runs.
	tx, err := a.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := tx.Query(ctx, q, "one")
	if err != nil {
		t.Fatal(err)
	}
	rows.Close()
	if n, err := columns(b); err != nil || n != 2 {
		t.Fatalf("before: %d columns, %v", n, err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}

	alter := func(sql string) {
		t.Helper()
		if _, err := admin.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	for round, sql := range []string{
		"ALTER TABLE notes ADD COLUMN extra int", // through the proxy
		"",                                       // then on the servers directly, which the proxy does not see
	} {
		want := 3 + round
		if sql != "" {
			alter(sql)
		} else {
			for shard := range 2 {
				if _, err := f.direct(t, shard).Exec(ctx, "ALTER TABLE notes ADD COLUMN more int"); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := f.cluster.WaitReplicated(ctx); err != nil {
			t.Fatal(err)
		}
		for name, c := range map[string]*pgx.Conn{"a": a, "b": b} {
			errs := 0
			for range 10 {
				n, err := columns(c)
				switch {
				case err != nil && pgCode(err) == "0A000":
					errs++
				case err != nil:
					t.Fatalf("round %d, %s: %v", round, name, err)
				case n != want:
					t.Fatalf("round %d, %s: %d columns, want %d", round, name, n, want)
				}
			}
			if errs > 1 {
				t.Errorf("round %d, %s: %d stale-plan errors, a server gives one", round, name, errs)
			}
		}
	}
}
