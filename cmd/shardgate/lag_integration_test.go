package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/shardgate/shardgate/topology"
	"github.com/shardgate/shardgate/topology/localcluster"
)

// With max_replica_lag 1s, a replica whose replay is paused while its
// primary keeps taking writes stops getting reads (they go to the
// primary), /topology and /metrics show its lag over the limit (or
// unknown), and once replay resumes it gets reads again.
func TestServeLaggingReplicaGetsNoReads(t *testing.T) {
	pause := map[localcluster.Kind][2]string{
		localcluster.KindPostgres: {"SELECT pg_wal_replay_pause()", "SELECT pg_wal_replay_resume()"},
		localcluster.KindMySQL:    {"STOP SLAVE SQL_THREAD", "START SLAVE SQL_THREAD"},
	}
	for _, kind := range []localcluster.Kind{localcluster.KindPostgres, localcluster.KindMySQL} {
		t.Run(string(kind), func(t *testing.T) {
			const users = 100
			c := startCluster(t, kind, 2, 1)
			seedUsers(t, c, users)
			db := shopDB(c, -1)
			db.MaxReplicaLag = topology.Duration(time.Second)
			f := serveStack(t, stackConfig(t, db))
			replica, primary := c.Shards[0].Replicas[0], c.Shards[0].Primary
			keys := keysOn(0, 2, 20, 1)

			// Writes keep coming to both shards, through the proxy.
			write := f.writer(t, kind)
			writes := startLoad(1, time.Minute, func(_, i int) error { return write(int64(1_000_000 + i)) })
			defer writes.stop(t, "writes")

			read := f.portReader(t, kind, 1)
			// batch reads the shard's keys n times and counts where they ran.
			batch := func(n int) (onReplica, onPrimary int) {
				for i := range n {
					k := keys[i%len(keys)]
					port, name, err := read(0, k)
					if err != nil || name != fmt.Sprintf("u%d", k) {
						t.Fatalf("read of user %d: %q, %v", k, name, err)
					}
					switch port {
					case replica.Port:
						onReplica++
					case primary.Port:
						onPrimary++
					default:
						t.Fatalf("user %d read on port %d, neither its replica %d nor its primary %d", k, port, replica.Port, primary.Port)
					}
				}
				return onReplica, onPrimary
			}
			if r, p := batch(50); r != 50 {
				t.Fatalf("before the pause: %d reads on the replica, %d on the primary; want all on the replica", r, p)
			}

			admin := f.adminExec(t, c, replica)
			admin(pause[kind][0])
			paused := time.Now()
			waitFor(t, 10*time.Second, "/topology showing the paused replica's lag over 1s", func() bool {
				h := f.health(t, replica.Addr)
				return h != nil && h.Up && (!h.LagKnown || h.LagSeconds > 1)
			})
			h := f.health(t, replica.Addr)
			t.Logf("%v after the pause /topology says lag %.2fs known=%v", time.Since(paused).Round(time.Millisecond), h.LagSeconds, h.LagKnown)
			waitFor(t, 10*time.Second, "/metrics showing the lag", func() bool {
				m := f.metrics(t)
				known, ok := m.value("shardgate_replica_lag_known", "backend", replica.Addr)
				lag, hasLag := m.value("shardgate_replica_lag_seconds", "backend", replica.Addr)
				return ok && (known == 0 && !hasLag || known == 1 && lag > 1)
			})
			waitFor(t, 5*time.Second, "reads moving off the lagging replica", func() bool {
				r, _ := batch(20)
				return r == 0
			})
			if r, p := batch(200); r != 0 || p != 200 {
				t.Errorf("with the replica lagging: %d reads on it, %d on the primary; want all 200 on the primary", r, p)
			}

			admin(pause[kind][1])
			resumed := time.Now()
			waitFor(t, 15*time.Second, "the caught-up replica getting reads again", func() bool {
				r, _ := batch(20)
				return r > 0
			})
			t.Logf("replica read from again %v after resuming", time.Since(resumed).Round(time.Millisecond))
			if h := f.health(t, replica.Addr); h == nil || !h.LagKnown || h.LagSeconds > 1 {
				t.Errorf("/topology after resuming: %+v; want a known lag under 1s", h)
			}
			writes.stop(t, "writes")
			if writes.ok.Load() < 20 {
				t.Errorf("only %d writes during the test: the replica may never have fallen behind", writes.ok.Load())
			}
		})
	}
}
