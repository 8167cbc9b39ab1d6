package localcluster

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib"
)

func TestPostgresCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: starts real PostgreSQL servers")
	}
	t.Parallel()
	runClusterScenario(t, KindPostgres, Options{Shards: 2, ReplicasPerShard: 1, PGAuth: PGAuthSCRAM})
}

func TestMariaDBCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: starts real MariaDB servers")
	}
	t.Parallel()
	runClusterScenario(t, KindMySQL, Options{Shards: 2, ReplicasPerShard: 1})
}

// runClusterScenario: rows written on each primary reach that shard's
// replica only; replicas refuse writes; a stopped (or killed) replica
// restarts on its port and catches up; Close leaves nothing behind.
func runClusterScenario(t *testing.T, kind Kind, o Options) {
	c := StartForTest(t, kind, o)
	ctx := t.Context()
	checkShape(t, c, o)

	for i, s := range c.Shards {
		db := openDB(t, c, s.Primary)
		mustExec(t, db, "CREATE TABLE probe (id INT PRIMARY KEY, v VARCHAR(64))")
		mustExec(t, db, fmt.Sprintf("INSERT INTO probe VALUES (1, 'shard-%d')", i))
	}
	for i, s := range c.Shards {
		r := openDB(t, c, s.Replicas[0])
		waitRow(t, r, 1, fmt.Sprintf("shard-%d", i))
		_, err := r.ExecContext(ctx, "INSERT INTO probe VALUES (2, 'on-replica')")
		if err == nil || !strings.Contains(err.Error(), "read-only") {
			t.Errorf("%s: write on replica: err = %v, want a read-only error", s.Replicas[0], err)
		}
		other := openDB(t, c, c.Shards[1-i].Primary)
		var n int
		if err := other.QueryRowContext(ctx, fmt.Sprintf("SELECT count(*) FROM probe WHERE v = 'shard-%d'", i)).Scan(&n); err != nil || n != 0 {
			t.Errorf("shard %d's row on shard %d: count %d, err %v; want 0", i, 1-i, n, err)
		}
	}

	// Shard 0: graceful stop. Shard 1: SIGKILL, as a crash.
	for i, s := range c.Shards {
		r := s.Replicas[0]
		pid, port := r.PID(), r.Port
		if i == 0 {
			if err := r.Stop(ctx); err != nil {
				t.Fatal(err)
			}
		} else if err := r.Kill(); err != nil {
			t.Fatal(err)
		}
		if r.Running() || r.PID() != 0 {
			t.Fatalf("%s still running after stop", r)
		}
		assertGone(t, []int{pid}, []string{r.Addr})
		mustExec(t, openDB(t, c, s.Primary), fmt.Sprintf("INSERT INTO probe VALUES (2, 'while-down-%d')", i))
		if err := r.Start(ctx); err != nil {
			t.Fatal(err)
		}
		if r.Port != port || r.PID() == 0 || r.PID() == pid {
			t.Fatalf("%s restarted with port %d pid %d (was %d, %d)", r, r.Port, r.PID(), port, pid)
		}
	}
	waitRow(t, openDB(t, c, c.Shards[0].Replicas[0]), 2, "while-down-0")
	if err := c.WaitReplicated(ctx); err != nil {
		t.Fatal(err)
	}
	if v, err := rowValue(ctx, openDB(t, c, c.Shards[1].Replicas[0]), 2); err != nil || v != "while-down-1" {
		t.Errorf("after WaitReplicated, killed replica has %q, %v; want while-down-1", v, err)
	}

	var pids []int
	var addrs []string
	for _, n := range c.Nodes() {
		pids = append(pids, n.PID())
		addrs = append(addrs, n.Addr)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	assertGone(t, pids, addrs)
	if _, err := os.Stat(c.Dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("cluster dir %s still there: %v", c.Dir, err)
	}
	if err := c.Shards[0].Primary.Start(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("Start after Close: %v, want ErrClosed", err)
	}
}

func checkShape(t *testing.T, c *Cluster, o Options) {
	t.Helper()
	if len(c.Shards) != o.Shards || len(c.Nodes()) != o.Shards*(1+o.ReplicasPerShard) {
		t.Fatalf("%d shards, %d nodes; want %d shards of 1+%d", len(c.Shards), len(c.Nodes()), o.Shards, o.ReplicasPerShard)
	}
	ports := map[int]bool{}
	for _, n := range c.Nodes() {
		if ports[n.Port] || n.Addr != "127.0.0.1:"+strconv.Itoa(n.Port) || !n.Running() {
			t.Errorf("node %s: port %d addr %s running %v", n, n.Port, n.Addr, n.Running())
		}
		ports[n.Port] = true
		wantRole := RoleReplica
		if n.Index == 0 {
			wantRole = RolePrimary
		}
		if n.Role != wantRole || n.Kind != c.Kind {
			t.Errorf("node %s: role %s kind %s", n, n.Role, n.Kind)
		}
	}
}

func openDB(t *testing.T, c *Cluster, n *Node) *sql.DB {
	t.Helper()
	driver := "pgx"
	if c.Kind == KindMySQL {
		driver = "mysql"
	}
	db, err := sql.Open(driver, c.DSN(n))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func mustExec(t *testing.T, db *sql.DB, q string) {
	t.Helper()
	if _, err := db.ExecContext(t.Context(), q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func rowValue(ctx context.Context, db *sql.DB, id int) (string, error) {
	var v string
	err := db.QueryRowContext(ctx, fmt.Sprintf("SELECT v FROM probe WHERE id = %d", id)).Scan(&v)
	return v, err
}

// waitRow polls until row id shows up (the table may not exist yet either).
func waitRow(t *testing.T, db *sql.DB, id int, want string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	err := poll(ctx, 20*time.Millisecond, func(ctx context.Context) error {
		v, err := rowValue(ctx, db, id)
		if err != nil {
			return err
		}
		if v != want {
			return permanent{fmt.Errorf("row %d = %q, want %q", id, v, want)}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("waiting for row %d: %v", id, err)
	}
}

// assertGone checks that no process (nor member of its process group) is
// left for pids and that nothing listens on addrs.
func assertGone(t *testing.T, pids []int, addrs []string) {
	t.Helper()
	for _, pid := range pids {
		if left := processGroup(pid); len(left) > 0 {
			t.Errorf("processes left of group %d: %v", pid, left)
		}
	}
	for _, a := range addrs {
		if conn, err := net.DialTimeout("tcp", a, time.Second); err == nil {
			conn.Close()
			t.Errorf("%s still accepts connections", a)
		}
	}
}

// processGroup lists the live (non-zombie) processes whose pid or process
// group is pgid, as "pid:comm".
func processGroup(pgid int) []string {
	entries, _ := os.ReadDir("/proc")
	var out []string
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...
		s := string(b)
		end := strings.LastIndexByte(s, ')')
		fields := strings.Fields(s[end+1:])
		if len(fields) < 3 || fields[0] == "Z" {
			continue
		}
		if pgrp, _ := strconv.Atoi(fields[2]); pgrp == pgid || pid == pgid {
			out = append(out, fmt.Sprintf("%d:%s", pid, s[strings.IndexByte(s, '(')+1:end]))
		}
	}
	return out
}

func TestPostgresAuth(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: starts real PostgreSQL servers")
	}
	t.Parallel()
	for _, method := range []string{PGAuthTrust, PGAuthMD5, PGAuthSCRAM} {
		t.Run(method, func(t *testing.T) {
			t.Parallel()
			c := StartForTest(t, KindPostgres, Options{Shards: 1, ReplicasPerShard: NoReplicas, PGAuth: method,
				User: "app", Password: "it's-secret", Database: "shop"})
			n := c.Shards[0].Primary
			db := openDB(t, c, n)
			var user, database string
			if err := db.QueryRowContext(t.Context(), "SELECT current_user, current_database()").Scan(&user, &database); err != nil {
				t.Fatal(err)
			}
			if user != "app" || database != "shop" {
				t.Errorf("connected as %s to %s, want app to shop", user, database)
			}
			bad, err := sql.Open("pgx", pgURL("app", "wrong", n.Addr, "shop"))
			if err != nil {
				t.Fatal(err)
			}
			defer bad.Close()
			err = bad.PingContext(t.Context())
			if method == PGAuthTrust && err != nil {
				t.Errorf("trust: wrong password refused: %v", err)
			}
			if method != PGAuthTrust && (err == nil || !strings.Contains(err.Error(), "28P01")) {
				t.Errorf("%s: wrong password: err = %v, want SQLSTATE 28P01", method, err)
			}
		})
	}
}
