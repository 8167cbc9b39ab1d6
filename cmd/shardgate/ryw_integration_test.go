package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shardgate/shardgate/topology"
	"github.com/shardgate/shardgate/topology/localcluster"
)

// With read_your_writes 2s, a session that inserts and at once reads the
// row back by key always sees it, although the replicas apply changes
// late; the same loop through a proxy without it misses. Once the window
// has passed, the session reads from replicas again.
func TestServeReadYourWrites(t *testing.T) {
	for _, kind := range []localcluster.Kind{localcluster.KindPostgres, localcluster.KindMySQL} {
		t.Run(string(kind), func(t *testing.T) {
			const iterations = 1000
			c := startCluster(t, kind, 2, 1)
			delayReplicas(t, c)
			on := shopDB(c, -1)
			on.ReadYourWrites = topology.Duration(2 * time.Second)
			withRYW := serveStack(t, stackConfig(t, on))
			without := serveStack(t, stackConfig(t, shopDB(c, -1)))

			s := withRYW.session(t, kind)
			if n := s.misses(t, 1, iterations); n != 0 {
				t.Errorf("read_your_writes 2s: %d of %d reads missed the session's own write", n, iterations)
			}
			// The window ends: the same session reads from a replica again.
			last := int64(iterations)
			replica := c.Shards[shardOf(last, 2)].Replicas[0]
			waitFor(t, 10*time.Second, "the session reading from a replica after its window", func() bool {
				port, err := s.port(t, last)
				return err == nil && port == replica.Port
			})

			n := without.session(t, kind).misses(t, 100_000, iterations)
			t.Logf("read_your_writes off: %d of %d reads missed", n, iterations)
			if n == 0 {
				t.Error("read_your_writes off: every read saw its write, so the replicas do not lag and the test proves nothing")
			}
		})
	}
}

// delayReplicas makes every replica apply changes late: PostgreSQL by
// 300ms (recovery_min_apply_delay), MariaDB by 1s (MASTER_DELAY).
func delayReplicas(t *testing.T, c *localcluster.Cluster) {
	t.Helper()
	ctx := t.Context()
	for _, sh := range c.Shards {
		for _, r := range sh.Replicas {
			if c.Kind == localcluster.KindPostgres {
				conn := pgAdmin(t, c, r)
				for _, q := range []string{"ALTER SYSTEM SET recovery_min_apply_delay = '300ms'", "SELECT pg_reload_conf()"} {
					if _, err := conn.Exec(ctx, q); err != nil {
						t.Fatalf("%s on %s: %v", q, r, err)
					}
				}
				waitFor(t, 10*time.Second, "recovery_min_apply_delay in force on "+r.String(), func() bool {
					var v string
					err := conn.QueryRow(ctx, "SELECT current_setting('recovery_min_apply_delay')").Scan(&v)
					return err == nil && v == "300ms"
				})
				continue
			}
			db := myAdmin(t, c, r)
			for _, q := range []string{"STOP SLAVE", "CHANGE MASTER TO MASTER_DELAY = 1", "START SLAVE"} {
				if _, err := db.ExecContext(ctx, q); err != nil {
					t.Fatalf("%s on %s: %v", q, r, err)
				}
			}
		}
	}
}

// rywSession is one client session through the proxy.
type rywSession struct {
	insert func(ctx context.Context, key int64) error
	name   func(ctx context.Context, key int64) (string, error) // sql.ErrNoRows/pgx.ErrNoRows when absent
	server func(ctx context.Context, key int64) (int, error)    // the port of the server a read ran on
}

func (f *stackFixture) session(t *testing.T, kind localcluster.Kind) *rywSession {
	t.Helper()
	if kind == localcluster.KindPostgres {
		conn := f.pgConnect(t)
		return &rywSession{
			insert: func(ctx context.Context, key int64) error {
				_, err := conn.Exec(ctx, "INSERT INTO users (id, name) VALUES ($1, $2)", key, fmt.Sprintf("u%d", key))
				return err
			},
			name: func(ctx context.Context, key int64) (name string, err error) {
				err = conn.QueryRow(ctx, "SELECT name FROM users WHERE id = $1", key).Scan(&name)
				return name, err
			},
			server: func(ctx context.Context, key int64) (port int, err error) {
				err = conn.QueryRow(ctx, "SELECT inet_server_port() FROM users WHERE id = $1", key).Scan(&port)
				return port, err
			},
		}
	}
	conn, err := f.myOpen(t).Conn(t.Context()) // one session: the window is per session
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &rywSession{
		insert: func(ctx context.Context, key int64) error {
			_, err := conn.ExecContext(ctx, "INSERT INTO users (id, name) VALUES (?, ?)", key, fmt.Sprintf("u%d", key))
			return err
		},
		name: func(ctx context.Context, key int64) (name string, err error) {
			err = conn.QueryRowContext(ctx, "SELECT name FROM users WHERE id = ?", key).Scan(&name)
			return name, err
		},
		server: func(ctx context.Context, key int64) (port int, err error) {
			err = conn.QueryRowContext(ctx, "SELECT @@port FROM users WHERE id = ?", key).Scan(&port)
			return port, err
		},
	}
}

// misses inserts users base..base+n-1, reading each back at once, and
// counts the reads that did not find the row.
func (s *rywSession) misses(t *testing.T, base int64, n int) int {
	t.Helper()
	ctx := t.Context()
	missed := 0
	for i := range int64(n) {
		key := base + i
		if err := s.insert(ctx, key); err != nil {
			t.Fatalf("insert %d: %v", key, err)
		}
		name, err := s.name(ctx, key)
		switch {
		case errors.Is(err, pgx.ErrNoRows) || errors.Is(err, sql.ErrNoRows):
			missed++
		case err != nil:
			t.Fatalf("read %d: %v", key, err)
		case name != fmt.Sprintf("u%d", key):
			t.Fatalf("read %q for user %d", name, key)
		}
	}
	return missed
}

func (s *rywSession) port(t *testing.T, key int64) (int, error) {
	return s.server(t.Context(), key)
}
