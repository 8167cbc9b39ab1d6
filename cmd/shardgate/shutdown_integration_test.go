package main

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shardgate/shardgate/topology/localcluster"
)

// SIGTERM to the real binary drains: new connections are refused at
// once and /readyz says it is shutting down, while open transactions (one
// PostgreSQL, one MySQL) run more statements and commit; the process
// then exits 0 promptly, long before the drain timeout, and the rows are
// on their shards.
func TestServeSIGTERMDrainsTransactions(t *testing.T) {
	const drain = 20 * time.Second
	pgc := startCluster(t, localcluster.KindPostgres, 2, 0)
	myc := startCluster(t, localcluster.KindMySQL, 2, 0)
	bin := buildShardgate(t)
	cfg := stackConfig(t, shopDB(pgc, -1), shopDB(myc, -1))
	f := &stackFixture{cfgPath: filepath.Join(t.TempDir(), "topology.yaml"), cfg: cfg,
		pgAddr: cfg.Listen.Postgres, myAddr: cfg.Listen.MySQL, adminAddr: cfg.Admin,
		out: &syncBuffer{}, errOut: &syncBuffer{}}
	writeConfig(t, f.cfgPath, cfg)

	cmd := exec.Command(bin, "serve", "-config", f.cfgPath, "-drain", drain.String(), "-mysql-auth", "mysql_native_password")
	cmd.Stdout, cmd.Stderr = f.out, f.errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var waitErr error
	exited := make(chan struct{}) // closed once the process has exited, with waitErr set
	go func() { waitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		select {
		case <-exited:
		default:
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("stdout:\n%s\nstderr:\n%s", f.out, tail(f.errOut.String(), 60))
		}
	})
	waitFor(t, 30*time.Second, "the shardgate process serving", func() bool {
		select {
		case <-exited:
			t.Fatalf("shardgate exited at start: %v\n%s%s", waitErr, f.out, f.errOut)
		default:
		}
		code, _ := f.get(t, "/healthz")
		return code == http.StatusOK
	})
	f.waitAllUp(t)

	ctx := t.Context()
	pgKeys, myKeys := [2]int64(keysOn(0, 2, 2, 1)), [2]int64(keysOn(1, 2, 2, 1)) // each transaction on one shard
	pg := f.pgConnect(t)
	pgTx, err := pg.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pgTx.Exec(ctx, "INSERT INTO users (id, name) VALUES ($1, 'in-tx')", pgKeys[0]); err != nil {
		t.Fatal(err)
	}
	myConn, err := f.myOpen(t).Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer myConn.Close()
	myTx, err := myConn.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer myTx.Rollback() // before myConn.Close, which waits for the transaction
	if _, err := myTx.ExecContext(ctx, "INSERT INTO users (id, name) VALUES (?, 'in-tx')", myKeys[0]); err != nil {
		t.Fatal(err)
	}
	idle := f.pgConnect(t)
	// A statement outside any transaction, running when the signal comes.
	running := f.pgConnect(t)
	slow := make(chan error, 1)
	go func() {
		var one int
		err := running.QueryRow(ctx, "SELECT 1 FROM pg_sleep(1) WHERE $1::bigint > 0", pgKeys[0]).Scan(&one)
		slow <- err
	}()
	shards := []*pgx.Conn{pgAdmin(t, pgc, pgc.Shards[0].Primary), pgAdmin(t, pgc, pgc.Shards[1].Primary)}
	waitFor(t, 5*time.Second, "the slow statement running on a shard", func() bool {
		n := 0
		for _, sh := range shards {
			var k int
			err := sh.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
				WHERE state = 'active' AND query LIKE '%pg_sleep(1)%' AND pid <> pg_backend_pid()`).Scan(&k)
			if err != nil {
				t.Fatal(err)
			}
			n += k
		}
		return n == 1
	})

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	signalled := time.Now()
	waitFor(t, 5*time.Second, "new connections refused on both protocols", func() bool {
		return !dials(f.pgAddr) && !dials(f.myAddr)
	})
	if code, body := f.get(t, "/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "shutting down") {
		t.Errorf("/readyz during the drain: %d %q; want 503 shutting down", code, body)
	}
	if code, _ := f.get(t, "/healthz"); code != http.StatusOK {
		t.Errorf("/healthz during the drain: %d, want 200 (the process is alive)", code)
	}
	waitFor(t, 5*time.Second, "the idle client disconnected", func() bool {
		return idle.Ping(ctx) != nil
	})
	if err := <-slow; err != nil {
		t.Errorf("a statement running when SIGTERM came: %v; want its answer", err)
	}

	stillRunning := func(when string) {
		select {
		case <-exited:
			t.Fatalf("shardgate exited (%v) %s", waitErr, when)
		default:
		}
	}
	if _, err := pgTx.Exec(ctx, "INSERT INTO users (id, name) VALUES ($1, 'in-tx')", pgKeys[1]); err != nil {
		t.Fatalf("statement in the PostgreSQL transaction during the drain: %v", err)
	}
	if err := pgTx.Commit(ctx); err != nil {
		t.Fatalf("PostgreSQL COMMIT during the drain: %v", err)
	}
	stillRunning("with a MySQL transaction still open")
	if _, err := myTx.ExecContext(ctx, "INSERT INTO users (id, name) VALUES (?, 'in-tx')", myKeys[1]); err != nil {
		t.Fatalf("statement in the MySQL transaction during the drain: %v", err)
	}
	if err := myTx.Commit(); err != nil {
		t.Fatalf("MySQL COMMIT during the drain: %v", err)
	}
	committed := time.Now()
	select {
	case <-exited:
		if waitErr != nil {
			t.Errorf("shardgate exited with %v, want status 0", waitErr)
		}
		t.Logf("exited %v after the last COMMIT, %v after SIGTERM", time.Since(committed).Round(time.Millisecond), time.Since(signalled).Round(time.Millisecond))
		if took := time.Since(committed); took > 5*time.Second {
			t.Errorf("shardgate took %v to exit after the last transaction ended", took)
		}
	case <-time.After(drain / 2):
		t.Fatalf("shardgate still running %v after the last transaction ended", drain/2)
	}
	if !strings.Contains(f.out.String(), "shardgate: stopped") {
		t.Errorf("stdout lacks the stop line:\n%s", f.out)
	}

	// The committed rows are on their shards.
	for _, k := range pgKeys {
		conn, err := pgx.Connect(ctx, pgc.DSN(pgc.Shards[shardOf(k, 2)].Primary))
		if err != nil {
			t.Fatal(err)
		}
		var name string
		if err := conn.QueryRow(ctx, "SELECT name FROM users WHERE id = $1", k).Scan(&name); err != nil || name != "in-tx" {
			t.Errorf("PostgreSQL user %d on its shard: %q, %v", k, name, err)
		}
		conn.Close(ctx)
	}
	for _, k := range myKeys {
		db := myAdmin(t, myc, myc.Shards[shardOf(k, 2)].Primary)
		var name string
		if err := db.QueryRowContext(ctx, "SELECT name FROM shop.users WHERE id = ?", k).Scan(&name); err != nil || name != "in-tx" {
			t.Errorf("MySQL user %d on its shard: %q, %v", k, name, err)
		}
	}
}

// dials says whether a TCP connection to addr is accepted.
func dials(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// buildShardgate builds the binary under test into a temporary directory.
func buildShardgate(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "shardgate")
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go tool to build the binary: %v", err)
	}
	build := exec.CommandContext(ctx, goTool, "build", "-o", bin, ".")
	build.Env = os.Environ()
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// A transaction still open when the drain timeout ends is cut: serve
// returns soon after the timeout (exit 0), the client's session is
// closed, the backend connection is closed so the server rolls the
// transaction back, and no proxy session is left on the shards.
func TestServeDrainTimeoutCutsOpenTransactions(t *testing.T) {
	const drain = time.Second
	pgc := startCluster(t, localcluster.KindPostgres, 2, 0)
	myc := startCluster(t, localcluster.KindMySQL, 2, 0)
	f := serveStack(t, stackConfig(t, shopDB(pgc, -1), shopDB(myc, -1)), "-drain", drain.String())
	ctx := t.Context()
	pg := f.pgConnect(t)
	pgTx, err := pg.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pgTx.Exec(ctx, "INSERT INTO users (id, name) VALUES (1, 'cut')"); err != nil {
		t.Fatal(err)
	}
	myConn, err := f.myOpen(t).Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer myConn.Close()
	myTx, err := myConn.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer myTx.Rollback() // before myConn.Close, which waits for the transaction
	if _, err := myTx.ExecContext(ctx, "INSERT INTO users (id, name) VALUES (1, 'cut')"); err != nil {
		t.Fatal(err)
	}
	pgShard, myShard := pgc.Shards[shardOf(1, 2)].Primary, myc.Shards[shardOf(1, 2)].Primary
	pgSessions, mySessions := f.clientSessions(t, pgc, pgShard), f.clientSessions(t, myc, myShard)

	// Connections must be closed by the proxy, not by the garbage
	// collector's finalizers once the stack is unreachable: no GC while
	// the shards are checked.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	begin := time.Now()
	code := f.stop()
	took := time.Since(begin)
	t.Logf("serve returned %d after %v with -drain %v", code, took.Round(time.Millisecond), drain)
	if code != 0 {
		t.Errorf("serve exited %d after a drain that timed out, want 0", code)
	}
	if took < drain || took > drain+5*time.Second {
		t.Errorf("serve returned after %v; want the drain timeout %v and little more", took, drain)
	}
	if _, err := pgTx.Exec(ctx, "SELECT 1"); err == nil {
		t.Error("the PostgreSQL session outlived the drain")
	}
	if _, err := myTx.ExecContext(ctx, "SELECT 1"); err == nil {
		t.Error("the MySQL session outlived the drain")
	}
	// Pools and health probes alike: nothing of the proxy outlives serve.
	left := func() (int, int) { return pgSessions(), mySessions() }
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if p, m := left(); p == 0 && m == 0 {
			break
		}
	}
	if p, m := left(); p != 0 || m != 0 {
		t.Errorf("5s after serve returned, the shard primaries still serve sessions of the proxy (health probes?): postgres %d, mysql %d", p, m)
	}
	direct, err := pgx.Connect(ctx, pgc.DSN(pgShard))
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Close(context.Background())
	var n int
	if err := direct.QueryRow(ctx, "SELECT count(*) FROM users WHERE id = 1").Scan(&n); err != nil || n != 0 {
		t.Errorf("PostgreSQL rows of the cut transaction: %d, %v; want none", n, err)
	}
	if err := myAdmin(t, myc, myShard).QueryRowContext(ctx, "SELECT COUNT(*) FROM shop.users WHERE id = 1").Scan(&n); err != nil || n != 0 {
		t.Errorf("MySQL rows of the cut transaction: %d, %v; want none", n, err)
	}
	if dials(f.adminAddr) {
		t.Error("the admin endpoint still accepts connections after serve returned")
	}
}
