package pgserver

import (
	"fmt"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/shardgate/shardgate/topology"
)

// A pipeline (a pgx batch) or a multi-statement Query outside a
// transaction runs as one transaction, as in PostgreSQL: a failing
// statement takes the earlier ones with it. One that spans shards where
// transactions stay on one (single_shard) runs statement by statement;
// under multi_shard it is one transaction over both shards.
func TestImplicitTransactions(t *testing.T) {
	f := startFixture(t)
	ctx := t.Context()
	ids := f.idsOn(10)
	a, b := ids[0], ids[1]
	batch := func(conn *pgx.Conn, ids ...int64) error {
		var bt pgx.Batch
		for _, id := range ids {
			bt.Queue("INSERT INTO users (id, name) VALUES ($1, 'x')", id)
		}
		return conn.SendBatch(ctx, &bt).Close()
	}
	query := func(conn *pgx.Conn, ids ...int64) error {
		sql := ""
		for _, id := range ids {
			sql += fmt.Sprintf("INSERT INTO users (id, name) VALUES (%d, 'x');", id)
		}
		_, err := conn.PgConn().Exec(ctx, sql).ReadAll()
		return err
	}
	holds := func(what string, want0, want1 []int64) {
		t.Helper()
		if got0, got1 := f.userIDs(t, 0), f.userIDs(t, 1); !slices.Equal(got0, sorted(want0...)) || !slices.Equal(got1, sorted(want1...)) {
			t.Fatalf("%s: the shards hold %v and %v, want %v and %v", what, got0, got1, sorted(want0...), sorted(want1...))
		}
	}

	conn := f.connect(t)
	if err := batch(conn, a[0], a[1], a[0]); err == nil {
		t.Fatal("a batch with a duplicate key succeeded")
	}
	holds("after a failed one-shard batch", nil, nil)
	if err := batch(conn, a[2], a[3]); err != nil {
		t.Fatal(err)
	}
	holds("after a one-shard batch", []int64{a[2], a[3]}, nil)
	if err := query(conn, a[4], a[4]); err == nil {
		t.Fatal("a Query with a duplicate key succeeded")
	}
	holds("after a failed multi-statement Query", []int64{a[2], a[3]}, nil)
	// Spanning shards under single_shard: statement by statement.
	if err := batch(conn, a[5], b[5]); err != nil {
		t.Fatal(err)
	}
	if err := query(conn, a[6], b[6]); err != nil {
		t.Fatal(err)
	}
	holds("after batches over both shards", []int64{a[2], a[3], a[5], a[6]}, []int64{b[5], b[6]})
	var n int
	if err := conn.QueryRow(ctx, "/* role=primary */ SELECT count(*) FROM users").Scan(&n); err != nil || n != 6 {
		t.Fatalf("after the batches: count %d, %v", n, err)
	}

	// Under multi_shard a batch over both shards is one transaction.
	m := serveProxy(t, f.cluster, Options{}, func(c *topology.Config) { c.Databases[0].Transactions = string(topology.MultiShard) })
	mconn := m.connect(t)
	if err := batch(mconn, a[7], b[7], b[5]); err == nil {
		t.Fatal("a batch with a duplicate key succeeded")
	}
	if err := query(mconn, a[8], b[8], a[2]); err == nil {
		t.Fatal("a Query with a duplicate key succeeded")
	}
	holds("after failed batches over both shards", []int64{a[2], a[3], a[5], a[6]}, []int64{b[5], b[6]})
	if err := batch(mconn, a[9], b[9]); err != nil {
		t.Fatal(err)
	}
	holds("after a batch over both shards", []int64{a[2], a[3], a[5], a[6], a[9]}, []int64{b[5], b[6], b[9]})
}
