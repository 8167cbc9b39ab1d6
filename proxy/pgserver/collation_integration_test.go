package pgserver

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/shardgate/shardgate/topology"
)

// A scatter ORDER BY on text in a database with a linguistic collation
// (ICU en-US: "a" < "B" < "b", accents and punctuation after letters)
// gives the rows in the order one server gives them, not in byte order.
func TestMergeFollowsDatabaseCollation(t *testing.T) {
	base := startFixture(t)
	ctx := t.Context()
	var direct *pgx.Conn
	for sh := range 2 {
		if _, err := base.direct(t, sh).Exec(ctx, "CREATE DATABASE shop_icu TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C'"); err != nil {
			t.Fatal(err)
		}
		cfg, err := pgx.ParseConfig(base.cluster.DSN(base.cluster.Shards[sh].Primary))
		if err != nil {
			t.Fatal(err)
		}
		cfg.Database = "shop_icu"
		conn, err := pgx.ConnectConfig(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close(ctx) })
		if _, err := conn.Exec(ctx, "CREATE TABLE users (id bigint PRIMARY KEY, name text, country varchar(8))"); err != nil {
			t.Fatal(err)
		}
		direct = conn
	}
	f := serveProxy(t, base.cluster, Options{}, func(c *topology.Config) {
		c.Databases[0].Backend.Database = "shop_icu"
		c.Databases[0].ReadPolicy = string(topology.PrimaryOnly)
	})
	names := strings.Fields("b a B A a-b ab Ab é e f _x 1 10 9 Zoë zoe")
	conn := f.connect(t)
	var values []string
	onShard := [2]int{}
	for i, n := range names {
		id := int64(i + 1)
		if _, err := conn.Exec(ctx, "INSERT INTO users (id, name, country) VALUES ($1, $2, $2)", id, n); err != nil {
			t.Fatal(err)
		}
		onShard[f.shardOf(id)]++
		values = append(values, fmt.Sprintf("('%s')", n))
	}
	if onShard[0] == 0 || onShard[1] == 0 {
		t.Fatalf("rows per shard %v: want both shards used", onShard)
	}
	strs := func(c *pgx.Conn, sql string) []string {
		t.Helper()
		rows, err := c.Query(ctx, sql)
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		out, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		return out
	}
	one := "(VALUES " + strings.Join(values, ", ") + ") v(name)"
	for _, q := range []struct{ proxy, single string }{
		{"SELECT name FROM users ORDER BY name", "SELECT name FROM " + one + " ORDER BY name"},
		{"SELECT name FROM users ORDER BY name DESC LIMIT 6", "SELECT name FROM " + one + " ORDER BY name DESC LIMIT 6"},
		{"SELECT country FROM users ORDER BY country", "SELECT name::varchar(8) FROM " + one + " ORDER BY 1"},
		{"SELECT min(name) FROM users", "SELECT min(name) FROM " + one},
		{"SELECT max(name) FROM users", "SELECT max(name) FROM " + one},
	} {
		want := strs(direct, q.single)
		if got := strs(conn, q.proxy); !slices.Equal(got, want) {
			t.Errorf("%s through the proxy:\n got %v\nwant %v (one server)", q.proxy, got, want)
		}
	}
}
