package pgserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/shardgate/shardgate/topology"
	"github.com/shardgate/shardgate/topology/localcluster"
)

// fixture is a real 2-shard PostgreSQL cluster (a streaming replica per
// shard) with shardgate in front.
type fixture struct {
	cluster *localcluster.Cluster
	db      *topology.DB
	addr    string // the proxy
	srv     *Server
	// stop cancels Serve's context and returns what Serve returned (or
	// fails the test if it does not return in time). Safe to call twice.
	stop func() error
}

const schema = `
CREATE TABLE users (id bigint PRIMARY KEY, name text, country text);
CREATE TABLE orders (id bigint, user_id bigint, total numeric, status text, PRIMARY KEY (user_id, id));
CREATE TABLE countries (code text PRIMARY KEY, name text);
CREATE TABLE settings (k text PRIMARY KEY, v text);`

func startFixture(t testing.TB, edits ...func(*topology.Config)) *fixture {
	t.Helper()
	return startFixtureWith(t, Options{}, edits...)
}

// startFixtureWith starts the cluster with the schema on every shard and
// a proxy with opts in front of it.
func startFixtureWith(t testing.TB, opts Options, edits ...func(*topology.Config)) *fixture {
	t.Helper()
	return serveProxy(t, startCluster(t, localcluster.Options{}), opts, edits...)
}

// startCluster starts a 2-shard cluster (o adds options) with the schema
// on every shard.
func startCluster(t testing.TB, o localcluster.Options) *localcluster.Cluster {
	t.Helper()
	if testing.Short() {
		t.Skip("starts real PostgreSQL servers")
	}
	o.Shards, o.Database = 2, "shop"
	c := localcluster.StartForTest(t, localcluster.KindPostgres, o)
	ctx := t.Context()
	for _, sh := range c.Shards {
		conn, err := pgx.Connect(ctx, c.DSN(sh.Primary))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(ctx, schema); err != nil {
			t.Fatal(err)
		}
		conn.Close(ctx)
	}
	if err := c.WaitReplicated(ctx); err != nil { // replicas serve reads: they need the schema
		t.Fatal(err)
	}
	return c
}

// serveProxy starts a proxy in front of a running cluster (a test may run
// several, with different topologies, over one cluster).
func serveProxy(t testing.TB, c *localcluster.Cluster, opts Options, edits ...func(*topology.Config)) *fixture {
	t.Helper()
	cfg := topology.Config{
		Listen: topology.Listen{Postgres: "127.0.0.1:1"},
		Users:  []topology.User{{Name: "app", Password: "app-secret"}},
		Databases: []topology.Database{func() topology.Database {
			d := c.TopologyDatabase("shop")
			d.Tables = map[string]topology.TableRule{
				"users": {Key: "id", Type: "int"}, "orders": {Key: "user_id", Type: "int"}, "countries": {Reference: true},
			}
			return d
		}()},
	}
	for _, edit := range edits {
		edit(&cfg)
	}
	data, err := yamlOf(cfg)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := topology.Parse("test.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	db, _ := snap.Database(topology.Postgres, "shop")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := New(topology.NewStoreFrom("test.yaml", snap), opts)
	sctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(sctx, ln) }()
	var once sync.Once
	var serveErr error
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case serveErr = <-done:
			case <-time.After(30 * time.Second):
				serveErr = errors.New("proxy did not stop")
				t.Error(serveErr)
			}
		})
		return serveErr
	}
	t.Cleanup(func() { stop() })
	return &fixture{cluster: c, db: db, addr: ln.Addr().String(), srv: srv, stop: stop}
}

func (f *fixture) dsn(user, password string) string {
	return fmt.Sprintf("postgres://%s:%s@%s/shop?sslmode=disable", user, password, f.addr)
}

