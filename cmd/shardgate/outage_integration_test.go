package main

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shardgate/shardgate/topology/localcluster"
)

// A replica that stops under read load costs no read: the proxy retries
// elsewhere and bans it, reads of its shard go to the primary, /topology
// shows it down; once it is back, /topology shows it up and it gets reads
// again. Eight clients read by key, outside transactions, for ~15s.
func TestServeReplicaOutageUnderReadLoad(t *testing.T) {
	for _, kind := range []localcluster.Kind{localcluster.KindPostgres, localcluster.KindMySQL} {
		t.Run(string(kind), func(t *testing.T) {
			const users, workers = 200, 8
			c := startCluster(t, kind, 2, 1)
			seedUsers(t, c, users)
			f := serveStack(t, stackConfig(t, shopDB(c, -1)))
			read := f.portReader(t, kind, workers)
			var answered ports
			l := startLoad(workers, 45*time.Second, func(w, i int) error {
				k := int64((w*7919+i*31)%users + 1)
				port, name, err := read(w, k)
				if err != nil {
					return err
				}
				if want := fmt.Sprintf("u%d", k); name != want {
					return fmt.Errorf("user %d: read %q, want %q", k, name, want)
				}
				answered.add(port)
				return nil
			})
			defer l.stop(t, "read load")

			replica, primary := c.Shards[0].Replicas[0], c.Shards[0].Primary
			other := c.Shards[1].Replicas[0]
			waitFor(t, 10*time.Second, "both replicas answering reads", func() bool {
				return answered.get(replica.Port) >= 20 && answered.get(other.Port) >= 20
			})
			if n := answered.get(primary.Port); n != 0 {
				t.Errorf("the primary answered %d reads while its replica was up", n)
			}

			if err := replica.Stop(t.Context()); err != nil {
				t.Fatal(err)
			}
			stopped := time.Now()
			waitFor(t, 5*time.Second, "/topology showing the stopped replica down", func() bool {
				h := f.health(t, replica.Addr)
				return h != nil && !h.Up
			})
			t.Logf("replica down in /topology %v after the stop", time.Since(stopped).Round(time.Millisecond))
			if up, ok := f.metrics(t).value("shardgate_backend_up", "backend", replica.Addr, "role", "replica"); !ok || up != 0 {
				t.Errorf("shardgate_backend_up of the stopped replica: %v (present %v), want 0", up, ok)
			}
			if code, body := f.get(t, "/readyz"); code != 200 {
				t.Errorf("/readyz with only a replica down: %d %s; want 200 (every primary is up)", code, body)
			}
			atPrimary := answered.get(primary.Port)
			waitFor(t, 10*time.Second, "reads of the shard falling back to its primary", func() bool {
				return answered.get(primary.Port) >= atPrimary+100 && time.Since(stopped) > 3*time.Second
			})

			if err := replica.Start(t.Context()); err != nil {
				t.Fatal(err)
			}
			if err := c.WaitReplicated(t.Context()); err != nil {
				t.Fatal(err)
			}
			restarted := time.Now()
			waitFor(t, 15*time.Second, "/topology showing the restarted replica up", func() bool {
				h := f.health(t, replica.Addr)
				return h != nil && h.Up
			})
			if up, ok := f.metrics(t).value("shardgate_backend_up", "backend", replica.Addr, "role", "replica"); !ok || up != 1 {
				t.Errorf("shardgate_backend_up of the restarted replica: %v (present %v), want 1", up, ok)
			}
			atReplica := answered.get(replica.Port)
			waitFor(t, 10*time.Second, "the restarted replica answering reads again", func() bool {
				return answered.get(replica.Port) >= atReplica+20
			})
			t.Logf("replica answering again %v after the restart", time.Since(restarted).Round(time.Millisecond))
			waitFor(t, 30*time.Second, "15s of load", func() bool { return time.Since(l.began) > 15*time.Second })
			l.stop(t, "read load")
			t.Logf("answers by port: %v (replica %d, primary %d, other shard's replica %d)",
				&answered, replica.Port, primary.Port, other.Port)
		})
	}
}

// A replica that stops while it is sending a result costs no read either,
// as long as none of that result has reached the client: the proxy holds
// a result until its write buffer fills (PostgreSQL 64 KiB, MySQL 16
// KiB), so it can drop what it holds and run the read again elsewhere.
// Eight clients read a shard's rows (2,000 with PostgreSQL, 500 with
// MySQL: under those sizes) at a time; the replica stops twice.
func TestServeReplicaStopsMidResult(t *testing.T) {
	for _, kind := range []localcluster.Kind{localcluster.KindPostgres, localcluster.KindMySQL} {
		t.Run(string(kind), func(t *testing.T) {
			const workers = 8
			users := map[localcluster.Kind]int{localcluster.KindPostgres: 2000, localcluster.KindMySQL: 500}[kind]
			c := startCluster(t, kind, 1, 1)
			seedUsers(t, c, users)
			f := serveStack(t, stackConfig(t, shopDB(c, -1)))
			ids := make([]string, users)
			for i := range ids {
				ids[i] = strconv.Itoa(i + 1)
			}
			portFn := map[localcluster.Kind]string{localcluster.KindPostgres: "inet_server_port()", localcluster.KindMySQL: "@@port"}[kind]
			q := "SELECT " + portFn + ", name FROM users WHERE id IN (" + strings.Join(ids, ", ") + ")"
			read := f.rowsReader(t, kind, workers, q)
			var answered ports
			l := startLoad(workers, time.Minute, func(w, _ int) error {
				port, n, err := read(w)
				if err == nil && n != users {
					err = fmt.Errorf("%d rows, want %d", n, users)
				}
				if err == nil {
					answered.add(port)
				}
				return err
			})
			defer l.stop(t, "result reads")
			replica, primary := c.Shards[0].Replicas[0], c.Shards[0].Primary
			for range 2 {
				at := answered.get(replica.Port)
				waitFor(t, 15*time.Second, "the replica answering", func() bool { return answered.get(replica.Port) >= at+20 })
				if err := replica.Stop(t.Context()); err != nil {
					t.Fatal(err)
				}
				at = answered.get(primary.Port)
				waitFor(t, 10*time.Second, "the primary answering", func() bool { return answered.get(primary.Port) >= at+20 })
				if err := replica.Start(t.Context()); err != nil {
					t.Fatal(err)
				}
			}
			l.stop(t, "result reads")
			t.Logf("answers by port: %v (replica %d, primary %d)", &answered, replica.Port, primary.Port)
		})
	}
}
