package main

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"

	"github.com/shardgate/shardgate/topology"
	"github.com/shardgate/shardgate/topology/localcluster"
)

// Clients of the integration tests: sessions through the proxy, direct
// superuser connections to the servers, keys and their shards.

func (f *stackFixture) pgDSN() string {
	return fmt.Sprintf("postgres://app:app-secret@%s/shop?sslmode=disable&connect_timeout=5", f.pgAddr)
}

// pgConnect opens a pgx connection through the proxy (the extended
// protocol, as applications use it).
func (f *stackFixture) pgConnect(t *testing.T) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), f.pgDSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func (f *stackFixture) myDSN() string {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName = "app", "app-secret", "tcp", f.myAddr, "shop"
	cfg.Timeout = 5 * time.Second
	cfg.InterpolateParams = true
	return cfg.FormatDSN()
}

// myOpen opens a go-sql-driver handle through the proxy; params
// ("interpolateParams=false") are added to the DSN.
func (f *stackFixture) myOpen(t *testing.T, params ...string) *sql.DB {
	t.Helper()
	dsn := f.myDSN()
	for _, p := range params {
		dsn += "&" + p
	}
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// portReader returns a point read by key through the proxy for each of
// workers client sessions: it answers the port of the server that ran it
// (PostgreSQL inet_server_port(), MariaDB @@port) and the user's name.
// Even workers send statements as text (pgx simple protocol, MySQL
// interpolated parameters), odd ones as prepared statements.
func (f *stackFixture) portReader(t *testing.T, kind localcluster.Kind, workers int) func(w int, key int64) (int, string, error) {
	t.Helper()
	if kind == localcluster.KindPostgres {
		conns := make([]*pgx.Conn, workers)
		for w := range conns {
			cfg, err := pgx.ParseConfig(f.pgDSN())
			if err != nil {
				t.Fatal(err)
			}
			if w%2 == 0 {
				cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
			}
			if conns[w], err = pgx.ConnectConfig(t.Context(), cfg); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { conns[w].Close(context.Background()) })
		}
		return func(w int, key int64) (port int, name string, err error) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err = conns[w].QueryRow(ctx, "SELECT inet_server_port(), name FROM users WHERE id = $1", key).Scan(&port, &name)
			return port, name, err
		}
	}
	text, prepared := f.myOpen(t), f.myOpen(t, "interpolateParams=false")
	const q = "SELECT @@port, name FROM users WHERE id = ?"
	stmt, err := prepared.PrepareContext(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stmt.Close() })
	for _, db := range []*sql.DB{text, prepared} {
		db.SetMaxOpenConns(workers)
		db.SetMaxIdleConns(workers)
	}
	return func(w int, key int64) (port int, name string, err error) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if w%2 == 0 {
			err = text.QueryRowContext(ctx, q, key).Scan(&port, &name)
		} else {
			err = stmt.QueryRowContext(ctx, key).Scan(&port, &name)
		}
		return port, name, err
	}
}

// rowsReader returns, for each of workers client sessions, a run of
// query (whose first column is the answering server's port) through the
// proxy: it answers that port and the number of rows. Even workers send
// it as text, odd ones as a prepared statement.
func (f *stackFixture) rowsReader(t *testing.T, kind localcluster.Kind, workers int, query string) func(w int) (port, rows int, err error) {
	t.Helper()
	count := func(next func() bool, scan func(...any) error) (port, n int, err error) {
		var name string
		for next() {
			if err := scan(&port, &name); err != nil {
				return 0, 0, err
			}
			n++
		}
		return port, n, nil
	}
	if kind == localcluster.KindPostgres {
		conns := make([]*pgx.Conn, workers)
		for w := range conns {
			cfg, err := pgx.ParseConfig(f.pgDSN())
			if err != nil {
				t.Fatal(err)
			}
			if w%2 == 0 {
				cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
			}
			if conns[w], err = pgx.ConnectConfig(t.Context(), cfg); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { conns[w].Close(context.Background()) })
		}
		return func(w int) (int, int, error) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			rows, err := conns[w].Query(ctx, query)
			if err != nil {
				return 0, 0, err
			}
			defer rows.Close()
			port, n, err := count(rows.Next, rows.Scan)
			if err == nil {
				err = rows.Err()
			}
			return port, n, err
		}
	}
	text, prepared := f.myOpen(t), f.myOpen(t, "interpolateParams=false")
	for _, db := range []*sql.DB{text, prepared} {
		db.SetMaxOpenConns(workers)
		db.SetMaxIdleConns(workers)
	}
	stmt, err := prepared.PrepareContext(t.Context(), query)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stmt.Close() })
	return func(w int) (int, int, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var rows *sql.Rows
		var err error
		if w%2 == 0 {
			rows, err = text.QueryContext(ctx, query)
		} else {
			rows, err = stmt.QueryContext(ctx)
		}
		if err != nil {
			return 0, 0, err
		}
		defer rows.Close()
		port, n, err := count(rows.Next, rows.Scan)
		if err == nil {
			err = rows.Err()
		}
		return port, n, err
	}
}