// connect opens a pgx connection through the proxy (simple protocol until
// the extended protocol is built).
func (f *fixture) connect(t testing.TB) *pgx.Conn {
	t.Helper()
	cfg, err := pgx.ParseConfig(f.dsn("app", "app-secret"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	conn, err := pgx.ConnectConfig(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// shardOf says which shard index a user id lives on.
func (f *fixture) shardOf(id int64) int {
	return f.db.ShardIndex(topology.IntKeyspaceID(id))
}

// direct reads one shard's primary, bypassing the proxy.
func (f *fixture) direct(t *testing.T, shard int) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), f.cluster.DSN(f.cluster.Shards[shard].Primary))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

func TestProxyEndToEnd(t *testing.T) {
	f := startFixture(t)
	ctx := t.Context()
	conn := f.connect(t)

	// Writes land on the shard their key hashes to, and only there.
	if _, err := conn.Exec(ctx, "INSERT INTO users (id, name, country) VALUES (1, 'one', 'DE')"); err != nil {
		t.Fatal(err)
	}
	var values []string
	for id := int64(2); id <= 40; id++ {
		values = append(values, fmt.Sprintf("(%d, 'user%d', '%s')", id, id, []string{"DE", "FR", "NL"}[id%3]))
	}
	tag, err := conn.Exec(ctx, "INSERT INTO users (id, name, country) VALUES "+strings.Join(values, ", "))
	if err != nil {
		t.Fatal(err)
	}
	if tag.RowsAffected() != 39 {
		t.Errorf("split INSERT reported %d rows, want 39", tag.RowsAffected())
	}
	counts := [2]int{}
	for shard := range 2 {
		rows, err := f.direct(t, shard).Query(ctx, "SELECT id FROM users")
		if err != nil {
			t.Fatal(err)
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range ids {
			if f.shardOf(id) != shard {
				t.Errorf("user %d is on shard %d, its key hashes to shard %d", id, shard, f.shardOf(id))
			}
		}
		counts[shard] = len(ids)
	}
	if counts[0]+counts[1] != 40 || counts[0] == 0 || counts[1] == 0 {
		t.Fatalf("rows per shard %v, want 40 in all, on both shards", counts)
	}
	if err := f.cluster.WaitReplicated(ctx); err != nil {
		t.Fatal(err)
	}

	// Point read by key (a replica serves it).
	var name string
	if err := conn.QueryRow(ctx, "SELECT name FROM users WHERE id = 7").Scan(&name); err != nil || name != "user7" {
		t.Errorf("point read: %q %v", name, err)
	}
	// Scatter reads merged: count, ORDER BY + LIMIT/OFFSET, AVG, GROUP BY.
	var n int64
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM users").Scan(&n); err != nil || n != 40 {
		t.Errorf("count(*) = %d, %v; want 40", n, err)
	}
	rows, _ := conn.Query(ctx, "SELECT id FROM users ORDER BY id DESC LIMIT 5 OFFSET 3")
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil || fmt.Sprint(ids) != "[37 36 35 34 33]" {
		t.Errorf("ORDER BY id DESC LIMIT 5 OFFSET 3 = %v, %v", ids, err)
	}
	var avg float64
	if err := conn.QueryRow(ctx, "SELECT avg(id) FROM users").Scan(&avg); err != nil || avg != 20.5 {
		t.Errorf("avg(id) = %v, %v; want 20.5", avg, err)
	}
	if _, err := conn.Exec(ctx, "SELECT avg(id)::text FROM users"); pgCode(err) != "0A000" {
		t.Errorf("expression over an aggregate across shards must be refused: %v", err)
	}
	rows, _ = conn.Query(ctx, "SELECT country, count(*) FROM users GROUP BY country ORDER BY country")
	type group struct {
		Country string
		N       int64
	}
	groups, err := pgx.CollectRows(rows, pgx.RowToStructByPos[group])
	if err != nil || fmt.Sprint(groups) != "[{DE 14} {FR 13} {NL 13}]" {
		t.Errorf("GROUP BY country = %v, %v", groups, err)
	}

	// Scatter write: counts summed.
	tag, err = conn.Exec(ctx, "UPDATE users SET name = name || '!' WHERE id > 30")
	if err != nil || tag.RowsAffected() != 10 {
		t.Errorf("scatter UPDATE: %v rows, %v", tag.RowsAffected(), err)
	}

	// Errors: the server's own pass through; the proxy's carry SQLSTATEs.
	if _, err := conn.Exec(ctx, "SELECT * FROM nosuchtable"); pgCode(err) != "42P01" {
		t.Errorf("unknown table: %v", err)
	}
	if _, err := conn.Exec(ctx, "SELEC 1"); pgCode(err) != "42601" {
		t.Errorf("syntax error: %v", err)
	}
	if _, err := conn.Exec(ctx, "SELECT * FROM users u JOIN orders o ON o.id = u.id"); pgCode(err) != "0A000" {
		t.Errorf("cross-shard join: %v", err)
	}
	if _, err := conn.Exec(ctx, "SELECT 1"); err != nil {
		t.Errorf("session unusable after errors: %v", err)
	}
}

func TestProxyTransactions(t *testing.T) {
	f := startFixture(t)
	ctx := t.Context()
	conn := f.connect(t)
	a, b := int64(1), int64(2)
	for f.shardOf(b) == f.shardOf(a) {
		b++
	}
	// Committed: visible afterwards.
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, fmt.Sprintf("INSERT INTO users (id, name) VALUES (%d, 'a')", a)); err != nil {
		t.Fatal(err)
	}
	var name string
	if err := tx.QueryRow(ctx, fmt.Sprintf("SELECT name FROM users WHERE id = %d", a)).Scan(&name); err != nil || name != "a" {
		t.Errorf("read own write in tx: %q %v", name, err)
	}
	// A second shard in the same transaction is refused, and the
	// transaction is then aborted.
	_, err = tx.Exec(ctx, fmt.Sprintf("INSERT INTO users (id, name) VALUES (%d, 'b')", b))
	if pgCode(err) != "0A000" || !strings.Contains(err.Error(), "transaction") {
		t.Errorf("second shard in tx: %v", err)
	}
	if _, err := tx.Exec(ctx, "SELECT 1"); pgCode(err) != "25P02" {
		t.Errorf("statement after error in tx: %v", err)
	}
	tx.Rollback(ctx)
	var n int64
	f.direct(t, f.shardOf(a)).QueryRow(ctx, fmt.Sprintf("SELECT count(*) FROM users WHERE id = %d", a)).Scan(&n)
	if n != 0 {
		t.Error("rolled back insert is on the shard")
	}

	tx, _ = conn.Begin(ctx)
	tx.Exec(ctx, fmt.Sprintf("INSERT INTO users (id, name) VALUES (%d, 'kept')", a))
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	f.direct(t, f.shardOf(a)).QueryRow(ctx, fmt.Sprintf("SELECT name FROM users WHERE id = %d", a)).Scan(&name)
	if name != "kept" {
		t.Errorf("committed row = %q", name)
	}
}

// Session settings follow the client, never another client.
func TestProxySettingsDoNotLeak(t *testing.T) {
	f := startFixture(t)
	ctx := t.Context()
	a := f.connect(t)
	if _, err := a.Exec(ctx, "SET statement_timeout = '4321ms'"); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		var v string
		a.QueryRow(ctx, "SHOW statement_timeout").Scan(&v)
		if v != "4321ms" {
			t.Fatalf("client A lost its setting: %q", v)
		}
	}
	b := f.connect(t)
	for range 5 {
		var v string
		b.QueryRow(ctx, "SHOW statement_timeout").Scan(&v)
		if v != "0" {
			t.Fatalf("client B sees A's setting: %q", v)
		}
	}
	if _, err := a.Exec(ctx, "RESET statement_timeout"); err != nil {
		t.Fatal(err)
	}
	var v string
	a.QueryRow(ctx, "SHOW statement_timeout").Scan(&v)
	if v != "0" {
		t.Errorf("after RESET: %q", v)
	}
}

