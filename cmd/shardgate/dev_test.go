package main

import (
	"bytes"
	"context"
	"database/sql"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"

	"github.com/shardgate/shardgate/topology"
)

// syncBuffer is written by the dev goroutine and read by the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// dev must bring up real servers, write a topology the proxy accepts that
// points at them, and stop them all when interrupted.
func TestDevStartsClusterAndWritesTopology(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real PostgreSQL servers")
	}
	cfgPath := filepath.Join(t.TempDir(), "topology.yaml")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut syncBuffer
	done := make(chan int, 1)
	proxyAddr := freeAddr(t)
	go func() {
		done <- run(ctx, []string{"dev", "-only", "postgres", "-shards", "2", "-replicas", "1", "-config-out", cfgPath,
			"-postgres-listen", proxyAddr, "-admin", freeAddr(t)}, &out, &errOut)
	}()

	deadline := time.Now().Add(3 * time.Minute)
	for !strings.Contains(out.String(), "Ctrl-C stops") {
		select {
		case code := <-done:
			t.Fatalf("dev exited %d early:\n%s\n%s", code, out.String(), errOut.String())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("dev did not come up:\n%s\n%s", out.String(), errOut.String())
		}
	}
	snap, err := topology.Load(cfgPath)
	if err != nil {
		t.Fatalf("dev wrote an invalid topology: %v", err)
	}
	db, ok := snap.Database(topology.Postgres, "shop")
	if !ok || len(db.Shards) != 2 || db.Shards[0].Name != "-80" || len(db.Shards[1].Replicas) != 1 {
		t.Fatalf("topology does not describe 2 shards with a replica each: %+v", db)
	}
	for _, sh := range db.Shards {
		for _, addr := range sh.Addresses() {
			if !strings.Contains(out.String(), addr) {
				t.Errorf("dev did not print server %s", addr)
			}
		}
	}
	if _, err := os.Stat(cfgPath); err != nil {
		t.Fatal(err)
	}

	// The printed DSN works through the proxy, on the example tables.
	dsn := "postgres://app:app-secret@" + proxyAddr + "/shop"
	if !strings.Contains(out.String(), dsn) {
		t.Errorf("dev did not print the proxy DSN %s:\n%s", dsn, out.String())
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "INSERT INTO users (id, name) VALUES (1, 'a'), (2, 'b'), (3, 'c')"); err != nil {
		t.Fatal(err)
	}
	var n int64
	if err := conn.QueryRow(ctx, "/* role=primary */ SELECT count(*) FROM users").Scan(&n); err != nil || n != 3 {
		t.Errorf("count through the dev proxy = %d, %v", n, err)
	}
	// The dev user may ask the console, as the printed hint says.
	var shard string
	if err := conn.QueryRow(ctx, "SHOW SHARDGATE LOCATE users 1").Scan(new(string), new(string), new(string), &shard, new(string), new(string)); err != nil || shard == "" {
		t.Errorf("SHOW SHARDGATE through the dev proxy: shard %q, %v", shard, err)
	}
	conn.Close(ctx)

	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("dev exited %d on interrupt: %s", code, errOut.String())
		}
	case <-time.After(time.Minute):
		t.Fatal("dev did not stop on interrupt")
	}
	for _, sh := range db.Shards {
		for _, addr := range sh.Addresses() {
			if portOpen(addr) {
				t.Errorf("server %s still accepts connections after dev stopped", addr)
			}
		}
	}
}

func portOpen(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// dev -only mysql serves the MySQL proxy and prints a go-sql-driver DSN
// and a mariadb command that work through it.
func TestDevMySQL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real MariaDB servers")
	}
	cfgPath := filepath.Join(t.TempDir(), "topology.yaml")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut syncBuffer
	done := make(chan int, 1)
	proxyAddr, adminAddr := freeAddr(t), freeAddr(t)
	go func() {
		done <- run(ctx, []string{"dev", "-only", "mysql", "-shards", "2", "-replicas", "0", "-config-out", cfgPath,
			"-mysql-listen", proxyAddr, "-admin", adminAddr}, &out, &errOut)
	}()
	deadline := time.Now().Add(3 * time.Minute)
	for !strings.Contains(out.String(), "Ctrl-C stops") {
		select {
		case code := <-done:
			t.Fatalf("dev exited %d early:\n%s\n%s", code, out.String(), errOut.String())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("dev did not come up:\n%s\n%s", out.String(), errOut.String())
		}
	}
	host, port, _ := net.SplitHostPort(proxyAddr)
	for _, want := range []string{"app:app-secret@tcp(" + proxyAddr + ")/shop", "mariadb -h" + host + " -P" + port + " -uapp -papp-secret shop"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("dev did not print %q:\n%s", want, out.String())
		}
	}
	db, err := sql.Open("mysql", "app:app-secret@tcp("+proxyAddr+")/shop")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("INSERT INTO users (id, name) VALUES (1, 'a'), (2, 'b'), (3, 'c')"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM users").Scan(&n); err != nil || n != 3 {
		t.Errorf("count through the dev proxy = %d, %v", n, err)
	}
	resp, err := http.Get("http://" + adminAddr + "/topology")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("admin /topology: %v", err)
	} else {
		resp.Body.Close()
	}
	db.Close()
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("dev exited %d on interrupt: %s", code, errOut.String())
		}
	case <-time.After(time.Minute):
		t.Fatal("dev did not stop on interrupt")
	}
}
