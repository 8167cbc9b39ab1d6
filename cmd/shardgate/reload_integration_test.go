package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shardgate/shardgate/topology"
	"github.com/shardgate/shardgate/topology/localcluster"
)

// The topology file is rewritten under a mixed read/write load: a valid
// edit (a second replica per shard, read_policy least_connections) swaps
// in without a failed statement and the new replicas get reads; an
// invalid one is refused and counted, and everything keeps routing as
// before on the topology in force.
func TestServeReloadUnderLoad(t *testing.T) {
	for _, kind := range []localcluster.Kind{localcluster.KindPostgres, localcluster.KindMySQL} {
		t.Run(string(kind), func(t *testing.T) {
			const users, readers, writers = 200, 6, 2
			c := startCluster(t, kind, 2, 2)
			seedUsers(t, c, users)
			cfg := stackConfig(t, shopDB(c, 1)) // the second replicas are not listed yet
			f := serveStack(t, cfg)
			cfg = f.cfg // the addresses it serves on

			read := f.portReader(t, kind, readers)
			var write [writers]func(int64) error
			for i := range write {
				write[i] = f.writer(t, kind)
			}
			var answered ports
			l := startLoad(readers+writers, time.Minute, func(w, i int) error {
				if w >= readers {
					return write[w-readers](int64(1_000_000*(w+1) + i))
				}
				k := int64((w*7919+i*31)%users + 1)
				port, name, err := read(w, k)
				if err != nil {
					return err
				}
				if name != fmt.Sprintf("u%d", k) {
					return fmt.Errorf("user %d: read %q", k, name)
				}
				answered.add(port)
				return nil
			})
			defer l.stop(t, "mixed load")

			old := [2]*localcluster.Node{c.Shards[0].Replicas[0], c.Shards[1].Replicas[0]}
			added := [2]*localcluster.Node{c.Shards[0].Replicas[1], c.Shards[1].Replicas[1]}
			waitFor(t, 10*time.Second, "the listed replicas answering reads", func() bool {
				return answered.get(old[0].Port) >= 20 && answered.get(old[1].Port) >= 20
			})
			if n := answered.get(added[0].Port) + answered.get(added[1].Port); n != 0 {
				t.Fatalf("replicas not in the topology answered %d reads", n)
			}

			next := cfg
			next.Databases = []topology.Database{shopDB(c, -1)}
			next.Databases[0].ReadPolicy = string(topology.LeastConnections)
			sha := writeConfig(t, f.cfgPath, next)
			edited := time.Now()
			waitFor(t, 10*time.Second, "/topology serving the edited file", func() bool {
				v := f.view(t)
				return v.Source.SHA256 == sha && v.Databases[0].ReadPolicy == string(topology.LeastConnections) &&
					len(v.Databases[0].Shards[0].Replicas) == 2
			})
			t.Logf("edit in force %v after the write", time.Since(edited).Round(time.Millisecond))
			if n, _ := f.metrics(t).value("shardgate_topology_reloads_total", "result", "ok"); n != 1 {
				t.Errorf(`shardgate_topology_reloads_total{result="ok"} = %v, want 1`, n)
			}
			at := [2]int{answered.get(added[0].Port), answered.get(added[1].Port)}
			waitFor(t, 10*time.Second, "the added replicas answering reads", func() bool {
				return answered.get(added[0].Port) >= at[0]+20 && answered.get(added[1].Port) >= at[1]+20
			})

			// An invalid file: refused, counted; the edit stays in force.
			before, _ := f.metrics(t).value("shardgate_topology_reloads_total", "result", "error")
			good, err := os.ReadFile(f.cfgPath)
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, f.cfgPath, append(good, "no_such_field: 1\n"...))
			waitFor(t, 10*time.Second, "the invalid file counted as a refused reload", func() bool {
				n, _ := f.metrics(t).value("shardgate_topology_reloads_total", "result", "error")
				return n == before+1
			})
			m := f.metrics(t)
			if ok, _ := m.value("shardgate_topology_last_reload_successful"); ok != 0 {
				t.Errorf("shardgate_topology_last_reload_successful = %v after a refused file, want 0", ok)
			}
			if n, _ := m.value("shardgate_topology_reloads_total", "result", "ok"); n != 1 {
				t.Errorf(`shardgate_topology_reloads_total{result="ok"} = %v after a refused file, want still 1`, n)
			}
			if v := f.view(t); v.Source.SHA256 != sha || v.Databases[0].ReadPolicy != string(topology.LeastConnections) {
				t.Errorf("/topology after a refused file: sha256 %s, read_policy %s; want the previous file's %s, least_connections",
					v.Source.SHA256, v.Databases[0].ReadPolicy, sha)
			}
			at = [2]int{answered.get(added[0].Port), answered.get(added[1].Port)}
			waitFor(t, 10*time.Second, "the added replicas still answering reads", func() bool {
				return answered.get(added[0].Port) >= at[0]+20 && answered.get(added[1].Port) >= at[1]+20
			})

			// A valid edit again: the first replicas leave the topology.
			sessions := [2]func() int{f.clientSessions(t, c, old[0]), f.clientSessions(t, c, old[1])}
			for i, count := range sessions {
				if n := count(); n == 0 {
					t.Fatalf("no proxy session seen on %s while it serves reads: the count proves nothing", old[i])
				}
			}
			last := next
			last.Databases = []topology.Database{shopDB(c, -1)}
			for i := range last.Databases[0].Shards {
				last.Databases[0].Shards[i].Replicas = last.Databases[0].Shards[i].Replicas[1:]
			}
			sha = writeConfig(t, f.cfgPath, last)
			waitFor(t, 10*time.Second, "/topology serving the file without the first replicas", func() bool {
				return f.view(t).Source.SHA256 == sha
			})
			removed := func() int { return answered.get(old[0].Port) + answered.get(old[1].Port) }
			progress := func(n int64) {
				want := l.ok.Load() + n
				waitFor(t, 10*time.Second, "the load going on", func() bool { return l.ok.Load() >= want })
			}
			progress(200) // statements routed before the swap have ended
			settled := removed()
			progress(500)
			if n := removed() - settled; n != 0 {
				t.Errorf("replicas removed from the topology answered %d reads after the reload", n)
			}
			// The proxy lets go of them: pools, probes, metric series.
			// 30 s: a loaded CI machine (race detector, packages in
			// parallel) can take a while to see closed sessions go.
			for i, count := range sessions {
				deadline := time.Now().Add(30 * time.Second)
				for count() != 0 && time.Now().Before(deadline) {
					time.Sleep(50 * time.Millisecond)
				}
				if n := count(); n != 0 {
					t.Fatalf("%d proxy connections left on removed %s 30 s after the reload:\n%s", n, old[i], sessionList(t, c, old[i]))
				}
			}
			m = f.metrics(t)
			for _, name := range []string{"shardgate_backend_up", "shardgate_replica_lag_known", "shardgate_pool_connections"} {
				for _, r := range old {
					if _, ok := m.value(name, "backend", r.Addr); ok {
						t.Errorf("/metrics still has %s for %s, removed from the topology", name, r.Addr)
					}
				}
			}
			l.stop(t, "mixed load")
			t.Logf("answers by port: %v", &answered)
		})
	}
}

