package probe

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"gopkg.in/yaml.v3"

	"github.com/shardgate/shardgate/topology"
	"github.com/shardgate/shardgate/topology/health"
	"github.com/shardgate/shardgate/topology/localcluster"
)

func TestPostgresIntegration(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: starts real PostgreSQL servers")
	}
	t.Parallel()
	runScenario(t, localcluster.KindPostgres, NewPostgres(), replication{
		pause:    "SELECT pg_wal_replay_pause()",
		resume:   "SELECT pg_wal_replay_resume()",
		sessions: "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'shardgate-health'",
	})
}

func TestMariaDBIntegration(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: starts real MariaDB servers")
	}
	t.Parallel()
	runScenario(t, localcluster.KindMySQL, NewMySQL(), replication{
		pause:    "STOP SLAVE SQL_THREAD",
		resume:   "START SLAVE SQL_THREAD",
		sessions: "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = 'shardgate'",
	})
}

// replication is how a replica's apply is paused and resumed, and how the
// probe's sessions are counted, run as the server's administrator.
type replication struct{ pause, resume, sessions string }

type prober interface {
	health.Prober
	Close() error
}

const (
	failures = 2
	recovers = 2
)

// runScenario walks one replica through health, a stop, a restart and a
// paused replay, driving probe rounds by hand with ProbeNow.
func runScenario(t *testing.T, kind localcluster.Kind, p prober, repl replication) {
	c := localcluster.StartForTest(t, kind, localcluster.Options{Shards: 1, ReplicasPerShard: 1})
	t.Cleanup(func() { p.Close() })
	ctx := t.Context()
	primary, replica := c.Shards[0].Primary, c.Shards[0].Replicas[0]
	if err := c.Exec(ctx, primary, "CREATE TABLE probe_t (id INT PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitReplicated(ctx); err != nil {
		t.Fatal(err)
	}
	snap := clusterSnapshot(t, c)
	db := snap.Databases()[0]
	sh := db.Shards[0]
	m := health.NewMonitor(map[string]health.Prober{string(kind): p}, health.Options{})
	round := func() { m.ProbeNow(ctx, snap) }
	status := func(addr string) health.ServerStatus {
		for _, s := range m.Status() {
			if s.Address == addr {
				return s
			}
		}
		t.Fatalf("%s not in status", addr)
		return health.ServerStatus{}
	}
	pick := func() string {
		addr, err := m.Pick(db, sh, health.PickRequest{})
		if err != nil {
			t.Fatal(err)
		}
		return addr
	}
	nextID := 0
	write := func() {
		nextID++
		if err := c.Exec(ctx, primary, fmt.Sprintf("INSERT INTO probe_t VALUES (%d)", nextID)); err != nil {
			t.Fatal(err)
		}
	}

	t.Log("healthy: the replica is caught up, lag 0")
	poll(t, "replica caught up", func() bool {
		round()
		s := status(replica.Addr)
		return s.Up && s.Usable && s.LagKnown && s.Lag == 0
	})
	if s := status(primary.Addr); !s.Up || s.ReadOnly || s.Position == "" || s.LastError != "" {
		t.Errorf("primary status %+v", s)
	}
	if s := status(replica.Addr); !s.ReadOnly || s.Position == "" {
		t.Errorf("replica status %+v", s)
	}
	if got := pick(); got != replica.Addr {
		t.Fatalf("read went to %s, want the replica", got)
	}
	// Rounds reuse one probe session per server.
	for range 3 {
		round()
	}
	poll(t, "one probe session on the primary", func() bool { return adminCount(t, c, primary, repl.sessions) == 1 })

	t.Log("replica stopped: banned after", failures, "failed rounds")
	if err := replica.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= failures; i++ {
		round()
		if s := status(replica.Addr); s.Up != (i < failures) || s.LastError == "" {
			t.Fatalf("round %d after stop: %+v", i, s)
		}
	}
	if got := pick(); got != primary.Addr {
		t.Fatalf("read went to %s while the replica is down", got)
	}

	t.Log("replica restarted: usable after", recovers, "good rounds")
	if err := replica.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitReplicated(ctx); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= recovers; i++ {
		round()
		if s := status(replica.Addr); s.Up != (i == recovers) {
			t.Fatalf("round %d after restart: %+v", i, s)
		}
	}
	poll(t, "restarted replica usable", func() bool { round(); return status(replica.Addr).Usable })
	if got := pick(); got != replica.Addr {
		t.Fatalf("read went to %s after recovery", got)
	}

	t.Log("replay paused: the replica falls behind max_replica_lag")
	admin(t, c, replica, repl.pause)
	poll(t, "replica lagging", func() bool {
		write()
		round()
		return !status(replica.Addr).Usable
	})
	s := status(replica.Addr)
	if !s.Up || (s.LagKnown && s.Lag <= db.MaxReplicaLag) {
		t.Fatalf("lagging replica: %+v", s)
	}
	t.Logf("lagging replica: lag %v known %v", s.Lag, s.LagKnown)
	if got := pick(); got != primary.Addr {
		t.Fatalf("read went to %s while the replica lags", got)
	}

	t.Log("replay resumed: usable again")
	admin(t, c, replica, repl.resume)
	poll(t, "replica caught up again", func() bool { round(); return status(replica.Addr).Usable })
	if got := pick(); got != replica.Addr {
		t.Fatalf("read went to %s after the replica caught up", got)
	}
}

// clusterSnapshot is a topology of the cluster as one database with a
// 1s lag limit and quick ban/recovery.
func clusterSnapshot(t *testing.T, c *localcluster.Cluster) *topology.Snapshot {
	t.Helper()
	d := c.TopologyDatabase("app")
	d.MaxReplicaLag = topology.Duration(time.Second)
	f, r, timeout := failures, recovers, topology.Duration(5*time.Second)
	cfg := topology.Config{
		Users:     []topology.User{{Name: "app", Password: "x"}},
		Databases: []topology.Database{d},
		Health:    topology.Health{Failures: &f, Recover: &r, Timeout: &timeout},
	}
	if c.Kind == localcluster.KindPostgres {
		cfg.Listen.Postgres = "127.0.0.1:1"
	} else {
		cfg.Listen.MySQL = "127.0.0.1:1"
	}
	data, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := topology.Parse("cluster.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

// admin runs a statement as the server's administrator.
func admin(t *testing.T, c *localcluster.Cluster, n *localcluster.Node, stmt string) {
	t.Helper()
	if c.Kind == localcluster.KindPostgres {
		if err := c.Exec(t.Context(), n, stmt); err != nil { // the cluster's user is a superuser
			t.Fatal(err)
		}
		return
	}
	db, err := sql.Open("mysql", c.AdminDSN(n))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(t.Context(), stmt); err != nil {
		t.Fatal(err)
	}
}

// adminCount runs a counting query as the server's administrator.
func adminCount(t *testing.T, c *localcluster.Cluster, n *localcluster.Node, query string) int {
	t.Helper()
	var count int
	if c.Kind == localcluster.KindPostgres {
		conn, err := pgx.Connect(t.Context(), c.DSN(n))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(t.Context())
		if err := conn.QueryRow(t.Context(), query).Scan(&count); err != nil {
			t.Fatal(err)
		}
		return count
	}
	db, err := sql.Open("mysql", c.AdminDSN(n))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.QueryRowContext(t.Context(), query).Scan(&count); err != nil {
		t.Fatal(err)
	}
	return count
}

// poll runs cond until it holds, pausing between tries, or fails the test
// at the deadline.
func poll(t *testing.T, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-tick.C:
		}
	}
}
