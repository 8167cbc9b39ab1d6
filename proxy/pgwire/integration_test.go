package pgwire

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/shardgate/shardgate/topology/localcluster"
)

// BackendLogin against a real PostgreSQL server for each pg_hba method,
// then a simple query over the returned Reader and Writer.
func TestBackendLoginPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: starts real PostgreSQL servers")
	}
	for _, method := range []string{localcluster.PGAuthSCRAM, localcluster.PGAuthMD5, localcluster.PGAuthTrust} {
		t.Run(method, func(t *testing.T) {
			t.Parallel()
			c := localcluster.StartForTest(t, localcluster.KindPostgres, localcluster.Options{
				Shards: 1, ReplicasPerShard: localcluster.NoReplicas, PGAuth: method,
			})
			o := c.Options
			addr := c.Shards[0].Primary.Addr
			login := func(password string) (*BackendSession, *Reader, *Writer, error) {
				ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
				defer cancel()
				conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { conn.Close() })
				return BackendLogin(ctx, conn, o.User, password, o.Database,
					map[string]string{"application_name": "pgwire-test", "client_encoding": "UTF8"})
			}

			sess, r, w, err := login(o.Password)
			if err != nil {
				t.Fatalf("login: %v", err)
			}
			if sess.Params["application_name"] != "pgwire-test" || sess.Params["client_encoding"] != "UTF8" ||
				!strings.HasPrefix(sess.Params["server_version"], "1") || sess.PID == 0 || sess.TxStatus != 'I' {
				t.Fatalf("session %+v", sess)
			}
			selectOne(t, r, w)

			if method == localcluster.PGAuthTrust {
				return // any password is fine
			}
			_, _, _, err = login(o.Password + "-wrong")
			var pe *PgError
			if !errors.As(err, &pe) || pe.Code != CodeInvalidPassword || pe.Severity != "FATAL" {
				t.Fatalf("wrong password: err = %v, want *PgError 28P01", err)
			}
			if want := fmt.Sprintf("password authentication failed for user %q", o.User); pe.Message != want {
				t.Fatalf("message %q, want %q", pe.Message, want)
			}
		})
	}
}

// startFakeProxy listens on loopback and serves every connection with
// fakeProxy until the test ends.
func startFakeProxy(t *testing.T, p fakeProxy) (addr string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() {
		cancel()
		ln.Close()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer conn.Close()
				cctx, ccancel := context.WithTimeout(ctx, 30*time.Second)
				defer ccancel()
				_ = p.serve(cctx, conn) // failures show on the client side
			})
		}
	})
	return ln.Addr().String()
}

// pgx, the client applications use, against ReadStartup + ServerAuth.
func TestServerAuthPgx(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: real client over TCP")
	}
	for _, method := range []string{AuthSCRAM, AuthMD5} {
		t.Run(method, func(t *testing.T) {
			addr := startFakeProxy(t, fakeProxy{method: method, users: map[string]string{"app": "app-secret"}})
			host, port, _ := net.SplitHostPort(addr)
			dsn := func(user, password string) string {
				return fmt.Sprintf("postgres://%s:%s@%s:%s/shop?sslmode=disable&connect_timeout=10", user, password, host, port)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()

			conn, err := pgx.Connect(ctx, dsn("app", "app-secret"))
			if err != nil {
				t.Fatalf("connect: %v", err)
			}
			var n int
			if err := conn.QueryRow(ctx, "SELECT 1", pgx.QueryExecModeSimpleProtocol).Scan(&n); err != nil || n != 1 {
				t.Fatalf("SELECT 1 = %d, %v", n, err)
			}
			if pid := conn.PgConn().PID(); pid != 4242 {
				t.Fatalf("PID %d, want 4242 from BackendKeyData", pid)
			}
			if err := conn.Close(ctx); err != nil {
				t.Fatal(err)
			}

			for _, bad := range [][2]string{{"app", "wrong"}, {"ghost", "app-secret"}} {
				_, err := pgx.Connect(ctx, dsn(bad[0], bad[1]))
				var pe *pgconn.PgError
				if !errors.As(err, &pe) || pe.Code != CodeInvalidPassword ||
					pe.Message != `password authentication failed for user "`+bad[0]+`"` {
					t.Fatalf("%s/%s: err = %v, want 28P01", bad[0], bad[1], err)
				}
			}
		})
	}
}

// psql (libpq) against the same server, with its default sslmode=prefer
// so the SSLRequest refusal is exercised too.
func TestServerAuthPsql(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: runs psql")
	}
	psql, err := localcluster.PostgresTool("psql", "")
	if err != nil {
		t.Skip(err)
	}
	addr := startFakeProxy(t, fakeProxy{method: AuthSCRAM, users: map[string]string{"app": "app-secret"}})
	host, port, _ := net.SplitHostPort(addr)
	run := func(password string) (string, error) {
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, psql, "-X", "-At", "-w", "-h", host, "-p", port, "-U", "app", "-d", "shop", "-c", "SELECT 1")
		cmd.Env = append(os.Environ(), "PGPASSWORD="+password, "PGCONNECT_TIMEOUT=10", "PGSSLMODE=prefer",
			"PGPASSFILE=/dev/null", "PGSERVICEFILE=/dev/null")
		out, err := cmd.CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	out, err := run("app-secret")
	if err != nil || out != "1" {
		t.Fatalf("psql: %q, %v", out, err)
	}
	out, err = run("wrong")
	if err == nil || !strings.Contains(out, `password authentication failed for user "app"`) {
		t.Fatalf("psql with a wrong password: %q, %v", out, err)
	}
}
