package pgserver

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/shardgate/shardgate/topology"
	"github.com/shardgate/shardgate/topology/localcluster"
)

// pgx in its default mode: extended protocol, cached prepared statements,
// binary parameters and results, batches (pipelining).
func TestProxyExtendedProtocol(t *testing.T) {
	f := startFixture(t)
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, f.dsn("app", "app-secret"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)

	for id := int64(1); id <= 40; id++ {
		if _, err := conn.Exec(ctx, "INSERT INTO users (id, name, country) VALUES ($1, $2, $3)",
			id, fmt.Sprintf("user%d", id), []string{"DE", "FR", "NL"}[id%3]); err != nil {
			t.Fatalf("insert %d: %v", id, err)
		}
	}
	// A parameterized multi-row INSERT split over both shards.
	a, b := int64(41), int64(42)
	for f.shardOf(b) == f.shardOf(a) {
		b++
	}
	tag, err := conn.Exec(ctx, "INSERT INTO users (id, name) VALUES ($1, $2), ($3, $4)", a, "a", b, "b")
	if err != nil || tag.RowsAffected() != 2 {
		t.Fatalf("split insert: %v %v", tag, err)
	}
	for shard := range 2 {
		rows, _ := f.direct(t, shard).Query(ctx, "SELECT id FROM users")
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range ids {
			if f.shardOf(id) != shard {
				t.Errorf("user %d on shard %d, hashes to %d", id, shard, f.shardOf(id))
			}
		}
	}
	if err := f.cluster.WaitReplicated(ctx); err != nil {
		t.Fatal(err)
	}

	var name string
	if err := conn.QueryRow(ctx, "SELECT name FROM users WHERE id = $1", int64(7)).Scan(&name); err != nil || name != "user7" {
		t.Errorf("point read with a binary parameter: %q %v", name, err)
	}
	var n int64
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM users").Scan(&n); err != nil || n != 42 {
		t.Errorf("count(*) = %d %v", n, err)
	}
	rows, _ := conn.Query(ctx, "SELECT id, name FROM users WHERE id <= $1 ORDER BY id DESC LIMIT $2", int64(40), int64(3))
	type u struct {
		ID   int64
		Name string
	}
	got, err := pgx.CollectRows(rows, pgx.RowToStructByPos[u])
	if err != nil || fmt.Sprint(got) != "[{40 user40} {39 user39} {38 user38}]" {
		t.Errorf("merged ORDER BY/LIMIT in binary: %v %v", got, err)
	}
	var avg float64
	if err := conn.QueryRow(ctx, "SELECT avg(id) FROM users WHERE id <= 40").Scan(&avg); err != nil || avg != 20.5 {
		t.Errorf("avg as binary numeric: %v %v", avg, err)
	}

	// A batch is pipelined: several statements, one round trip.
	batch := &pgx.Batch{}
	batch.Queue("UPDATE users SET name = $1 WHERE id = $2", "renamed", int64(5))
	batch.Queue("SELECT name FROM users WHERE id = $1", int64(5))
	batch.Queue("SELECT count(*) FROM users WHERE country = $1", "DE")
	br := conn.SendBatch(ctx, batch)
	if tag, err := br.Exec(); err != nil || tag.RowsAffected() != 1 {
		t.Errorf("batch update: %v %v", tag, err)
	}
	var ignored string
	if err := br.QueryRow().Scan(&ignored); err != nil {
		t.Errorf("batch select: %v", err)
	}
	var de int64
	if err := br.QueryRow().Scan(&de); err != nil || de != 13 { // ids 3, 6, ... 39
		t.Errorf("batch scatter count: %d %v", de, err)
	}
	if err := br.Close(); err != nil {
		t.Fatal(err)
	}

	// Transactions with parameters stay on one shard.
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "UPDATE users SET name = $1 WHERE id = $2", "in-tx", int64(1)); err != nil {
		t.Fatal(err)
	}
	if err := tx.QueryRow(ctx, "SELECT name FROM users WHERE id = $1", int64(1)).Scan(&name); err != nil || name != "in-tx" {
		t.Errorf("read own write: %q %v", name, err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}

	// ORMs wrap each write in a transaction, and pgx describes a new text
	// (Parse, Describe, Sync) before it binds the key: the Describe must
	// not start the transaction on a shard, or the statement's own shard
	// would be a second one (refused under single_shard).
	for i, id := range []int64{101, 102, 103, 104, 105, 106} {
		tx, err := conn.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, fmt.Sprintf("INSERT INTO users (id, name) VALUES ($1, 'orm%d')", i), id); err != nil {
			t.Errorf("insert %d as the first statement of a transaction, new text: %v", id, err)
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		var got string
		if err := f.direct(t, f.shardOf(id)).QueryRow(ctx, "SELECT name FROM users WHERE id = $1", id).Scan(&got); err != nil || got != fmt.Sprintf("orm%d", i) {
			t.Errorf("user %d on its shard %d: %q %v", id, f.shardOf(id), got, err)
		}
	}
	// A scatter read whose only parameters are LIMIT and OFFSET: the text
	// every shard gets has them folded into a literal and takes none.
	rows, _ = conn.Query(ctx, "SELECT id FROM users ORDER BY id LIMIT $1 OFFSET $2", int64(3), int64(2))
	page, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil || fmt.Sprint(page) != "[3 4 5]" {
		t.Errorf("scatter with only LIMIT/OFFSET parameters: %v %v", page, err)
	}

	// A merged scatter in binary: columns the merge does not read come
	// from the shards in the client's format (arrays, intervals, inet,
	// time have no text-to-binary encoding in the proxy).
	var ids []int64
	var arrays [][]string
	rows, _ = conn.Query(ctx, "SELECT id, ARRAY[name, 'x'] AS a, interval '1 hour' * id AS iv, inet '10.0.0.1' AS ip, time '12:34:56' AS t FROM users WHERE id <= 40 ORDER BY id DESC LIMIT 3")
	for rows.Next() {
		var id int64
		var a []string
		var iv pgtype.Interval
		var ip netip.Prefix
		var tm pgtype.Time
		if err := rows.Scan(&id, &a, &iv, &ip, &tm); err != nil {
			t.Fatalf("binary merged row: %v", err)
		}
		if iv.Microseconds != id*3600e6 || ip.String() != "10.0.0.1/32" || tm.Microseconds != (12*3600+34*60+56)*1e6 {
			t.Errorf("binary merged row %d: %v %v %v", id, iv, ip, tm)
		}
		ids, arrays = append(ids, id), append(arrays, a)
	}
	if rows.Err() != nil || fmt.Sprint(ids) != "[40 39 38]" || fmt.Sprint(arrays[0]) != "[user40 x]" {
		t.Errorf("binary merged scatter: %v %v %v", ids, arrays, rows.Err())
	}

	// A Parse the server refuses leaves no statement behind, as on a
	// server: the same text fails the same way again, not with 42P05.
	for range 2 {
		if _, err := conn.Exec(ctx, "INSERT INTO users (id, name) VALUES ($1, $1)", int64(77)); pgCode(err) != "42P08" {
			t.Errorf("a statement the server cannot prepare: %v, want 42P08 each time", err)
		}
	}

	// Errors in the extended protocol: reported, and the session goes on.
	if _, err := conn.Exec(ctx, "SELECT * FROM nosuchtable WHERE id = $1", 1); pgCode(err) != "42P01" {
		t.Errorf("unknown table: %v", err)
	}
	if _, err := conn.Exec(ctx, "SELEC $1", 1); pgCode(err) != "42601" {
		t.Errorf("syntax error: %v", err)
	}
	if err := conn.QueryRow(ctx, "SELECT name FROM users WHERE id = $1", int64(2)).Scan(&name); err != nil {
		t.Errorf("session unusable after errors: %v", err)
	}
}

