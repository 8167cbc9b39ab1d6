package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/shardgate/shardgate/topology/localcluster"
)

// A proxy on the servers' host reaches them over their Unix sockets and
// serves clients on sockets of its own (PgBouncer's unix_socket_dir).
// Rows land on the shard their key hashes to, the health checks and a
// PostgreSQL cancel travel over the sockets too, a second proxy cannot
// take a socket that is in use, a stale one is replaced, and the socket
// files go away when the proxy stops.
func TestUnixSockets(t *testing.T) {
	pgc := startCluster(t, localcluster.KindPostgres, 2, 0)
	myc := startCluster(t, localcluster.KindMySQL, 2, 0)
	pgdb, mydb := shopDB(pgc, -1), shopDB(myc, -1)
	for i, sh := range pgc.Shards {
		pgdb.Shards[i].Primary = sh.Primary.SocketPath()
	}
	for i, sh := range myc.Shards {
		mydb.Shards[i].Primary = sh.Primary.SocketPath()
	}
	cfg := stackConfig(t, pgdb, mydb)
	dir := t.TempDir()
	cfg.Listen.PostgresSocket = filepath.Join(dir, ".s.PGSQL.6432")
	cfg.Listen.MySQLSocket = filepath.Join(dir, "mysql.sock")

	// A socket file left behind by a proxy that was killed.
	stale, err := net.Listen("unix", cfg.Listen.MySQLSocket)
	if err != nil {
		t.Fatal(err)
	}
	stale.(*net.UnixListener).SetUnlinkOnClose(false)
	stale.Close()

	f := serveStack(t, cfg) // returns once every server was probed (over its socket) and is up
	cfg = f.cfg
	if l := f.view(t).Listen; l.PostgresSocket != cfg.Listen.PostgresSocket || l.MySQLSocket != cfg.Listen.MySQLSocket {
		t.Errorf("/topology listen = %+v, want the sockets %s and %s", l, cfg.Listen.PostgresSocket, cfg.Listen.MySQLSocket)
	}
	if out := f.out.String(); !strings.Contains(out, "(psql -h "+dir+" -p 6432)") {
		t.Errorf("serve does not say how psql reaches its socket:\n%s", out)
	}

	t.Run("postgres", func(t *testing.T) {
		conn, err := pgx.Connect(t.Context(), fmt.Sprintf("host=%s port=6432 user=app password=app-secret dbname=shop sslmode=disable connect_timeout=5", dir))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		if conn.PgConn().Conn().RemoteAddr().Network() != "unix" {
			t.Fatalf("pgx connected over %s", conn.PgConn().Conn().RemoteAddr().Network())
		}
		for k := int64(1); k <= 20; k++ {
			if _, err := conn.Exec(t.Context(), "INSERT INTO users (id, name) VALUES ($1, $2)", k, fmt.Sprint("u", k)); err != nil {
				t.Fatal(err)
			}
		}
		for i, sh := range pgc.Shards {
			direct, err := pgx.Connect(t.Context(), pgc.DSN(sh.Primary))
			if err != nil {
				t.Fatal(err)
			}
			rows, _ := direct.Query(t.Context(), "SELECT id FROM users ORDER BY id")
			got, err := pgx.CollectRows(rows, pgx.RowTo[int64])
			direct.Close(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			checkOwned(t, i, len(pgc.Shards), 20, got)
		}
		// The cancel goes to the proxy's socket, and from the proxy to the
		// server's socket.
		done := make(chan error, 1)
		go func() {
			_, err := conn.Exec(context.Background(), "SELECT pg_sleep(10)")
			done <- err
		}()
		server := pgAdmin(t, pgc, pgc.Shards[0].Primary) // the unsharded shard runs it
		waitFor(t, 5*time.Second, "pg_sleep running on the server", func() bool {
			var n int
			err := server.QueryRow(t.Context(), "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(10)' AND state = 'active'").Scan(&n)
			return err == nil && n == 1
		})
		start := time.Now()
		if err := conn.PgConn().CancelRequest(t.Context()); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-done:
			var pgErr *pgconn.PgError
			if !errors.As(err, &pgErr) || pgErr.Code != "57014" {
				t.Errorf("cancelled pg_sleep: %v, want 57014", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("pg_sleep(10) still running 5s after its cancel")
		}
		t.Logf("cancel answered in %v", time.Since(start))
	})

	t.Run("mysql", func(t *testing.T) {
		mcfg := mysql.NewConfig()
		mcfg.User, mcfg.Passwd, mcfg.Net, mcfg.Addr, mcfg.DBName = "app", "app-secret", "unix", cfg.Listen.MySQLSocket, "shop"
		db, err := sql.Open("mysql", mcfg.FormatDSN())
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		for k := int64(1); k <= 20; k++ {
			if _, err := db.ExecContext(t.Context(), "INSERT INTO users (id, name) VALUES (?, ?)", k, fmt.Sprint("u", k)); err != nil {
				t.Fatal(err)
			}
		}
		for i, sh := range myc.Shards {
			direct, err := sql.Open("mysql", myc.DSN(sh.Primary))
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			rows, err := direct.QueryContext(t.Context(), "SELECT id FROM users ORDER BY id")
			for err == nil && rows.Next() {
				var id int64
				err = rows.Scan(&id)
				got = append(got, id)
			}
			if err == nil {
				rows.Close()
				err = rows.Err()
			}
			direct.Close()
			if err != nil {
				t.Fatal(err)
			}
			checkOwned(t, i, len(myc.Shards), 20, got)
		}
		// A cancelled statement is killed on the server, over its socket.
		ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
		defer cancel()
		if _, err := db.ExecContext(ctx, "SELECT SLEEP(10)"); err == nil {
			t.Fatal("the cancelled SLEEP(10) returned no error")
		}
		server := myAdmin(t, myc, myc.Shards[0].Primary) // the unsharded shard ran it
		waitFor(t, 5*time.Second, "the cancelled SLEEP(10) killed on the server", func() bool {
			var n int
			err := server.QueryRowContext(t.Context(), "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO = 'SELECT SLEEP(10)'").Scan(&n)
			return err == nil && n == 0
		})
	})

	// A second proxy must not take over sockets the first accepts on.
	second := cfg
	second.Listen.Postgres, second.Listen.MySQL, second.Admin = freeAddr(t), freeAddr(t), freeAddr(t)
	if g, failure := startStack(t, second, nil); g != nil {
		t.Error("a second serve started on sockets in use")
	} else if !strings.Contains(failure, "another process is listening on it") {
		t.Errorf("second serve: %s", failure)
	}

	if code := f.stop(); code != 0 {
		t.Fatalf("serve exited %d", code)
	}
	for _, p := range []string{cfg.Listen.PostgresSocket, cfg.Listen.MySQLSocket} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s is still there after serve stopped (%v)", p, err)
		}
	}
}

// checkOwned fails unless got is exactly the keys 1..n that hash to shard
// i of shards.
func checkOwned(t *testing.T, i, shards, n int, got []int64) {
	t.Helper()
	var want []int64
	for k := int64(1); k <= int64(n); k++ {
		if shardOf(k, shards) == i {
			want = append(want, k)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("shard %d holds %v, want %v", i, got, want)
	}
}
