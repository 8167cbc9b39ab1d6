package pgserver

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/shardgate/shardgate/proxy/metrics"
	"github.com/shardgate/shardgate/proxy/probe"
	"github.com/shardgate/shardgate/topology"
	"github.com/shardgate/shardgate/topology/health"
	"github.com/shardgate/shardgate/topology/localcluster"
)

// A replica that stops costs no read. On the shard the proxy has read
// from, the first read meets a dead pooled connection and runs again
// elsewhere; on the other, the first read's dial is refused and it goes
// elsewhere. Either failure bans the replica at once and later reads
// avoid it. The monitor runs no probe rounds meanwhile, so only the
// passive path and the retries protect the reads. Once restarted, probe
// rounds let the replicas back and reads reach them again.
func TestProxyReplicaDownReadsRetry(t *testing.T) {
	prober := probe.NewPostgres()
	t.Cleanup(func() { prober.Close() })
	mon := health.NewMonitor(map[string]health.Prober{"postgres": prober}, health.Options{})
	reg := prometheus.NewRegistry()
	f := startFixtureWith(t, Options{Health: mon, Metrics: metrics.New(reg)})
	ctx := t.Context()
	snap := f.srv.store.Current()
	mon.ProbeNow(ctx, snap) // adopt the topology: the monitor knows every server

	// One key per shard: shard 0 is read before the stop (warm pool), the
	// other is not (no pooled connection to its replica).
	keys := [2]int64{}
	for k := int64(1); keys[0] == 0 || keys[1] == 0; k++ {
		if keys[f.shardOf(k)] == 0 {
			keys[f.shardOf(k)] = k
		}
	}
	replicas := [2]*localcluster.Node{f.cluster.Shards[0].Replicas[0], f.cluster.Shards[1].Replicas[0]}
	simple := f.connect(t)
	extended, err := pgx.Connect(ctx, f.dsn("app", "app-secret")) // prepared statements
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { extended.Close(context.Background()) })
	for _, k := range keys {
		if _, err := simple.Exec(ctx, fmt.Sprintf("INSERT INTO users (id, name) VALUES (%d, 'u%d')", k, k)); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.cluster.WaitReplicated(ctx); err != nil {
		t.Fatal(err)
	}
	// read does a point read on shard i, through the simple or the
	// extended protocol, and returns the port of the server that answered.
	read := func(i, n int) (int, error) {
		var port int
		var name string
		var err error
		if n%2 == 0 {
			err = simple.QueryRow(ctx, fmt.Sprintf("SELECT inet_server_port(), name FROM users WHERE id = %d", keys[i])).Scan(&port, &name)
		} else {
			err = extended.QueryRow(ctx, "SELECT inet_server_port(), name FROM users WHERE id = $1", keys[i]).Scan(&port, &name)
		}
		if want := fmt.Sprintf("u%d", keys[i]); err == nil && name != want {
			err = fmt.Errorf("read %q, want %q", name, want)
		}
		return port, err
	}
	// Both sessions leave idle connections to shard 0's replica in its
	// pool: the stop kills them under the proxy.
	for n := range 10 {
		if port, err := read(0, n); err != nil || port != replicas[0].Port {
			t.Fatalf("read %d before the stop: port %d, %v; want the replica's %d", n, port, err, replicas[0].Port)
		}
	}

	for _, r := range replicas {
		if err := r.Stop(ctx); err != nil {
			t.Fatal(err)
		}
	}
	failed := 0
	for n := range 200 {
		i := n / 2 % 2 // each shard by both protocols
		port, err := read(i, n)
		switch {
		case err != nil:
			failed++
			t.Errorf("read %d on shard %d with the replicas down: %v", n, i, err)
		case port == replicas[i].Port:
			t.Fatalf("read %d answered by the stopped replica", n)
		}
	}
	if failed > 0 {
		t.Fatalf("%d of 200 reads failed with the replicas down", failed)
	}
	for _, r := range replicas {
		if st := serverStatus(t, mon, r.Addr); st.Up {
			t.Errorf("the stopped replica is not banned: %+v", st)
		}
	}
	if n := counterSum(t, reg, "shardgate_read_retries_total"); n != 2 {
		t.Errorf("shardgate_read_retries_total = %v, want 2 (one per shard: the ban spares the rest)", n)
	}

	for _, r := range replicas {
		if err := r.Start(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.cluster.WaitReplicated(ctx); err != nil {
		t.Fatal(err)
	}
	poll(t, 30*time.Second, "the restarted replicas usable again", func() bool {
		mon.ProbeNow(ctx, snap)
		return serverStatus(t, mon, replicas[0].Addr).Usable && serverStatus(t, mon, replicas[1].Addr).Usable
	})
	for n := range 20 {
		i := n / 2 % 2
		if port, err := read(i, n); err != nil || port != replicas[i].Port {
			t.Errorf("read %d on shard %d after the restart: port %d, %v; want the replica's %d", n, i, port, err, replicas[i].Port)
		}
	}
}

// With read_your_writes a session reads what it just wrote even from
// replicas that replay half a second late; without it, it does not.
func TestProxyReadYourWrites(t *testing.T) {
	f := startFixtureWith(t, Options{}, func(c *topology.Config) {
		c.Databases[0].ReadYourWrites = topology.Duration(2 * time.Second)
	})
	ctx := t.Context()
	for _, sh := range f.cluster.Shards {
		for _, r := range sh.Replicas {
			delayReplay(t, f.cluster, r, "500ms")
		}
	}
	off := serveProxy(t, f.cluster, Options{}) // the same cluster, read_your_writes off

	misses := func(f *fixture, base int64) int {
		conn := f.connect(t)
		n := 0
		for i := range int64(300) {
			id := base + i
			if _, err := conn.Exec(ctx, fmt.Sprintf("INSERT INTO users (id, name) VALUES (%d, 'u%d')", id, id)); err != nil {
				t.Fatal(err)
			}
			var name string
			err := conn.QueryRow(ctx, fmt.Sprintf("SELECT name FROM users WHERE id = %d", id)).Scan(&name)
			switch {
			case errors.Is(err, pgx.ErrNoRows):
				n++
			case err != nil:
				t.Fatal(err)
			case name != fmt.Sprintf("u%d", id):
				t.Fatalf("read %q for id %d", name, id)
			}
		}
		return n
	}
	if n := misses(f, 1_000); n != 0 {
		t.Errorf("read_your_writes 2s: %d of 300 reads missed the session's own write", n)
	}
	n := misses(off, 10_000)
	if n == 0 {
		t.Error("read_your_writes off: every read saw its write, so the replicas do not lag and the test proves nothing")
	}
	t.Logf("read_your_writes off: %d of 300 reads missed", n)
}

// delayReplay makes a replica apply commits late (recovery_min_apply_delay)
// and waits until the setting is in force.
func delayReplay(t *testing.T, c *localcluster.Cluster, n *localcluster.Node, delay string) {
	t.Helper()
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, c.AdminDSN(n))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	for _, q := range []string{"ALTER SYSTEM SET recovery_min_apply_delay = '" + delay + "'", "SELECT pg_reload_conf()"} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s on %s: %v", q, n, err)
		}
	}
	poll(t, 10*time.Second, "recovery_min_apply_delay on "+n.String(), func() bool {
		var v string
		err := conn.QueryRow(ctx, "SELECT current_setting('recovery_min_apply_delay')").Scan(&v)
		return err == nil && v == delay
	})
}