func TestProxyAuthAndStartupErrors(t *testing.T) {
	f := startFixture(t)
	ctx := t.Context()
	for _, c := range []struct{ user, password, db, code string }{
		{"app", "wrong", "shop", "28P01"},
		{"nobody", "app-secret", "shop", "28P01"},
		{"app", "app-secret", "nodb", "3D000"},
	} {
		dsn := fmt.Sprintf("postgres://%s:%s@%s/%s?sslmode=disable", c.user, c.password, f.addr, c.db)
		_, err := pgx.Connect(ctx, dsn)
		if pgCode(err) != c.code {
			t.Errorf("%s/%s: err = %v, want %s", c.user, c.db, err, c.code)
		}
	}
}

// psql, the DBA's tool, works through the proxy.
func TestProxyPsql(t *testing.T) {
	f := startFixture(t)
	psql := pgTool(t, "psql")
	cmd := exec.CommandContext(t.Context(), psql, f.dsn("app", "app-secret"), "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1",
		"-c", "INSERT INTO users (id, name) VALUES (1, 'a'), (2, 'b'), (3, 'c')",
		// Replicas may not have replayed the insert yet: ask the primaries.
		"-c", "/* role=primary */ SELECT count(*) FROM users",
		"-c", "/* role=primary */ SELECT name FROM users WHERE id = 2")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("psql: %v\n%s", err, out)
	}
	if got := strings.TrimSpace(string(out)); got != "INSERT 0 3\n3\nb" {
		t.Errorf("psql output:\n%s", got)
	}
}