// With -watch 0 the file is read again only on SIGHUP: a valid file is
// swapped in (reads reach the replica it adds), an invalid one is refused
// and counted.
func TestServeReloadOnSIGHUP(t *testing.T) {
	c := startCluster(t, localcluster.KindPostgres, 1, 1)
	seedUsers(t, c, 10)
	cfg := stackConfig(t, shopDB(c, 0)) // the replica is not listed
	f := serveStack(t, cfg, "-watch", "0")
	cfg = f.cfg
	// The stack's signal.Notify is the one that matters; this one only
	// guarantees SIGHUP never reaches the default action (exit) should
	// the stack have stopped listening.
	safety := make(chan os.Signal, 4)
	signal.Notify(safety, syscall.SIGHUP)
	defer signal.Stop(safety)
	hup := func() {
		if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
	}
	read := f.portReader(t, localcluster.KindPostgres, 1)
	primary, replica := c.Shards[0].Primary, c.Shards[0].Replicas[0]
	if port, name, err := read(0, 3); err != nil || name != "u3" || port != primary.Port {
		t.Fatalf("read with no replica listed: port %d %q %v; want the primary %d", port, name, err, primary.Port)
	}

	next := cfg
	next.Databases = []topology.Database{shopDB(c, -1)}
	sha := writeConfig(t, f.cfgPath, next)
	hup()
	waitFor(t, 5*time.Second, "SIGHUP reloading the edited file", func() bool {
		return f.view(t).Source.SHA256 == sha
	})
	waitFor(t, 5*time.Second, "reads reaching the replica the edit added", func() bool {
		port, name, err := read(0, 3)
		return err == nil && name == "u3" && port == replica.Port
	})

	before, _ := f.metrics(t).value("shardgate_topology_reloads_total", "result", "error")
	writeFile(t, f.cfgPath, []byte("listen: [\n"))
	hup()
	waitFor(t, 5*time.Second, "SIGHUP counting the invalid file as refused", func() bool {
		n, _ := f.metrics(t).value("shardgate_topology_reloads_total", "result", "error")
		return n == before+1
	})
	if v := f.view(t); v.Source.SHA256 != sha {
		t.Errorf("/topology after a refused SIGHUP reload: sha256 %s, want the previous %s", v.Source.SHA256, sha)
	}
	if port, name, err := read(0, 3); err != nil || name != "u3" || port != replica.Port {
		t.Errorf("read after a refused reload: port %d %q %v; want the replica %d", port, name, err, replica.Port)
	}
	if n, _ := f.metrics(t).value("shardgate_topology_reloads_total", "result", "ok"); n != 1 {
		t.Errorf(`shardgate_topology_reloads_total{result="ok"} = %v, want 1`, n)
	}
}