// Cancelling Serve's context drains: an idle client is disconnected at
// once; a client inside a transaction finishes it (and its COMMIT
// holds), as does a client in the middle of an extended-protocol
// pipeline (up to its Sync); Serve returns as soon as they are done.
func TestProxyGracefulDrain(t *testing.T) {
	const drainTimeout = 30 * time.Second
	f := startFixtureWith(t, Options{DrainTimeout: drainTimeout})
	ctx := t.Context()
	inTx, idle, piped := f.connect(t), f.connect(t), f.connect(t)
	tx, err := inTx.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "INSERT INTO users (id, name) VALUES (1, 'before')"); err != nil {
		t.Fatal(err)
	}
	if _, err := idle.Exec(ctx, "SELECT 1"); err != nil {
		t.Fatal(err)
	}
	// A pipeline sent up to an Execute, without its Sync yet: once the
	// INSERT is on the shard, the proxy has read it and waits for more.
	pipe := piped.PgConn().StartPipeline(ctx)
	pipe.SendQueryParams("INSERT INTO users (id, name) VALUES (2, 'piped')", nil, nil, nil, nil)
	if err := pipe.Flush(); err != nil {
		t.Fatal(err)
	}
	shard2 := f.direct(t, f.shardOf(2))
	poll(t, 10*time.Second, "the pipelined INSERT on its shard", func() bool {
		var n int
		return shard2.QueryRow(ctx, "SELECT count(*) FROM users WHERE id = 2").Scan(&n) == nil && n == 1
	})

	stopped := make(chan error, 1)
	go func() { stopped <- f.stop() }()
	// The idle client goes first (it is closed when the drain starts).
	poll(t, 10*time.Second, "the idle client disconnected", func() bool {
		_, err := idle.Exec(ctx, "SELECT 1")
		return err != nil
	})
	if _, err := pgx.Connect(ctx, f.dsn("app", "app-secret")); err == nil {
		t.Error("a new client connected during the drain")
	}
	// The pipeline ends with its Sync and gets every answer.
	if err := pipe.Sync(); err != nil {
		t.Fatal(err)
	}
	res, err := pipe.GetResults()
	rr, ok := res.(*pgconn.ResultReader)
	if err != nil || !ok {
		t.Fatalf("pipelined INSERT during the drain: %T %v", res, err)
	}
	if tag, err := rr.Close(); err != nil || tag.String() != "INSERT 0 1" {
		t.Fatalf("pipelined INSERT during the drain: %q %v", tag, err)
	}
	if res, err := pipe.GetResults(); err != nil {
		t.Fatalf("pipeline Sync during the drain: %v", err)
	} else if _, ok := res.(*pgconn.PipelineSync); !ok {
		t.Fatalf("pipeline Sync during the drain: got %T", res)
	}
	if err := pipe.Close(); err != nil {
		t.Fatal(err)
	}
	// The transaction goes on through the drain.
	if _, err := tx.Exec(ctx, "UPDATE users SET name = 'during' WHERE id = 1"); err != nil {
		t.Fatalf("statement in the open transaction during the drain: %v", err)
	}
	var name string
	if err := tx.QueryRow(ctx, "SELECT name FROM users WHERE id = 1").Scan(&name); err != nil || name != "during" {
		t.Fatalf("read in the open transaction during the drain: %q, %v", name, err)
	}
	select {
	case err := <-stopped:
		t.Fatalf("Serve returned (%v) while a transaction was open", err)
	default:
	}
	committed := time.Now()
	if err := tx.Commit(ctx); err != nil {
		t.Fatalf("COMMIT during the drain: %v", err)
	}
	select {
	case err := <-stopped:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
		if took := time.Since(committed); took > drainTimeout/3 {
			t.Errorf("Serve returned %v after the COMMIT; the drain should end with the transaction", took)
		}
	case <-time.After(drainTimeout / 3):
		t.Fatal("Serve did not return after the last transaction ended")
	}
	if err := f.direct(t, f.shardOf(1)).QueryRow(ctx, "SELECT name FROM users WHERE id = 1").Scan(&name); err != nil || name != "during" {
		t.Errorf("row after the drain: %q, %v; want the committed 'during'", name, err)
	}
	if _, err := inTx.Exec(ctx, "SELECT 1"); err == nil {
		t.Error("the session was kept after its transaction ended during the drain")
	}
}