// Session-state commands never reach a pooled connection's state.
func TestProxySessionCommands(t *testing.T) {
	f := startFixture(t)
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, f.dsn("app", "app-secret")) // extended protocol: prepared statements in use
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int64
	for range 3 {
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM settings WHERE k = $1", "x").Scan(&n); err != nil {
			t.Fatal(err)
		}
	}
	for _, sql := range []string{"DISCARD ALL", "DEALLOCATE ALL", "DISCARD PLANS"} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Errorf("%s: %v", sql, err)
		}
	}
	// DISCARD ALL forgot this client's statements, as PostgreSQL does, but
	// never touched the servers: the statements the proxy prepared on its
	// pooled connections still serve another client.
	other, err := pgx.Connect(ctx, f.dsn("app", "app-secret"))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close(ctx)
	for range 3 {
		if err := other.QueryRow(ctx, "SELECT count(*) FROM settings WHERE k = $1", "x").Scan(&n); err != nil {
			t.Errorf("another client after DISCARD ALL: %v", err)
		}
	}
	for _, sql := range []string{"CREATE TEMP TABLE t (a int)", "LISTEN events"} {
		if _, err := conn.Exec(ctx, sql); pgCode(err) != "0A000" {
			t.Errorf("%s: %v, want 0A000", sql, err)
		}
	}
}

// A psql script gives the same output through shardgate as against one
// unsharded PostgreSQL database.
func TestProxyPsqlScriptMatchesUnsharded(t *testing.T) {
	f := startFixture(t, func(c *topology.Config) {
		c.Databases[0].Tables["items"] = topology.TableRule{Key: "user_id", Type: "int"}
		c.Databases[0].Tables["kinds"] = topology.TableRule{Reference: true}
		c.Databases[0].ReadPolicy = string(topology.PrimaryOnly) // read what was just written
	})
	single := localcluster.StartForTest(t, localcluster.KindPostgres, localcluster.Options{Shards: 1, ReplicasPerShard: localcluster.NoReplicas, Database: "shop"})
	psql := pgTool(t, "psql")
	run := func(dsn string) string {
		out, err := exec.CommandContext(t.Context(), psql, dsn, "-X", "-A", "-v", "ON_ERROR_STOP=1", "-f", "testdata/psql_script.sql").CombinedOutput()
		if err != nil {
			t.Fatalf("psql against %s: %v\n%s", dsn, err, out)
		}
		return string(out)
	}
	want := run(single.DSN(single.Shards[0].Primary))
	got := run(f.dsn("app", "app-secret"))
	if got != want {
		t.Errorf("output through shardgate differs from one database:\n--- shardgate\n%s\n--- single\n%s", got, want)
	}
	// And the rows really are spread over both shards.
	for shard := range 2 {
		var n int64
		f.direct(t, shard).QueryRow(t.Context(), "SELECT count(*) FROM items").Scan(&n)
		if n == 0 {
			t.Errorf("shard %d holds no items: nothing was sharded", shard)
		}
	}
}