// The addresses /topology reports are the ones served. A reload that
// moves listen.postgres (which the running listeners cannot follow)
// must not leave /topology advertising a port nobody listens on: either
// the listener moves, or the reload keeps reporting the served address
// (and says the change needs a restart), or the file is refused.
func TestServeReloadOfListenAddress(t *testing.T) {
	c := startCluster(t, localcluster.KindPostgres, 1, 0)
	seedUsers(t, c, 3)
	cfg := stackConfig(t, shopDB(c, -1))
	f := serveStack(t, cfg)
	cfg = f.cfg
	m := f.metrics(t)
	attempts := func(m metricFamilies) float64 { n, _ := m.value("shardgate_topology_reloads_total"); return n }
	before := attempts(m)

	moved := cfg
	moved.Listen.Postgres = freeAddr(t)
	writeConfig(t, f.cfgPath, moved)
	waitFor(t, 10*time.Second, "the edited file reloaded or refused", func() bool { return attempts(f.metrics(t)) > before })

	v := f.view(t)
	t.Logf("listen.postgres: was %s, file now says %s, /topology says %s", cfg.Listen.Postgres, moved.Listen.Postgres, v.Listen.Postgres)
	served := *f
	served.pgAddr = v.Listen.Postgres
	conn, err := pgx.Connect(t.Context(), served.pgDSN())
	if err != nil {
		t.Fatalf("/topology advertises listen.postgres %s, which does not serve: %v", v.Listen.Postgres, err)
	}
	defer conn.Close(t.Context())
	var name string
	if err := conn.QueryRow(t.Context(), "SELECT name FROM users WHERE id = 2").Scan(&name); err != nil || name != "u2" {
		t.Errorf("read through the advertised address: %q, %v", name, err)
	}
}

// Reverting a refused edit clears the failure: once the file on disk is
// again the topology in force, shardgate_topology_last_reload_successful
// ("0 if the file on disk was refused") is 1 again, so an alert on it
// resolves without a further edit or a restart.
func TestServeRevertedEditClearsReloadFailure(t *testing.T) {
	c := startCluster(t, localcluster.KindPostgres, 1, 0)
	f := serveStack(t, stackConfig(t, shopDB(c, -1)))
	good, err := os.ReadFile(f.cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	lastOK := func() float64 { v, _ := f.metrics(t).value("shardgate_topology_last_reload_successful"); return v }
	writeFile(t, f.cfgPath, append(append([]byte(nil), good...), "no_such_field: 1\n"...))
	waitFor(t, 10*time.Second, "the invalid edit refused", func() bool { return lastOK() == 0 })
	writeFile(t, f.cfgPath, good)
	waitFor(t, 10*time.Second, "shardgate_topology_last_reload_successful back to 1 after the revert", func() bool { return lastOK() == 1 })
	if v := f.view(t); v.Source.SHA256 != f.sha256 {
		t.Errorf("/topology sha256 %s, want the reverted file's %s", v.Source.SHA256, f.sha256)
	}
}
