package probe

import (
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/shardgate/shardgate/topology"
	"github.com/shardgate/shardgate/topology/health"
	"github.com/shardgate/shardgate/topology/localcluster"
)

// Probes reach the servers over TLS when the database's backend settings
// ask for it, as the proxy's own connections do.
func TestPostgresProbeTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: starts real PostgreSQL servers")
	}
	t.Parallel()
	c := localcluster.StartForTest(t, localcluster.KindPostgres, localcluster.Options{Shards: 1, ReplicasPerShard: localcluster.NoReplicas, TLS: true})
	d := c.TopologyDatabase("app")
	d.Backend.TLS, d.Backend.CA = topology.BackendTLSVerifyFull, c.CAFile()
	data, err := yaml.Marshal(topology.Config{
		Listen:    topology.Listen{Postgres: "127.0.0.1:1"},
		Users:     []topology.User{{Name: "app", Password: "x"}},
		Databases: []topology.Database{d},
	})
	if err != nil {
		t.Fatal(err)
	}
	snap, err := topology.Parse("tls.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	p := NewPostgres()
	t.Cleanup(func() { p.Close() })
	m := health.NewMonitor(map[string]health.Prober{string(localcluster.KindPostgres): p}, health.Options{})
	m.ProbeNow(t.Context(), snap)
	primary := c.Shards[0].Primary
	for _, s := range m.Status() {
		if s.Address == primary.Addr && (!s.Up || s.LastError != "") {
			t.Fatalf("primary probed over TLS: %+v", s)
		}
	}
	const q = "SELECT count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'shardgate-health' AND s.ssl"
	if n := adminCount(t, c, primary, q); n != 1 {
		t.Fatalf("%d probe sessions over TLS, want 1", n)
	}
}

// The MariaDB probe logs in over TLS (verify-full against the cluster's
// CA); with a CA that signed nothing there it fails.
func TestMariaDBProbeTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: starts real MariaDB servers")
	}
	t.Parallel()
	c := localcluster.StartForTest(t, localcluster.KindMySQL, localcluster.Options{Shards: 1, ReplicasPerShard: localcluster.NoReplicas, TLS: true})
	primary := c.Shards[0].Primary
	for _, tc := range []struct {
		ca string
		up bool
	}{{c.CAFile(), true}, {"", false}} {
		d := c.TopologyDatabase("app")
		d.Backend.TLS, d.Backend.CA = topology.BackendTLSVerifyFull, tc.ca
		data, err := yaml.Marshal(topology.Config{
			Listen:    topology.Listen{MySQL: "127.0.0.1:1"},
			Users:     []topology.User{{Name: "app", Password: "x"}},
			Databases: []topology.Database{d},
		})
		if err != nil {
			t.Fatal(err)
		}
		snap, err := topology.Parse("tls.yaml", data)
		if err != nil {
			t.Fatal(err)
		}
		p := NewMySQL()
		m := health.NewMonitor(map[string]health.Prober{string(localcluster.KindMySQL): p}, health.Options{})
		m.ProbeNow(t.Context(), snap)
		p.Close()
		for _, s := range m.Status() {
			if s.Address == primary.Addr && (s.LastError == "") != tc.up {
				t.Fatalf("CA %q: probe status %+v, want success %v", tc.ca, s, tc.up)
			}
		}
	}
}