// writer returns an insert of user key (named u<key>) through one proxy
// session.
func (f *stackFixture) writer(t *testing.T, kind localcluster.Kind) func(key int64) error {
	t.Helper()
	if kind == localcluster.KindPostgres {
		conn := f.pgConnect(t)
		return func(key int64) error {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, err := conn.Exec(ctx, "INSERT INTO users (id, name) VALUES ($1, $2)", key, fmt.Sprintf("u%d", key))
			return err
		}
	}
	db := f.myOpen(t)
	db.SetMaxOpenConns(1)
	return func(key int64) error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err := db.ExecContext(ctx, "INSERT INTO users (id, name) VALUES (?, ?)", key, fmt.Sprintf("u%d", key))
		return err
	}
}

// adminExec returns a runner of superuser statements on node n (pausing
// replication and such), failing the test on error.
func (f *stackFixture) adminExec(t *testing.T, c *localcluster.Cluster, n *localcluster.Node) func(sql string) {
	t.Helper()
	if c.Kind == localcluster.KindPostgres {
		conn := pgAdmin(t, c, n)
		return func(sql string) {
			t.Helper()
			if _, err := conn.Exec(t.Context(), sql); err != nil {
				t.Fatalf("%s on %s: %v", sql, n, err)
			}
		}
	}
	db := myAdmin(t, c, n)
	return func(sql string) {
		t.Helper()
		if _, err := db.ExecContext(t.Context(), sql); err != nil {
			t.Fatalf("%s on %s: %v", sql, n, err)
		}
	}
}

// clientSessions returns a counter of the TCP client sessions node n
// serves for the cluster's account (the proxy's pools and probes), seen
// through a superuser connection over the node's unix socket.
func (f *stackFixture) clientSessions(t *testing.T, c *localcluster.Cluster, n *localcluster.Node) func() int {
	t.Helper()
	if c.Kind == localcluster.KindPostgres {
		conn := pgAdmin(t, c, n)
		return func() int {
			var k int
			if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM pg_stat_activity
				WHERE backend_type = 'client backend' AND client_addr IS NOT NULL AND usename = $1`, c.Options.User).Scan(&k); err != nil {
				t.Fatal(err)
			}
			return k
		}
	}
	db := myAdmin(t, c, n)
	return func() int {
		var k int
		if err := db.QueryRowContext(t.Context(), "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = ?", c.Options.User).Scan(&k); err != nil {
			t.Fatal(err)
		}
		return k
	}
}

// sessionList describes the backend user's sessions on a server, for a
// failure message.
func sessionList(t *testing.T, c *localcluster.Cluster, n *localcluster.Node) string {
	t.Helper()
	q := "SELECT CONCAT_WS(' ', ID, HOST, COMMAND, TIME, STATE, INFO) FROM information_schema.PROCESSLIST WHERE USER = ?"
	if c.Kind == localcluster.KindPostgres {
		q = `SELECT concat_ws(' ', pid, client_addr, client_port, state, now() - state_change, query) FROM pg_stat_activity
			WHERE backend_type = 'client backend' AND client_addr IS NOT NULL AND usename = $1`
	}
	var rows []string
	if c.Kind == localcluster.KindPostgres {
		r, err := pgAdmin(t, c, n).Query(t.Context(), q, c.Options.User)
		if err != nil {
			return err.Error()
		}
		rows, err = pgx.CollectRows(r, pgx.RowTo[string])
		if err != nil {
			return err.Error()
		}
	} else {
		r, err := myAdmin(t, c, n).QueryContext(t.Context(), q, c.Options.User)
		if err != nil {
			return err.Error()
		}
		defer r.Close()
		for r.Next() {
			var s string
			if r.Scan(&s) == nil {
				rows = append(rows, s)
			}
		}
	}
	return strings.Join(rows, "\n")
}

// shardOf is the index of the shard (of n even ranges, as
// TopologyDatabase lays them out) that owns an int key.
func shardOf(key int64, n int) int {
	id := topology.IntKeyspaceID(key)
	for i, r := range topology.EvenRanges(n) {
		if r.Contains(id) {
			return i
		}
	}
	panic("no shard owns the key")
}

// keysOn returns count keys from start on that shard.
func keysOn(shard, shards, count int, start int64) []int64 {
	var out []int64
	for k := start; len(out) < count; k++ {
		if shardOf(k, shards) == shard {
			out = append(out, k)
		}
	}
	return out
}

// seedUsers inserts users 1..n, named u<id>, directly on their shards and
// waits until the replicas have them.
func seedUsers(t *testing.T, c *localcluster.Cluster, n int) {
	t.Helper()
	stmts := make([][]string, len(c.Shards))
	for k := int64(1); k <= int64(n); k++ {
		i := shardOf(k, len(c.Shards))
		stmts[i] = append(stmts[i], fmt.Sprintf("(%d, 'u%d')", k, k))
	}
	for i, sh := range c.Shards {
		if len(stmts[i]) == 0 {
			continue
		}
		if err := c.Exec(t.Context(), sh.Primary, "INSERT INTO users (id, name) VALUES "+strings.Join(stmts[i], ", ")); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.WaitReplicated(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// pgAdmin is a superuser connection to a node (for pausing replay).
func pgAdmin(t *testing.T, c *localcluster.Cluster, n *localcluster.Node) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), c.AdminDSN(n))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// myAdmin is a root handle on a MariaDB node.
func myAdmin(t *testing.T, c *localcluster.Cluster, n *localcluster.Node) *sql.DB {
	t.Helper()
	db, err := sql.Open("mysql", c.AdminDSN(n))
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}
