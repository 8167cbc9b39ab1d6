package myserver

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"gopkg.in/yaml.v3"

	"github.com/shardgate/shardgate/topology"
	"github.com/shardgate/shardgate/topology/localcluster"
)

// fixture is a MariaDB cluster (two shards) with a shardgate MySQL proxy
// in front of it.
type fixture struct {
	cluster *localcluster.Cluster
	db      *topology.DB
	addr    string // the proxy
	srv     *Server
}

const schema = `CREATE TABLE users (id BIGINT PRIMARY KEY, name VARCHAR(64), score INT, balance DECIMAL(10,2));
CREATE TABLE orders (id BIGINT AUTO_INCREMENT PRIMARY KEY, user_id BIGINT NOT NULL, amount DECIMAL(10,2), note VARCHAR(64));
CREATE TABLE countries (code CHAR(2) PRIMARY KEY, name VARCHAR(64));
CREATE TABLE settings (k VARCHAR(32) PRIMARY KEY, v VARCHAR(64))`

// startFixture starts the cluster with the schema on every shard and a
// proxy on a free port. replicas is the number of replicas per shard.
func startFixture(t testing.TB, replicas int, edits ...func(*topology.Config)) *fixture {
	t.Helper()
	return startFixtureWith(t, localcluster.Options{ReplicasPerShard: replicas}, edits...)
}

// startFixtureWith is startFixture with cluster options (o.ReplicasPerShard
// 0: none).
func startFixtureWith(t testing.TB, o localcluster.Options, edits ...func(*topology.Config)) *fixture {
	t.Helper()
	if testing.Short() {
		t.Skip("starts real MariaDB servers")
	}
	if o.ReplicasPerShard == 0 {
		o.ReplicasPerShard = localcluster.NoReplicas
	}
	o.Shards, o.Database = 2, "shop"
	c := localcluster.StartForTest(t, localcluster.KindMySQL, o)
	ctx := t.Context()
	for _, sh := range c.Shards {
		if err := c.Exec(ctx, sh.Primary, schema); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.WaitReplicated(ctx); err != nil {
		t.Fatal(err)
	}
	cfg := topology.Config{
		Listen: topology.Listen{MySQL: "127.0.0.1:1"},
		Users:  []topology.User{{Name: "app", Password: "app-secret"}},
		Databases: []topology.Database{func() topology.Database {
			d := c.TopologyDatabase("shop")
			d.Tables = map[string]topology.TableRule{
				"users": {Key: "id", Type: "int"}, "orders": {Key: "user_id", Type: "int"}, "countries": {Reference: true},
			}
			return d
		}()},
	}
	if o.TLS {
		cfg.Databases[0].Backend.TLS, cfg.Databases[0].Backend.CA = topology.BackendTLSVerifyFull, c.CAFile()
	}
	for _, edit := range edits {
		edit(&cfg)
	}
	data, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := topology.Parse("test.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	db, _ := snap.Database(topology.MySQL, "shop")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(topology.NewStoreFrom("test.yaml", snap), Options{})
	if err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(sctx, ln) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("proxy did not stop")
		}
	})
	return &fixture{cluster: c, db: db, addr: ln.Addr().String(), srv: srv}
}

// dsn is a go-sql-driver DSN for the proxy.
func (f *fixture) dsn(user, password string, params map[string]string) string {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName = user, password, "tcp", f.addr, "shop"
	cfg.AllowNativePasswords = true
	cfg.Params = params
	cfg.Timeout = 10 * time.Second
	return cfg.FormatDSN()
}

// open returns a database handle through the proxy.
func (f *fixture) open(t testing.TB, params map[string]string) *sql.DB {
	t.Helper()
	db, err := sql.Open("mysql", f.dsn("app", "app-secret", params))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// shardDB opens a direct connection to a shard's primary.
func (f *fixture) shardDB(t testing.TB, i int) *sql.DB {
	t.Helper()
	db, err := sql.Open("mysql", f.cluster.DSN(f.cluster.Shards[i].Primary))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// globalStatus adds up a server status counter over every shard primary
// (name is a test's constant: SHOW takes no placeholder).
func (f *fixture) globalStatus(t testing.TB, name string) int64 {
	t.Helper()
	var total int64
	for i := range f.cluster.Shards {
		var got string
		var n int64
		if err := f.shardDB(t, i).QueryRow("SHOW GLOBAL STATUS LIKE '"+name+"'").Scan(&got, &n); err != nil {
			t.Fatalf("%s on shard %d: %v", name, i, err)
		}
		total += n
	}
	return total
}

// ownerOf is the index of the shard that owns an int key.
func (f *fixture) ownerOf(key int64) int {
	return f.db.ShardIndex(topology.IntKeyspaceID(key))
}

func mustExec(t testing.TB, db *sql.DB, query string, args ...any) sql.Result {
	t.Helper()
	r, err := db.Exec(query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return r
}

func queryInt(t testing.TB, db *sql.DB, query string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := db.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func queryStrings(t testing.TB, db *sql.DB, query string, args ...any) []string {
	t.Helper()
	rows, err := db.Query(query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		line := ""
		for i, v := range vals {
			if i > 0 {
				line += "|"
			}
			if v.Valid {
				line += v.String
			} else {
				line += "NULL"
			}
		}
		out = append(out, line)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return out
}

func fmtRows(rows []string) string { return fmt.Sprintf("%q", rows) }
