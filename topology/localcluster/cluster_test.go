package localcluster

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMissingBinary(t *testing.T) {
	empty := t.TempDir()
	tests := []struct {
		name  string
		start func(context.Context, Options) (*Cluster, error)
		kind  Kind
		want  string
	}{
		{"postgres", StartPostgres, KindPostgres, "postgres not found: install the Debian package postgresql-15 (scripts/deps.sh does)"},
		{"mariadb", StartMariaDB, KindMySQL, "mariadbd not found: install the Debian package mariadb-server (scripts/deps.sh does)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := tt.start(t.Context(), Options{BinDir: empty, Dir: t.TempDir()})
			if c != nil {
				c.Close()
				t.Fatal("started a cluster without binaries")
			}
			if !errors.Is(err, ErrMissingBinary) {
				t.Fatalf("err = %v, want ErrMissingBinary", err)
			}
			if err.Error() != tt.want {
				t.Errorf("message = %q, want %q", err, tt.want)
			}
			if err := Available(tt.kind, empty); !errors.Is(err, ErrMissingBinary) {
				t.Errorf("Available = %v, want ErrMissingBinary", err)
			}
		})
	}
	// Nothing may be left in Dir when the binaries are missing.
	if entries, _ := os.ReadDir(empty); len(entries) != 0 {
		t.Errorf("bin dir not empty: %v", entries)
	}
}

func TestMissingSecondBinary(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(dir+"/mariadbd", []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	err := Available(KindMySQL, dir)
	var mb *MissingBinaryError
	if !errors.As(err, &mb) || mb.Binary != "mariadb-install-db" || mb.Package != "mariadb-server" {
		t.Fatalf("err = %v, want mariadb-install-db missing", err)
	}
}

func TestResolveOptions(t *testing.T) {
	tests := []struct {
		name    string
		kind    Kind
		in      Options
		want    Options // compared on the fields below
		wantErr string
	}{
		{name: "postgres defaults", kind: KindPostgres,
			want: Options{Shards: 2, ReplicasPerShard: 1, Database: "shardgate", User: "postgres", Password: "postgres-secret", PGAuth: "trust"}},
		{name: "mysql defaults", kind: KindMySQL,
			want: Options{Shards: 2, ReplicasPerShard: 1, Database: "shardgate", User: "shardgate", Password: "shardgate-secret"}},
		{name: "no replicas", kind: KindPostgres, in: Options{Shards: 3, ReplicasPerShard: NoReplicas, PGAuth: "md5", Database: "shop"},
			want: Options{Shards: 3, ReplicasPerShard: 0, Database: "shop", User: "postgres", Password: "postgres-secret", PGAuth: "md5"}},
		{name: "bad auth", kind: KindPostgres, in: Options{PGAuth: "password"}, wantErr: "PGAuth"},
		{name: "negative shards", kind: KindMySQL, in: Options{Shards: -1}, wantErr: "Shards"},
		{name: "negative replicas", kind: KindMySQL, in: Options{ReplicasPerShard: -2}, wantErr: "ReplicasPerShard"},
		{name: "reserved user", kind: KindMySQL, in: Options{User: "repl"}, wantErr: "reserved"},
		{name: "unknown kind", kind: "oracle", wantErr: "unknown kind"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.in.resolve(tt.kind)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to mention %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Logger == nil {
				t.Error("Logger not defaulted")
			}
			got.Logger = nil
			if got != tt.want {
				t.Errorf("resolve = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestDSN(t *testing.T) {
	n := &Node{Addr: "127.0.0.1:5433", Port: 5433, Socket: "/tmp/x y/s0p"}
	pg := &Cluster{Kind: KindPostgres, Options: Options{User: "app", Password: "p@ss:/w'rd", Database: "shop"}}
	if got, want := pg.DSN(n), "postgres://app:p%40ss%3A%2Fw%27rd@127.0.0.1:5433/shop?sslmode=disable"; got != want {
		t.Errorf("postgres DSN = %q, want %q", got, want)
	}
	if got, want := pg.AdminDSN(n), "host='/tmp/x y/s0p' port=5433 user=postgres dbname=postgres sslmode=disable connect_timeout=5"; got != want {
		t.Errorf("postgres admin DSN = %q, want %q", got, want)
	}
	my := &Cluster{Kind: KindMySQL, Options: Options{User: "app", Password: "secret", Database: "shop"}}
	if got, want := my.DSN(n), "app:secret@tcp(127.0.0.1:5433)/shop"; got != want {
		t.Errorf("mysql DSN = %q, want %q", got, want)
	}
	n.Socket = "/tmp/s0p/mysqld.sock"
	if got, want := my.AdminDSN(n), "root@unix(/tmp/s0p/mysqld.sock)/"; got != want {
		t.Errorf("mysql admin DSN = %q, want %q", got, want)
	}
}

func TestQuoting(t *testing.T) {
	if got, want := pgLiteral(`it's`), `'it''s'`; got != want {
		t.Errorf("pgLiteral = %s, want %s", got, want)
	}
	if got, want := myLiteral(`a\'b`), `'a\\''b'`; got != want {
		t.Errorf("myLiteral = %s, want %s", got, want)
	}
	if got, want := myIdent("we`ird"), "`we``ird`"; got != want {
		t.Errorf("myIdent = %s, want %s", got, want)
	}
}

func TestSweepStale(t *testing.T) {
	parent := t.TempDir()
	live, lock, err := makeClusterDir(parent, "sg-pg-")
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	stale := filepath.Join(parent, "sg-my-123")
	unlocked := filepath.Join(parent, "sg-pg-456") // no lock file: still being created
	other := filepath.Join(parent, "other")
	for _, d := range []string{stale, unlocked, other} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(stale, lockName), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(other, lockName), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	sweepStale(parent)
	for d, want := range map[string]bool{live: true, stale: false, unlocked: true, other: true} {
		if _, err := os.Stat(d); (err == nil) != want {
			t.Errorf("%s exists = %v, want %v", filepath.Base(d), err == nil, want)
		}
	}
}

// fakeTB records how StartForTest ends a test; Fatalf and Skipf stop it
// by panicking, as the real ones stop the goroutine.
type fakeTB struct {
	*testing.T
	ended string
}

type endTest struct{}

func (f *fakeTB) Fatalf(format string, args ...any) { f.ended = "fatal"; panic(endTest{}) }
func (f *fakeTB) Skipf(format string, args ...any)  { f.ended = "skip"; panic(endTest{}) }

func TestStartForTestMissingBinaries(t *testing.T) {
	for _, ci := range []string{"true", ""} {
		t.Run("CI="+ci, func(t *testing.T) {
			t.Setenv("CI", ci)
			f := &fakeTB{T: t}
			func() {
				defer func() {
					if r := recover(); r != nil && r != (endTest{}) {
						panic(r)
					}
				}()
				StartForTest(f, KindMySQL, Options{BinDir: t.TempDir()})
			}()
			want := "skip"
			if ci == "true" {
				want = "fatal"
			}
			if f.ended != want {
				t.Errorf("CI=%q: test ended with %q, want %q", ci, f.ended, want)
			}
		})
	}
}