// serverStatus is the monitor's view of one server.
func serverStatus(t *testing.T, m *health.Monitor, addr string) health.ServerStatus {
	t.Helper()
	for _, s := range m.Status() {
		if s.Address == addr {
			return s
		}
	}
	t.Fatalf("%s not in the monitor's status", addr)
	return health.ServerStatus{}
}

// counterSum adds up every series of a counter family.
func counterSum(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}

// poll calls cond until it holds, failing the test after timeout.
func poll(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A transaction whose server connection dies is aborted, never escaped:
// the failed statement is not retried outside it, later statements are
// refused until its end, and COMMIT answers ROLLBACK.
func TestProxyTransactionLosesItsConnection(t *testing.T) {
	f := startFixture(t)
	ctx := t.Context()
	conn := f.connect(t)
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "INSERT INTO users (id, name) VALUES (3, 'lost')"); err != nil {
		t.Fatal(err)
	}
	shard := f.direct(t, f.shardOf(3))
	var killed bool
	if err := shard.QueryRow(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE application_name = 'shardgate' AND state = 'idle in transaction'`).Scan(&killed); err != nil || !killed {
		t.Fatalf("terminate the transaction's server session: %v %v", killed, err)
	}
	var name string
	err = tx.QueryRow(ctx, "SELECT name FROM users WHERE id = 3").Scan(&name)
	if pgCode(err) != "08006" {
		t.Fatalf("read in the transaction after its connection died: %q, %v; want 08006", name, err)
	}
	if _, err := tx.Exec(ctx, "SELECT 1"); pgCode(err) != "25P02" {
		t.Errorf("statement after the loss: %v, want 25P02", err)
	}
	if err := tx.Commit(ctx); !errors.Is(err, pgx.ErrTxCommitRollback) {
		t.Errorf("COMMIT after the loss: %v, want a rollback", err)
	}
	var n int
	if err := shard.QueryRow(ctx, "SELECT count(*) FROM users WHERE id = 3").Scan(&n); err != nil || n != 0 {
		t.Errorf("rows of the lost transaction: %d, %v; want none", n, err)
	}
	if _, err := conn.Exec(ctx, "SELECT 1"); err != nil {
		t.Errorf("the session after the lost transaction: %v", err)
	}
}
