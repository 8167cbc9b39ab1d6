package myserver

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/shardgate/shardgate/topology"
)

// TestBackendDown: a shard primary stops. Statements for it fail with the
// proxy's 1105 naming the server, the other shard keeps serving, and once
// the server is back statements for it work again without a stream of
// errors from connections that died with the old server.
func TestBackendDown(t *testing.T) {
	f := startFixture(t, 0)
	db := f.open(t, map[string]string{"interpolateParams": "true"})
	db.SetMaxOpenConns(10)
	keys := f.keysOnEachShard()
	for _, k := range keys {
		mustExec(t, db, "INSERT INTO users (id, name, score) VALUES (?, 'u', 0)", k)
	}
	live, dead := keys[0], keys[1]
	node := f.cluster.Shards[1].Primary
	addr := node.Addr
	const (
		read  = "SELECT name FROM users WHERE id = ?"
		write = "UPDATE users SET score = score + 1 WHERE id = ?"
		count = "SELECT COUNT(*) FROM users WHERE id >= ?"
	)
	liveScore, deadScore := int64(0), int64(0)
	for round, during := range [][]string{
		{write, write},                    // writes only: nothing retried
		{read, write, read, write, count}, // reads first: retried elsewhere
	} {
		// Several pooled connections to the server that will stop.
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				if _, err := db.Exec("UPDATE users SET score = score + 0 * SLEEP(0.2) WHERE id = ?", dead); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if err := node.Stop(t.Context()); err != nil {
			t.Fatal(err)
		}
		for i, q := range during {
			_, err := db.Exec(q, dead)
			t.Logf("round %d: %d: %s while down: %v", round, i, q, err)
			var me *mysql.MySQLError
			switch {
			case err == nil:
				t.Errorf("round %d: %s for the stopped shard succeeded", round, q)
			case !errors.As(err, &me) || me.Number != erUnknown || !strings.Contains(me.Message, addr):
				t.Errorf("round %d: %s for the stopped shard: %v; want error %d naming %s", round, q, err, erUnknown, addr)
			}
			// The other shard is unaffected.
			if _, err := db.Exec(write, live); err != nil {
				t.Errorf("round %d: write to the live shard: %v", round, err)
			}
			liveScore++
			if n := queryInt(t, db, "SELECT score FROM users WHERE id = ?", live); n != liveScore {
				t.Errorf("round %d: live shard score %d, want %d", round, n, liveScore)
			}
		}

		if err := node.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		// The server accepts connections again (Start waited for that).
		// Writes through the proxy work now; at most one may still meet a
		// connection of the old server.
		var failures []string
		deadline := time.Now().Add(30 * time.Second)
		for ok := 0; ok < 10; {
			_, err := db.Exec(write, dead)
			if err == nil {
				ok++
				deadScore++
				continue
			}
			failures = append(failures, err.Error())
			if time.Now().After(deadline) {
				t.Fatalf("round %d: writes to the restarted shard still fail: %v", round, failures)
			}
			time.Sleep(50 * time.Millisecond) // polling
		}
		t.Logf("round %d: after the restart: %d failed writes %q", round, len(failures), failures)
		if len(failures) > 1 {
			t.Errorf("round %d: %d writes failed after the server was back (connections of the old server handed out one by one): %q", round, len(failures), failures)
		}
		if n := queryInt(t, f.shardDB(t, 1), "SELECT score FROM users WHERE id = ?", dead); n != deadScore {
			t.Errorf("round %d: score %d on the restarted shard, want %d (the successful writes)", round, n, deadScore)
		}
	}
}

// TestLargeResultStreams: a ~200 MB single-shard result goes through the
// proxy with the proxy's heap growing by a few MB, not by the result:
// rows are relayed as they come, and the client reads them one by one.
func TestLargeResultStreams(t *testing.T) {
	// seq_1_to_100 is a table of the sequence engine on every shard:
	// listed as sharded by seq, a query without the key reads it on both.
	f := startFixture(t, 0, func(c *topology.Config) {
		c.Databases[0].Tables["seq_1_to_100"] = topology.TableRule{Key: "seq", Type: "int"}
	})
	db := f.open(t, map[string]string{"interpolateParams": "false"})
	// max_allowed_packet is 16 MB by default: 1 MB rows fit.
	const rows, width = 200, 1 << 20
	for _, c := range []struct {
		q   string
		seq func(n int) int // the seq of the n-th row (from 1)
	}{
		{fmt.Sprintf("SELECT seq, REPEAT('x', %d) FROM seq_1_to_%d", width, rows), func(n int) int { return n }}, // unlisted: one shard
		{fmt.Sprintf("SELECT seq, REPEAT('x', %d) FROM seq_1_to_%d /* shard=80- */", width, rows), func(n int) int { return n }},
		{fmt.Sprintf("SELECT seq, REPEAT('x', %d) FROM seq_1_to_100", width), func(n int) int { return (n-1)%100 + 1 }},                 // scatter, concatenated
		{fmt.Sprintf("SELECT seq, REPEAT('x', %d) AS v FROM seq_1_to_100 ORDER BY seq", width), func(n int) int { return (n + 1) / 2 }}, // scatter, merged
	} {
		q := c.q
		for _, binary := range []bool{false, true} {
			t.Run(fmt.Sprintf("binary=%v/%s", binary, q[strings.Index(q, "FROM"):]), func(t *testing.T) {
				runtime.GC()
				var before runtime.MemStats
				runtime.ReadMemStats(&before)
				var peak uint64
				args := []any{}
				query := q
				if binary {
					query = strings.Replace(q, "REPEAT('x', ", "REPEAT(?, ", 1)
					args = append(args, "x")
				}
				var r interface {
					Next() bool
					Scan(...any) error
					Err() error
					Close() error
				}
				var err error
				if binary {
					st, perr := db.Prepare(query)
					if perr != nil {
						t.Fatal(perr)
					}
					defer st.Close()
					r, err = st.Query(args...)
				} else {
					r, err = db.Query(query)
				}
				if err != nil {
					t.Fatal(err)
				}
				defer r.Close()
				n, total := 0, 0
				var seq int
				var v []byte
				for r.Next() {
					if err := r.Scan(&seq, &v); err != nil {
						t.Fatal(err)
					}
					n++
					total += len(v)
					if seq != c.seq(n) || len(v) != width || v[0] != 'x' || v[width-1] != 'x' {
						t.Fatalf("row %d: seq %d, %d bytes", n, seq, len(v))
					}
					if n%10 == 0 { // live heap: what is held, not garbage
						runtime.GC()
						var m runtime.MemStats
						runtime.ReadMemStats(&m)
						peak = max(peak, m.HeapInuse)
					}
				}
				if err := r.Err(); err != nil {
					t.Fatal(err)
				}
				if n != rows || total != rows*width {
					t.Fatalf("%d rows, %d bytes; want %d rows of %d", n, total, rows, width)
				}
				// The client's own buffers count too: go-sql-driver holds
				// a row or two, the proxy a few per shard (~25 MB live for 1 MB
				// rows, whatever the row count). 48 MB is far below 200 MB.
				growth := int64(peak) - int64(before.HeapInuse)
				t.Logf("heap in use after GC: before %d MB, peak %d MB during the read", before.HeapInuse>>20, peak>>20)
				if growth > 48<<20 {
					t.Errorf("heap grew by %d MB while streaming %d MB: the result is buffered", growth>>20, total>>20)
				}
			})
		}
	}
}
