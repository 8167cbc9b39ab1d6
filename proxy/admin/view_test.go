package admin

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/shardgate/shardgate/proxy/metrics"
	"github.com/shardgate/shardgate/topology"
)

var update = flag.Bool("update", false, "rewrite golden files")

const (
	viewYAML   = "testdata/view.yaml"
	viewGolden = "testdata/view.golden.json"
)

// fixedSnapshot parses testdata/view.yaml with a fixed load time.
func fixedSnapshot(t *testing.T) *topology.Snapshot {
	t.Helper()
	data, err := os.ReadFile(viewYAML)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := topology.Parse(viewYAML, data)
	if err != nil {
		t.Fatal(err)
	}
	snap.Source.LoadedAt = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	return snap
}

func fixedServers() []ServerView {
	probe := time.Date(2025, 1, 2, 3, 4, 6, 0, time.UTC)
	return []ServerView{
		{Database: "shop", Shard: "-80", Address: "127.0.0.1:15432", Up: true, Position: "0/3000148", LastProbe: probe, InFlight: 2},
		{Database: "shop", Shard: "-80", Address: "127.0.0.1:15433", Up: true, LagSeconds: 0.25, LagKnown: true, Position: "0/3000100", LastProbe: probe},
		{Database: "shop", Shard: "-80", Address: "127.0.0.1:15434", Up: false, LastError: "dial tcp 127.0.0.1:15434: connection refused", LastProbe: probe},
		{Database: "shop", Shard: "80-", Address: "127.0.0.1:19999", Up: true}, // not in the snapshot: left out
	}
}

func pgPools() []metrics.PoolStat {
	return []metrics.PoolStat{
		{Database: "shop", Backend: "127.0.0.1:15432", Open: 4, InUse: 3, Waiters: 1, Max: 10},
		{Database: "shop", Backend: "127.0.0.1:15433", Open: 2, InUse: 0, Max: 10},
	}
}

func myPools() []metrics.PoolStat {
	return []metrics.PoolStat{{Database: "blog", Backend: "127.0.0.1:13306", Open: 1, InUse: 1, Max: 20}}
}

func TestBuildViewGolden(t *testing.T) {
	v := BuildView(fixedSnapshot(t), fixedServers, pgPools, nil, myPools)
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	if *update {
		if err := os.WriteFile(viewGolden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(viewGolden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("view differs from %s (go test -update rewrites it):\n%s", viewGolden, got)
	}
	for _, secret := range []string{"app-secret", "backend-secret"} {
		if strings.Contains(string(got), secret) {
			t.Errorf("view leaks a password: %s", secret)
		}
	}
}

func TestBuildViewWithoutReports(t *testing.T) {
	v := BuildView(fixedSnapshot(t), nil)
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"databases", len(v.Databases), 2},
		{"shop shards", len(v.Databases[0].Shards), 2},
		{"shop unsharded", v.Databases[0].UnshardedShard, "-80"},
		{"blog protocol", v.Databases[1].Protocol, "mysql"},
		{"drained weight", v.Databases[0].Shards[0].Replicas[1].Weight, 0},
		{"primary health", v.Databases[0].Shards[0].Primary.Health == nil, true},
		{"primary pool", v.Databases[0].Shards[0].Primary.Pool == nil, true},
		{"no replicas is [] not null", v.Databases[0].Shards[1].Replicas != nil, true},
		{"sha256", v.Source.SHA256 != "", true},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %v, want %v", tt.name, tt.got, tt.want)
		}
	}
}
