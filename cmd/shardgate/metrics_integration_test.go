package main

import (
	"fmt"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/shardgate/shardgate/topology/localcluster"
)

// /metrics of a stack serving both protocols parses as Prometheus text,
// carries every family operators rely on with its type, and moves with
// traffic: single and scatter queries, a refused statement, client
// connections, backend statements, pools, health.
func TestServeMetricsMoveWithTraffic(t *testing.T) {
	pgc := startCluster(t, localcluster.KindPostgres, 2, 1)
	myc := startCluster(t, localcluster.KindMySQL, 2, 1)
	seedUsers(t, pgc, 20)
	seedUsers(t, myc, 20)
	f := serveStack(t, stackConfig(t, shopDB(pgc, -1), shopDB(myc, -1)))

	m := f.metrics(t)
	types := map[string]dto.MetricType{
		"shardgate_client_connections_open": dto.MetricType_GAUGE,
		"shardgate_errors_total":            dto.MetricType_COUNTER,
		"shardgate_topology_reloads_total":  dto.MetricType_COUNTER,
		"shardgate_backend_up":              dto.MetricType_GAUGE,
		"shardgate_replica_lag_seconds":     dto.MetricType_GAUGE,
	}
	checkTypes(t, "at start", m, types)
	servers := len(pgc.Nodes()) + len(myc.Nodes())
	if up, _ := m.value("shardgate_backend_up"); int(up) != servers || len(m["shardgate_backend_up"].GetMetric()) != servers {
		t.Errorf("shardgate_backend_up: %d series summing to %v; want %d servers, all up", len(m["shardgate_backend_up"].GetMetric()), up, servers)
	}
	for _, c := range []*localcluster.Cluster{pgc, myc} {
		for _, sh := range c.Shards {
			if lag, ok := m.value("shardgate_replica_lag_seconds", "backend", sh.Replicas[0].Addr); !ok || lag > 1 {
				t.Errorf("shardgate_replica_lag_seconds of %s: %v, present %v; want a small lag", sh.Replicas[0], lag, ok)
			}
		}
	}
	if n, _ := m.value("shardgate_client_connections_open"); n != 0 {
		t.Errorf("shardgate_client_connections_open = %v with no client", n)
	}

	const singles, scatters = 20, 5
	pg := f.pgConnect(t)
	my := f.myOpen(t)
	my.SetMaxOpenConns(1)
	traffic := map[string]func(q string, args ...any) error{
		"postgres": func(q string, args ...any) error {
			rows, err := pg.Query(t.Context(), q, args...)
			if err != nil {
				return err
			}
			for rows.Next() {
			}
			rows.Close()
			return rows.Err()
		},
		"mysql": func(q string, args ...any) error {
			rows, err := my.QueryContext(t.Context(), q, args...)
			if err != nil {
				return err
			}
			for rows.Next() {
			}
			rows.Close()
			return rows.Err()
		},
	}
	placeholder := map[string]string{"postgres": "$1", "mysql": "?"}
	for _, proto := range []string{"postgres", "mysql"} {
		before := f.metrics(t)
		run := traffic[proto]
		for i := range singles {
			if err := run("SELECT name FROM users WHERE id = "+placeholder[proto], i+1); err != nil {
				t.Fatalf("%s: single read: %v", proto, err)
			}
		}
		for range scatters {
			if err := run("SELECT count(*) FROM users"); err != nil {
				t.Fatalf("%s: scatter read: %v", proto, err)
			}
		}
		if err := run("INSERT INTO users (name) VALUES ('no key')"); err == nil {
			t.Fatalf("%s: an INSERT without the sharding key was accepted", proto)
		}
		after := f.metrics(t)
		checkTypes(t, proto+" after traffic", after, map[string]dto.MetricType{
			"shardgate_queries_total":          dto.MetricType_COUNTER,
			"shardgate_query_duration_seconds": dto.MetricType_HISTOGRAM,
			"shardgate_backend_queries_total":  dto.MetricType_COUNTER,
			"shardgate_pool_connections":       dto.MetricType_GAUGE,
			"shardgate_pool_in_use":            dto.MetricType_GAUGE,
			"shardgate_pool_waiters":           dto.MetricType_GAUGE,
		})
		delta := func(name string, labels ...string) float64 {
			a, _ := after.value(name, labels...)
			b, _ := before.value(name, labels...)
			return a - b
		}
		for _, c := range []struct {
			name   string
			labels []string
			min    float64
			exact  bool
		}{
			{"shardgate_queries_total", []string{"database", "shop", "route", "single", "outcome", "ok"}, singles, true},
			{"shardgate_queries_total", []string{"database", "shop", "route", "scatter", "outcome", "ok"}, scatters, true},
			{"shardgate_query_duration_seconds", []string{"database", "shop"}, singles + scatters, false},
			{"shardgate_errors_total", []string{"class", "route"}, 1, true},
			{"shardgate_backend_queries_total", []string{"database", "shop", "role", "replica"}, singles + 2*scatters, true},
		} {
			if d := delta(c.name, c.labels...); d < c.min || c.exact && d != c.min {
				t.Errorf("%s: %s%v moved by %v, want %v", proto, c.name, c.labels, d, c.min)
			}
		}
		if n, _ := after.value("shardgate_client_connections_open", "protocol", proto); n != 1 {
			t.Errorf("%s: shardgate_client_connections_open = %v with one client, want 1", proto, n)
		}
		cluster := map[string]*localcluster.Cluster{"postgres": pgc, "mysql": myc}[proto]
		for _, sh := range cluster.Shards {
			addr := sh.Replicas[0].Addr
			if n, ok := after.value("shardgate_pool_connections", "backend", addr); !ok || n < 1 {
				t.Errorf("%s: shardgate_pool_connections of replica %s: %v (present %v); want at least 1", proto, addr, n, ok)
			}
			if n, ok := after.value("shardgate_pool_in_use", "backend", addr); !ok || n != 0 {
				t.Errorf("%s: shardgate_pool_in_use of idle replica %s: %v (present %v); want 0", proto, addr, n, ok)
			}
		}
	}

	pg.Close(t.Context())
	my.Close()
	waitFor(t, 5*time.Second, "shardgate_client_connections_open back to 0", func() bool {
		n, _ := f.metrics(t).value("shardgate_client_connections_open")
		return n == 0
	})
}

// checkTypes fails for each family missing from m or of another type.
func checkTypes(t *testing.T, when string, m metricFamilies, want map[string]dto.MetricType) {
	t.Helper()
	for name, typ := range want {
		mf := m[name]
		switch {
		case mf == nil:
			t.Errorf("%s: /metrics lacks %s", when, name)
		case mf.GetType() != typ:
			t.Errorf("%s: %s is a %v, want a %v", when, name, mf.GetType(), typ)
		case len(mf.GetMetric()) == 0:
			t.Errorf("%s: %s has no series", when, name)
		}
	}
	if t.Failed() {
		names := make([]string, 0, len(m))
		for n := range m {
			names = append(names, n)
		}
		t.Log(fmt.Sprint("families: ", names))
	}
}
