package pgserver

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// A CancelRequest sent to the proxy reaches the server running the query.
func TestProxyCancel(t *testing.T) {
	f := startFixture(t)
	conn := f.connect(t)
	errc := make(chan error, 1)
	go func() {
		_, err := conn.Exec(context.Background(), "SELECT pg_sleep(30)")
		errc <- err
	}()
	// Wait until a server runs it, then cancel through the proxy.
	deadline := time.Now().Add(10 * time.Second)
	for f.sleeping(t) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the query never started on a server")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := conn.PgConn().CancelRequest(cctx); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if pgCode(err) != "57014" {
			t.Errorf("cancelled query: %v, want 57014", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the cancel did not reach the server: the query still runs")
	}
	if n := f.sleeping(t); n != 0 {
		t.Errorf("%d server(s) still run the cancelled query", n)
	}
	// The session goes on; statement_timeout's 57014 passes through too.
	if _, err := conn.Exec(t.Context(), "SET statement_timeout = '100ms'"); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(t.Context(), "SELECT pg_sleep(5)"); pgCode(err) != "57014" {
		t.Errorf("statement timeout: %v", err)
	}
}

// sleeping counts the servers running the test's pg_sleep(30).
func (f *fixture) sleeping(t *testing.T) int {
	running := 0
	for _, n := range f.cluster.Nodes() {
		c, err := pgx.Connect(t.Context(), f.cluster.DSN(n))
		if err != nil {
			t.Fatal(err)
		}
		var k int
		c.QueryRow(t.Context(), "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(30)' AND state = 'active'").Scan(&k)
		c.Close(t.Context())
		running += k
	}
	return running
}

// A large single-shard result streams through: the proxy's memory does
// not grow with the result.
func TestProxyStreamsLargeResults(t *testing.T) {
	f := startFixture(t)
	conn := f.connect(t)
	ctx := t.Context()
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	// About 300 MB from one shard (the table is unlisted: unsharded shard).
	rows, err := conn.Query(ctx, "SELECT repeat('x', 1000) FROM generate_series(1, 300000)")
	if err != nil {
		t.Fatal(err)
	}
	var n, bytes int64
	var peak uint64
	for rows.Next() {
		n++
		bytes += int64(len(rows.RawValues()[0]))
		if n%50000 == 0 {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapInuse)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n != 300000 || bytes != 300000*1000 {
		t.Fatalf("got %d rows, %d bytes", n, bytes)
	}
	// Test process: pgx client + proxy. Both stream; neither may hold the
	// result (300 MB). Allow generous slack for buffers and GC timing.
	if growth := int64(peak) - int64(before.HeapInuse); growth > 64<<20 {
		t.Errorf("heap grew by %d MB while streaming 300 MB", growth>>20)
	}
}

// Past MaxClients the proxy refuses logins with 53300.
func TestProxyTooManyClients(t *testing.T) {
	f := startFixture(t)
	f.srv.SetMaxClients(1)
	first := f.connect(t)
	_, err := pgx.Connect(t.Context(), f.dsn("app", "app-secret"))
	var code string
	if err != nil {
		code = pgCode(err)
	}
	if code != "53300" {
		t.Errorf("second client: %v, want 53300", err)
	}
	if _, err := first.Exec(t.Context(), "SELECT 1"); err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("first client broken: %v", err)
	}
}
