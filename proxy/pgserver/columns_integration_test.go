package pgserver

import (
	"testing"

	"github.com/jackc/pgx/v5"
)

// INSERT INTO t VALUES (...) names no columns: the proxy learns the
// table's column order from a server and routes every row by its key,
// in the simple and the extended protocol; after an ALTER TABLE through
// the proxy the new order is learnt again.
func TestInsertWithoutColumnList(t *testing.T) {
	f := startFixture(t)
	ctx := t.Context()
	simple := f.connect(t)
	cfg, err := pgx.ParseConfig(f.dsn("app", "app-secret"))
	if err != nil {
		t.Fatal(err)
	}
	extended, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer extended.Close(ctx)
	if _, err := simple.Exec(ctx, "INSERT INTO users VALUES (101, 'a', 'DE'), (102, 'b', 'FR'), (103, 'c', 'IT')"); err != nil {
		t.Fatal(err)
	}
	if _, err := extended.Exec(ctx, "INSERT INTO users VALUES ($1, $2, $3)", int64(104), "d", "ES"); err != nil {
		t.Fatal(err)
	}
	check := func(id int64, name string) {
		t.Helper()
		for s := range f.cluster.Shards {
			var n int
			if err := f.direct(t, s).QueryRow(ctx, "SELECT count(*) FROM users WHERE id = $1 AND name = $2", id, name).Scan(&n); err != nil {
				t.Fatal(err)
			}
			want := 0
			if s == f.shardOf(id) {
				want = 1
			}
			if n != want {
				t.Fatalf("user %d on shard %d: %d rows, want %d", id, s, n, want)
			}
		}
	}
	for i, name := range []string{"a", "b", "c", "d"} {
		check(int64(101+i), name)
	}
	// Rebuild the table with the key last: the cached order must go.
	if _, err := simple.Exec(ctx, "DROP TABLE users"); err != nil {
		t.Fatal(err)
	}
	if _, err := simple.Exec(ctx, "CREATE TABLE users (name text, country text, id bigint PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	if _, err := simple.Exec(ctx, "INSERT INTO users VALUES ('e', 'PL', 105)"); err != nil {
		t.Fatal(err)
	}
	check(105, "e")
}
