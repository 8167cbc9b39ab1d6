package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shardgate/shardgate/topology/localcluster"
)

// /readyz is 200 while every shard has its primary, turns 503 naming the
// shard within a few health intervals of a primary stopping (while the
// other shard keeps serving), and 200 again once it is back.
func TestServeReadyzFollowsPrimaries(t *testing.T) {
	for _, kind := range []localcluster.Kind{localcluster.KindPostgres, localcluster.KindMySQL} {
		t.Run(string(kind), func(t *testing.T) {
			c := startCluster(t, kind, 2, 0)
			seedUsers(t, c, 20)
			f := serveStack(t, stackConfig(t, shopDB(c, -1)))
			if code, body := f.get(t, "/readyz"); code != http.StatusOK {
				t.Fatalf("/readyz with every primary up: %d %s", code, body)
			}
			// read names user k through one client session.
			var read func(k int64) (string, error)
			if kind == localcluster.KindPostgres {
				conn := f.pgConnect(t)
				read = func(k int64) (name string, err error) {
					err = conn.QueryRow(t.Context(), "SELECT name FROM users WHERE id = $1", k).Scan(&name)
					return name, err
				}
			} else {
				db := f.myOpen(t)
				read = func(k int64) (name string, err error) {
					err = db.QueryRowContext(t.Context(), "SELECT name FROM users WHERE id = ?", k).Scan(&name)
					return name, err
				}
			}

			down := c.Shards[1].Primary
			if err := down.Stop(t.Context()); err != nil {
				t.Fatal(err)
			}
			stopped := time.Now()
			var body string
			// interval 200ms, 2 failures to ban, probe timeout 500ms: a
			// refused dial is banned in ~0.4s; 3s is 15 intervals.
			waitFor(t, 3*time.Second, "/readyz 503 after a primary stopped", func() bool {
				var code int
				code, body = f.get(t, "/readyz")
				return code == http.StatusServiceUnavailable
			})
			t.Logf("/readyz turned 503 %v after the stop: %s", time.Since(stopped).Round(time.Millisecond), strings.TrimSpace(body))
			shard := fmt.Sprintf("shard %s primary %s", f.cfg.Databases[0].Shards[1].KeyRange, down.Addr)
			if !strings.Contains(body, shard) || strings.Contains(body, c.Shards[0].Primary.Addr) {
				t.Errorf("/readyz body %q does not name exactly the down shard (%q)", body, shard)
			}
			if h := f.health(t, down.Addr); h == nil || h.Up || h.LastError == "" {
				t.Errorf("/topology of the stopped primary: %+v; want down with its error", h)
			}
			live := keysOn(0, 2, 1, 1)[0]
			if name, err := read(live); err != nil || name != fmt.Sprintf("u%d", live) {
				t.Errorf("read on the live shard during the outage: %q, %v", name, err)
			}

			if err := down.Start(t.Context()); err != nil {
				t.Fatal(err)
			}
			started := time.Now()
			waitFor(t, 10*time.Second, "/readyz 200 after the primary restarted", func() bool {
				code, _ := f.get(t, "/readyz")
				return code == http.StatusOK
			})
			t.Logf("/readyz turned 200 %v after the restart", time.Since(started).Round(time.Millisecond))
			if h := f.health(t, down.Addr); h == nil || !h.Up {
				t.Errorf("/topology of the restarted primary: %+v; want up", h)
			}
			back := keysOn(1, 2, 1, 1)[0]
			waitFor(t, 10*time.Second, "a read on the restarted shard", func() bool {
				name, err := read(back)
				return err == nil && name == fmt.Sprintf("u%d", back)
			})
		})
	}
}
