package console

import (
	"errors"
	"flag"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/shardgate/shardgate/proxy/admin"
	"github.com/shardgate/shardgate/proxy/metrics"
	"github.com/shardgate/shardgate/topology"
)

var update = flag.Bool("update", false, "rewrite golden files")

const golden = "testdata/console.golden"

// fixture is testdata/console.yaml with fixed health, pools and clients.
func fixture(t testing.TB) (*topology.Snapshot, Sources) {
	t.Helper()
	data, err := os.ReadFile("testdata/console.yaml")
	if err != nil {
		t.Fatal(err)
	}
	snap, err := topology.Parse("testdata/console.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	snap.Source.LoadedAt = time.Date(2026, 11, 23, 1, 2, 3, 0, time.UTC)
	snap.Source.SHA256 = "4f2a" // the real sum moves with every edit of the file
	probe := time.Date(2026, 11, 23, 1, 2, 4, 500000000, time.UTC)
	servers := func() []admin.ServerView {
		return []admin.ServerView{
			{Database: "shop", Address: "127.0.0.1:15432", Up: true, Position: "0/3000148", LastProbe: probe, InFlight: 2},
			{Database: "shop", Address: "127.0.0.1:15433", Up: true, LagSeconds: 0.25, LagKnown: true, LastProbe: probe},
			{Database: "shop", Address: "127.0.0.1:15434", LastError: "dial tcp 127.0.0.1:15434: connection refused", LastProbe: probe},
			{Database: "shop", Address: "127.0.0.1:13306", Up: true, LastProbe: probe},
		}
	}
	pools := func() []metrics.PoolStat {
		return []metrics.PoolStat{
			{Database: "shop", Backend: "127.0.0.1:15432", Open: 4, InUse: 3, Waiters: 1, Max: 10},
			{Database: "shop", Backend: "127.0.0.1:13306", Open: 1, Max: 20},
		}
	}
	src := Sources{
		View: func() admin.View { return admin.BuildView(snap, servers, pools) },
		Stats: func() []metrics.QueryTotal {
			return []metrics.QueryTotal{
				{Protocol: "mysql", Database: "shop", Route: "single", OK: 1000, Errors: 2, Seconds: 0.5},
				{Protocol: "postgres", Database: "shop", Route: "scatter", OK: 3, Seconds: 0.0123},
			}
		},
		Clients: func() []Client {
			return []Client{
				{Protocol: "postgres", User: "app", Database: "shop", Remote: "127.0.0.1:50000", Since: probe, Active: true},
				{Protocol: "mysql", User: "dba", Remote: "unix socket", Since: probe},
			}
		},
	}
	return snap, src
}

// TestGolden runs every command, and the mistakes a DBA makes, against
// the fixture: testdata/console.golden holds what each answers.
func TestGolden(t *testing.T) {
	snap, src := fixture(t)
	pg, _ := snap.Database(topology.Postgres, "shop")
	statements := []string{
		"SHOW SHARDGATE HELP",
		"show shardgate databases;",
		"SHOW SHARDGATE SHARDS",
		"SHOW  SHARDGATE\tPOOLS ;",
		"SHOW SHARDGATE CLIENTS",
		"SHOW SHARDGATE STATS",
		"SHOW SHARDGATE TOPOLOGY",
		"SHOW SHARDGATE LOCATE users 42",
		"SHOW SHARDGATE LOCATE Users '42'",
		"SHOW SHARDGATE LOCATE carts 'it''s mine'",
		"SHOW SHARDGATE LOCATE countries 'fr'",
		"SHOW SHARDGATE LOCATE audit_log 7",
		"SHOW SHARDGATE LOCATE users forty-two",
		"SHOW SHARDGATE LOCATE users",
		"SHOW SHARDGATE LOCATE carts 'open",
		"SHOW SHARDGATE SHARDS now",
		"SHOW SHARDGATE VERSIONS",
		"SHOW SHARDGATE",
	}
	var b strings.Builder
	for _, sql := range statements {
		b.WriteString("== " + sql + "\n")
		r, err := Run(sql, pg, src)
		if err != nil {
			kind := "invalid"
			if errors.Is(err, ErrUnknown) {
				kind = "unknown"
			}
			b.WriteString("error (" + kind + "): " + err.Error() + "\n\n")
			continue
		}
		b.WriteString(strings.Join(r.Columns, " | ") + "\n")
		for _, row := range r.Rows {
			if len(row) != len(r.Columns) {
				t.Errorf("%s: row %q has %d values for %d columns", sql, row, len(row), len(r.Columns))
			}
			b.WriteString(strings.Join(row, " | ") + "\n")
		}
		b.WriteString("\n")
	}
	got := b.String()
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (go test -update creates it)", err)
	}
	if got != string(want) {
		t.Errorf("answers differ from %s (go test -update rewrites it):\n%s", golden, got)
	}
	for _, secret := range []string{"app-secret", "dba-secret", "backend-secret"} {
		if strings.Contains(got, secret) {
			t.Errorf("the console shows a password: %s", secret)
		}
	}
}

func TestLocateNeedsADatabase(t *testing.T) {
	_, src := fixture(t)
	if _, err := Run("SHOW SHARDGATE LOCATE users 1", nil, src); !errors.Is(err, ErrInvalid) {
		t.Errorf("LOCATE without a database: %v, want ErrInvalid", err)
	}
	if _, err := Run("SHOW SHARDGATE SHARDS", nil, src); err != nil {
		t.Errorf("SHARDS without a database: %v", err)
	}
}

func TestIsCommand(t *testing.T) {
	tests := []struct {
		sql  string
		want bool
	}{
		{"SHOW SHARDGATE POOLS", true},
		{"  show\tshardgate\npools;", true},
		{"SHOW SHARDGATE", true},
		{"SHOW SHARDGATE;", true},
		{"SHOW shardgates", false},
		{"SHOWSHARDGATE POOLS", false},
		{"SHOW search_path", false},
		{"SELECT 'SHOW SHARDGATE POOLS'", false},
		{"/* hint */ SHOW SHARDGATE POOLS", false},
		{"", false},
		{"SHOW", false},
	}
	for _, tc := range tests {
		if got := IsCommand(tc.sql); got != tc.want {
			t.Errorf("IsCommand(%q) = %v, want %v", tc.sql, got, tc.want)
		}
	}
}

// The proxies ask IsCommand of every MySQL statement: it must not cost
// an allocation.
func TestIsCommandAllocatesNothing(t *testing.T) {
	for _, sql := range []string{"SELECT c FROM sbtest1 WHERE id = ?", "SHOW SHARDGATE POOLS"} {
		if n := testing.AllocsPerRun(100, func() { IsCommand(sql) }); n != 0 {
			t.Errorf("IsCommand(%q) allocates %v times", sql, n)
		}
	}
}
