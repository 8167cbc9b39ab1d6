package metrics

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestScrapeSources(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := New(reg)
	m.AddPoolSource(nil) // ignored
	m.AddPoolSource(func() []PoolStat {
		return []PoolStat{
			{Database: "shop", Backend: "10.0.0.1:5432", Open: 5, InUse: 3, Waiters: 2, Max: 20, Dials: 7, DialErrors: 1, Waits: 9, DeadIdle: 4, Retired: 6},
			{Database: "shop", Backend: "10.0.0.1:5432", Open: 99}, // duplicate: first wins
		}
	})
	m.AddPoolSource(func() []PoolStat {
		return []PoolStat{{Database: "orders", Backend: "10.0.0.9:3306", Open: 1, Max: 10}}
	})
	m.AddServerSource(func() []ServerStat {
		return []ServerStat{
			{Database: "shop", Shard: "-80", Backend: "10.0.0.1:5432", Role: "primary", Up: true},
			{Database: "shop", Shard: "-80", Backend: "10.0.0.2:5432", Role: "replica", Up: true, LagSeconds: 1.5, LagKnown: true},
			{Database: "shop", Shard: "-80", Backend: "10.0.0.3:5432", Role: "replica", Up: false},
		}
	})
	fams := gather(t, reg)

	pool := map[string]string{"database": "shop", "backend": "10.0.0.1:5432"}
	primary := map[string]string{"database": "shop", "shard": "-80", "backend": "10.0.0.1:5432"}
	lagging := map[string]string{"database": "shop", "shard": "-80", "backend": "10.0.0.2:5432"}
	down := map[string]string{"database": "shop", "shard": "-80", "backend": "10.0.0.3:5432"}
	with := func(l map[string]string, k, v string) map[string]string {
		out := map[string]string{k: v}
		for kk, vv := range l {
			out[kk] = vv
		}
		return out
	}
	tests := []struct {
		name    string
		labels  map[string]string
		want    float64
		present bool
	}{
		{"shardgate_pool_connections", pool, 5, true},
		{"shardgate_pool_in_use", pool, 3, true},
		{"shardgate_pool_waiters", pool, 2, true},
		{"shardgate_pool_max", pool, 20, true},
		{"shardgate_pool_dials_total", pool, 7, true},
		{"shardgate_pool_dial_errors_total", pool, 1, true},
		{"shardgate_pool_waits_total", pool, 9, true},
		{"shardgate_pool_dead_idle_total", pool, 4, true},
		{"shardgate_pool_retired_total", pool, 6, true},
		{"shardgate_pool_max", map[string]string{"database": "orders", "backend": "10.0.0.9:3306"}, 10, true},
		{"shardgate_backend_up", with(primary, "role", "primary"), 1, true},
		{"shardgate_backend_up", with(down, "role", "replica"), 0, true},
		{"shardgate_replica_lag_seconds", lagging, 1.5, true},
		{"shardgate_replica_lag_known", lagging, 1, true},
		{"shardgate_replica_lag_known", down, 0, true},
		{"shardgate_replica_lag_seconds", down, 0, false},    // unknown: omitted
		{"shardgate_replica_lag_known", primary, 0, false},   // primaries have no lag
		{"shardgate_replica_lag_seconds", primary, 0, false}, // primaries have no lag
	}
	for _, tt := range tests {
		got, ok := value(fams, tt.name, tt.labels)
		if ok != tt.present || got != tt.want {
			t.Errorf("%s%v = %v (present %v), want %v (present %v)", tt.name, tt.labels, got, ok, tt.want, tt.present)
		}
	}
}

// A source that panics costs its own series, not the scrape.
func TestPanickingSource(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := New(reg)
	m.AddPoolSource(func() []PoolStat { panic("boom") })
	m.AddPoolSource(func() []PoolStat { return []PoolStat{{Database: "d", Backend: "b", Max: 3}} })
	fams, err := reg.Gather()
	if err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("err = %v, want the panic reported", err)
	}
	if got, ok := value(fams, "shardgate_pool_max", map[string]string{"database": "d", "backend": "b"}); !ok || got != 3 {
		t.Fatalf("healthy source lost: %v %v", got, ok)
	}
}