// Drivers that never name their statements (lib/pq, psycopg, JDBC before
// its prepare threshold) send the same text in an unnamed Parse every
// time, with other keys: each execution routes by its own parameters.
func TestUnnamedStatementsRouteByTheirOwnParameters(t *testing.T) {
	f := startFixture(t)
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, f.dsn("app", "app-secret"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	const insert = "INSERT INTO users (id, name) VALUES ($1, $2)"
	for id := 1; id <= 20; id++ {
		// ExecParams: unnamed Parse, Bind, Describe, Execute, Sync.
		res := conn.PgConn().ExecParams(ctx, insert, [][]byte{fmt.Appendf(nil, "%d", id), fmt.Appendf(nil, "u%d", id)}, nil, nil, nil).Read()
		if res.Err != nil {
			t.Fatalf("insert %d: %v", id, res.Err)
		}
	}
	for shard := range 2 {
		ids := f.userIDs(t, shard)
		for _, id := range ids {
			if f.shardOf(id) != shard {
				t.Errorf("user %d on shard %d, hashes to %d", id, shard, f.shardOf(id))
			}
		}
		if len(ids) == 0 || len(ids) == 20 {
			t.Errorf("shard %d holds %d of 20 rows: not spread", shard, len(ids))
		}
	}
	if err := f.cluster.WaitReplicated(ctx); err != nil {
		t.Fatal(err)
	}
	for id := 1; id <= 20; id++ {
		res := conn.PgConn().ExecParams(ctx, "SELECT name FROM users WHERE id = $1", [][]byte{fmt.Appendf(nil, "%d", id)}, nil, nil, nil).Read()
		if res.Err != nil || len(res.Rows) != 1 || string(res.Rows[0][0]) != fmt.Sprintf("u%d", id) {
			t.Errorf("point read %d: %q %v", id, res.Rows, res.Err)
		}
		// Another text in between: it is routed as itself (a scan of
		// every shard), not as the point read before it.
		res = conn.PgConn().ExecParams(ctx, "SELECT count(*) FROM users WHERE name <> $1", [][]byte{fmt.Appendf(nil, "u%d", id)}, nil, nil, nil).Read()
		if res.Err != nil || len(res.Rows) != 1 || string(res.Rows[0][0]) != "19" {
			t.Errorf("scatter count after point read %d: %q %v", id, res.Rows, res.Err)
		}
	}
}

// Statements of the extended protocol count against the same bound as
// shapes: a client sending many distinct texts leaves each server
// connection with at most maxStatementsPerConn prepared, the newest.
func TestExtendedStatementsPerConnectionBound(t *testing.T) {
	old := maxStatementsPerConn
	maxStatementsPerConn = 5
	t.Cleanup(func() { maxStatementsPerConn = old })
	c := startCluster(t, localcluster.Options{ReplicasPerShard: localcluster.NoReplicas})
	f := serveProxy(t, c, Options{}, func(c *topology.Config) { c.Databases[0].Pool.MaxPerBackend = 1 })
	ctx := t.Context()
	proxy := f.connect(t).PgConn()
	var texts []string
	for i := range 12 {
		sql := fmt.Sprintf("SELECT /* shard=-80 */ $1::int AS c%d", i)
		res := proxy.ExecParams(ctx, sql, [][]byte{[]byte("1")}, nil, nil, nil).Read()
		if res.Err != nil || len(res.Rows) != 1 || string(res.Rows[0][0]) != "1" {
			t.Fatalf("%s: %q %v", sql, res.Rows, res.Err)
		}
		texts = append(texts, sql)
	}
	res := proxy.ExecParams(ctx, "SELECT /* shard=-80 */ statement FROM pg_prepared_statements ORDER BY statement", nil, nil, nil, nil).Read()
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	held := map[string]bool{}
	for _, row := range res.Rows {
		held[string(row[0])] = true
	}
	if len(res.Rows) > 5 {
		t.Errorf("the connection holds %d statements, want at most 5", len(res.Rows))
	}
	for i, sql := range texts {
		if want := i >= len(texts)-4; held[sql] != want { // the newest four, and the query asking
			t.Errorf("statement %d held: %v, want %v", i, held[sql], want)
		}
	}
}

// A client keeps at most maxSessionStatements statements: the next Parse
// fails with 53400, and closing one makes room.
func TestStatementsPerClientLimit(t *testing.T) {
	old := maxSessionStatements
	maxSessionStatements = 5
	t.Cleanup(func() { maxSessionStatements = old })
	f := startFixture(t)
	ctx := t.Context()
	conn := f.connect(t)
	for i := range 5 {
		if _, err := conn.Prepare(ctx, fmt.Sprintf("s%d", i), fmt.Sprintf("SELECT %d", i)); err != nil {
			t.Fatalf("statement %d: %v", i, err)
		}
	}
	if _, err := conn.Prepare(ctx, "s5", "SELECT 5"); pgCode(err) != "53400" {
		t.Fatalf("statement 6 of a limit of 5: %v, want 53400", err)
	}
	if err := conn.Deallocate(ctx, "s0"); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Prepare(ctx, "s5", "SELECT 5"); err != nil {
		t.Fatalf("after closing one: %v", err)
	}
	var n int
	if err := conn.QueryRow(ctx, "s5").Scan(&n); err != nil || n != 5 {
		t.Fatalf("the new statement: %d %v", n, err)
	}
}
