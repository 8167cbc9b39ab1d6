package pgserver

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/shardgate/shardgate/proxy/metrics"
	"github.com/shardgate/shardgate/proxy/twophase"
	"github.com/shardgate/shardgate/topology"
)

// idsOn returns n user ids that hash to each shard: ids[shard][i].
func (f *fixture) idsOn(n int) [2][]int64 {
	var ids [2][]int64
	for id := int64(1); len(ids[0]) < n || len(ids[1]) < n; id++ {
		if sh := f.shardOf(id); len(ids[sh]) < n {
			ids[sh] = append(ids[sh], id)
		}
	}
	return ids
}

// userIDs lists the users a shard holds, read directly.
func (f *fixture) userIDs(t *testing.T, shard int) []int64 {
	t.Helper()
	rows, err := f.direct(t, shard).Query(t.Context(), "SELECT id FROM users ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func (f *fixture) preparedLeft(t *testing.T) int {
	t.Helper()
	n := 0
	for shard := range 2 {
		var k int
		if err := f.direct(t, shard).QueryRow(t.Context(), "SELECT count(*) FROM pg_prepared_xacts").Scan(&k); err != nil {
			t.Fatal(err)
		}
		n += k
	}
	return n
}

// Transactions over both shards, in both modes that allow them: commit,
// rollback, savepoints replayed on a shard that joins late, a scatter
// write inside the transaction; and a COMMIT a shard refuses (a deferred
// unique constraint), which two_phase rolls back everywhere and
// multi_shard reports as partly committed.
func TestMultiShardTransactions(t *testing.T) {
	base := startFixture(t)
	ctx := t.Context()
	for sh := range 2 {
		if _, err := base.direct(t, sh).Exec(ctx, "CREATE TABLE notes (id bigint, note text UNIQUE DEFERRABLE INITIALLY DEFERRED)"); err != nil {
			t.Fatal(err)
		}
	}
	ids := base.idsOn(6)
	a, b := ids[0], ids[1]

	// single_shard (the default) refuses the second shard.
	conn := base.connect(t)
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tx.Exec(ctx, "INSERT INTO users (id, name) VALUES ($1, 'a')", a[0])
	_, err = tx.Exec(ctx, "INSERT INTO users (id, name) VALUES ($1, 'b')", b[0])
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "0A000" {
		t.Fatalf("single_shard, second shard: %v, want 0A000", err)
	}
	tx.Rollback(ctx)

	for _, mode := range []topology.TxMode{topology.MultiShard, topology.TwoPhase} {
		t.Run(string(mode), func(t *testing.T) {
			reg := prometheus.NewRegistry()
			f := serveProxy(t, base.cluster, Options{Metrics: metrics.New(reg)}, func(c *topology.Config) {
				c.Databases[0].Transactions = string(mode)
				c.Databases[0].Tables["notes"] = topology.TableRule{Key: "id", Type: "int"}
			})
			conn := f.connect(t)
			exec := func(sql string, args ...any) {
				t.Helper()
				if _, err := conn.Exec(ctx, sql, args...); err != nil {
					t.Fatalf("%s: %v", sql, err)
				}
			}
			exec("DELETE FROM users")
			exec("DELETE FROM notes")

			// Commit over both shards, with a scatter UPDATE inside.
			exec("BEGIN")
			exec("INSERT INTO users (id, name) VALUES ($1, 'a')", a[0])
			exec("INSERT INTO users (id, name) VALUES ($1, 'b')", b[0])
			exec("UPDATE users SET country = 'nl'")
			var seen int
			if err := conn.QueryRow(ctx, "SELECT count(*) FROM users WHERE country = 'nl'").Scan(&seen); err != nil || seen != 2 {
				t.Fatalf("the transaction sees %d of its rows (%v), want 2", seen, err)
			}
			exec("COMMIT")
			if got := [][]int64{f.userIDs(t, 0), f.userIDs(t, 1)}; !slices.Equal(got[0], a[:1]) || !slices.Equal(got[1], b[:1]) {
				t.Fatalf("after COMMIT the shards hold %v, want [%d] and [%d]", got, a[0], b[0])
			}

			// Rollback over both shards.
			exec("BEGIN")
			exec("INSERT INTO users (id, name) VALUES ($1, 'a')", a[1])
			exec("INSERT INTO users (id, name) VALUES ($1, 'b')", b[1])
			exec("ROLLBACK")
			if got := [][]int64{f.userIDs(t, 0), f.userIDs(t, 1)}; len(got[0]) != 1 || len(got[1]) != 1 {
				t.Fatalf("after ROLLBACK the shards hold %v", got)
			}

			// A savepoint taken before shard 1 joined is replayed there.
			exec("BEGIN")
			exec("INSERT INTO users (id, name) VALUES ($1, 'a')", a[2])
			exec("SAVEPOINT s1")
			exec("INSERT INTO users (id, name) VALUES ($1, 'b')", b[2])
			exec("ROLLBACK TO SAVEPOINT s1")
			exec("INSERT INTO users (id, name) VALUES ($1, 'b')", b[3])
			exec("COMMIT")
			if got := [][]int64{f.userIDs(t, 0), f.userIDs(t, 1)}; !slices.Equal(got[0], []int64{a[0], a[2]}) || !slices.Equal(got[1], sorted(b[0], b[3])) {
				t.Fatalf("after the savepoint transaction the shards hold %v, want [%d %d] and [%d %d]", got, a[0], a[2], b[0], b[3])
			}

			// A shard refuses the COMMIT: the duplicate note is found only
			// then, on shard 1, which joined second.
			exec("BEGIN")
			exec("INSERT INTO notes VALUES ($1, 'x')", a[4])
			exec("INSERT INTO notes VALUES ($1, 'y')", b[4])
			exec("INSERT INTO notes VALUES ($1, 'y')", b[5])
			_, err := conn.Exec(ctx, "COMMIT")
			var notes [2]int
			for sh := range 2 {
				f.direct(t, sh).QueryRow(ctx, "SELECT count(*) FROM notes").Scan(&notes[sh])
			}
			switch mode {
			case topology.TwoPhase:
				if !errors.As(err, &pe) || pe.Code != "23505" {
					t.Fatalf("COMMIT with a duplicate: %v, want the server's 23505", err)
				}
				if notes != [2]int{0, 0} {
					t.Fatalf("two_phase COMMIT failed but the shards hold %v notes, want none", notes)
				}
			case topology.MultiShard:
				if !errors.As(err, &pe) || pe.Code != "XX000" {
					t.Fatalf("COMMIT with a duplicate: %v, want XX000 partly committed", err)
				}
				if notes != [2]int{1, 0} {
					t.Fatalf("multi_shard COMMIT failed at the second shard; the shards hold %v notes, want [1 0]", notes)
				}
			}
			if n := f.preparedLeft(t); n != 0 {
				t.Fatalf("%d prepared transactions left behind", n)
			}
			// The session goes on, outside any transaction.
			exec("INSERT INTO users (id, name) VALUES ($1, 'a')", a[5])

			failed := map[topology.TxMode]string{topology.TwoPhase: "rolled_back", topology.MultiShard: "partial"}[mode]
			for outcome, want := range map[string]float64{"committed": 2, failed: 1} {
				if got := counterWith(t, reg, "shardgate_multi_shard_commits_total", "outcome", outcome); got != want {
					t.Errorf("shardgate_multi_shard_commits_total{outcome=%q} = %v, want %v", outcome, got, want)
				}
			}
		})
	}
}

// counterWith sums a counter's series whose label has the value.
func counterWith(t *testing.T, reg *prometheus.Registry, name, label, value string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					sum += m.GetCounter().GetValue()
				}
			}
		}
	}
	return sum
}

func sorted(v ...int64) []int64 {
	slices.Sort(v)
	return v
}

// The resolver finishes what a proxy that died mid-commit left prepared:
// a transaction whose participant 0 is still prepared is rolled back
// everywhere; one whose participant 0 is gone (it committed) is committed.
func TestResolvePrepared(t *testing.T) {
	reg := prometheus.NewRegistry()
	f := startFixtureWith(t, Options{Metrics: metrics.New(reg)}, func(c *topology.Config) { c.Databases[0].Transactions = string(topology.TwoPhase) })
	ctx := t.Context()
	ids := f.idsOn(3)
	prepare := func(shard int, id int64, gid string) {
		t.Helper()
		sql := fmt.Sprintf("BEGIN; INSERT INTO users (id, name) VALUES (%d, 'x'); PREPARE TRANSACTION '%s'", id, gid)
		if _, err := f.direct(t, shard).Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	ours := twophase.DBPrefix("shop")
	prepare(0, ids[0][0], ours+"00000000000000aa_0") // not committed anywhere
	prepare(1, ids[1][0], ours+"00000000000000aa_1")
	prepare(1, ids[1][1], ours+"00000000000000bb_1")                         // committed at participant 0
	prepare(0, ids[0][1], "other_app_gid")                                   // not shardgate's: left alone
	prepare(1, ids[1][2], twophase.DBPrefix("another")+"00000000000000cc_1") // another database's: left alone

	// Too young to be a dead proxy's: untouched.
	if n, err := f.srv.ResolvePrepared(ctx, 3600e9); n != 0 || err != nil {
		t.Fatalf("resolving young transactions: %d, %v", n, err)
	}
	n, err := f.srv.ResolvePrepared(ctx, 0)
	if err != nil || n != 3 {
		t.Fatalf("ResolvePrepared = %d, %v; want 3 parts finished", n, err)
	}
	if got := [][]int64{f.userIDs(t, 0), f.userIDs(t, 1)}; len(got[0]) != 0 || !slices.Equal(got[1], ids[1][1:2]) {
		t.Fatalf("after resolving the shards hold %v, want [] and [%d]", got, ids[1][1])
	}
	var left []string
	rows, _ := f.direct(t, 0).Query(ctx, "SELECT gid FROM pg_prepared_xacts ORDER BY gid")
	if left, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil || !slices.Equal(left, []string{"other_app_gid"}) {
		t.Fatalf("prepared transactions left on shard 0: %v %v, want only other_app_gid", left, err)
	}
	f.direct(t, 0).Exec(ctx, "ROLLBACK PREPARED 'other_app_gid'")
	if _, err := f.direct(t, 1).Exec(ctx, "ROLLBACK PREPARED '"+twophase.DBPrefix("another")+"00000000000000cc_1'"); err != nil {
		t.Fatalf("another database's prepared transaction was touched: %v", err)
	}
	if c, r := counterWith(t, reg, "shardgate_prepared_resolved_total", "action", "commit"), counterWith(t, reg, "shardgate_prepared_resolved_total", "action", "rollback"); c != 1 || r != 2 {
		t.Errorf("shardgate_prepared_resolved_total: commit %v, rollback %v; want 1, 2", c, r)
	}
}

// A two-phase commit whose connections break between the phases. When
// participant 1's breaks, the commit point (participant 0) is passed:
// the client hears COMMIT and the resolver commits participant 1's
// prepared part. When participant 0's breaks, the proxy cannot tell
// (40003); participant 0 is still prepared, so the resolver rolls both
// back. Either way the shards end up agreeing.
func TestTwoPhaseCommitInterrupted(t *testing.T) {
	reg := prometheus.NewRegistry()
	f := startFixtureWith(t, Options{Metrics: metrics.New(reg)}, func(c *topology.Config) { c.Databases[0].Transactions = string(topology.TwoPhase) })
	ctx := t.Context()
	ids := f.idsOn(2)
	a, b := ids[0], ids[1]
	breakPart := func(i int) {
		hook := func(parts []txPart) {
			shard := slices.Index(f.db.Shards, parts[i].shard)
			direct := f.direct(t, shard)
			pid := parts[i].conn.pid
			if _, err := direct.Exec(ctx, "SELECT pg_terminate_backend($1)", int64(pid)); err != nil {
				t.Error(err)
			}
			for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
				var n int
				direct.QueryRow(ctx, "SELECT count(*) FROM pg_stat_activity WHERE pid = $1", int64(pid)).Scan(&n)
				if n == 0 {
					return
				}
			}
			t.Error("terminated backend still listed")
		}
		f.srv.afterPrepare.Store(&hook)
	}
	prepared := func(shard int) int {
		var n int
		f.direct(t, shard).QueryRow(ctx, "SELECT count(*) FROM pg_prepared_xacts").Scan(&n)
		return n
	}
	conn := f.connect(t)
	run := func(x, y int64) error {
		for _, q := range []string{"BEGIN", fmt.Sprintf("INSERT INTO users (id, name) VALUES (%d, 'a')", x), fmt.Sprintf("INSERT INTO users (id, name) VALUES (%d, 'b')", y)} {
			if _, err := conn.Exec(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		_, err := conn.Exec(ctx, "COMMIT")
		return err
	}

	breakPart(1)
	if err := run(a[0], b[0]); err != nil {
		t.Fatalf("COMMIT with participant 1 lost after the commit point: %v, want success", err)
	}
	if got := [][]int64{f.userIDs(t, 0), f.userIDs(t, 1)}; !slices.Equal(got[0], a[:1]) || len(got[1]) != 0 || prepared(1) != 1 {
		t.Fatalf("before resolving: the shards hold %v, shard 1 has %d prepared; want [%d], [], 1", got, prepared(1), a[0])
	}
	if n, err := f.srv.ResolvePrepared(ctx, 0); n != 1 || err != nil {
		t.Fatalf("ResolvePrepared = %d, %v; want 1", n, err)
	}
	if got := f.userIDs(t, 1); !slices.Equal(got, b[:1]) {
		t.Fatalf("after resolving shard 1 holds %v, want [%d]", got, b[0])
	}

	breakPart(0)
	err := run(a[1], b[1])
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "40003" {
		t.Fatalf("COMMIT with participant 0 lost: %v, want 40003", err)
	}
	f.srv.afterPrepare.Store(nil)
	if n, err := f.srv.ResolvePrepared(ctx, 0); n != 2 || err != nil {
		t.Fatalf("ResolvePrepared = %d, %v; want 2 (both rolled back)", n, err)
	}
	if got := [][]int64{f.userIDs(t, 0), f.userIDs(t, 1)}; !slices.Equal(got[0], a[:1]) || !slices.Equal(got[1], b[:1]) || prepared(0)+prepared(1) != 0 {
		t.Fatalf("after resolving the shards hold %v with %d prepared; want [%d] [%d] and none", got, prepared(0)+prepared(1), a[0], b[0])
	}
	if got := counterWith(t, reg, "shardgate_multi_shard_commits_total", "outcome", "in_doubt"); got != 2 {
		t.Errorf("in_doubt commits = %v, want 2", got)
	}
	// The session goes on.
	if _, err := conn.Exec(ctx, fmt.Sprintf("INSERT INTO users (id, name) VALUES (%d, 'c')", a[1])); err != nil {
		t.Fatal(err)
	}
}

// The deferred BEGIN (and SET LOCAL...) goes to a shard together with the
// first statement that needs it. When one of them fails, that statement
// must not run at all, in each way a statement is sent: as text, as the
// client's extended-protocol statement, and as a prepared shape.
func TestTransactionOpeningGoesWithTheFirstStatement(t *testing.T) {
	f := startFixture(t)
	ctx := t.Context()
	ids := f.idsOn(6)[0]
	simple := f.connect(t)
	extended, err := pgx.Connect(ctx, f.dsn("app", "app-secret"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { extended.Close(ctx) })
	// A shape the proxy has prepared already, so it runs prepared in a
	// transaction.
	for _, id := range ids[4:6] {
		if _, err := simple.Exec(ctx, fmt.Sprintf("INSERT INTO users (id, name) VALUES (%d, 'warm')", id)); err != nil {
			t.Fatal(err)
		}
	}
	insertText := func(id int64) error {
		_, err := simple.Exec(ctx, fmt.Sprintf("INSERT INTO users (id, name) VALUES (%d, 'x')", id))
		return err
	}
	insertExtended := func(id int64) error {
		_, err := extended.Exec(ctx, "INSERT INTO users (id, name) VALUES ($1, 'x')", id)
		return err
	}
	for _, c := range []struct {
		name   string
		conn   *pgx.Conn
		insert func(int64) error
		id     int64
	}{
		{"text", simple, func(id int64) error {
			_, err := simple.Exec(ctx, fmt.Sprintf("INSERT INTO users (id, name) VALUES (%d, 'x') RETURNING id", id))
			return err
		}, ids[0]},
		{"extended", extended, insertExtended, ids[1]},
		{"prepared shape", simple, insertText, ids[2]},
	} {
		for _, sql := range []string{"BEGIN", "SET LOCAL lock_timeout = 'not a duration'"} {
			if _, err := c.conn.Exec(ctx, sql); err != nil {
				t.Fatalf("%s: %s: %v", c.name, sql, err)
			}
		}
		if err := c.insert(c.id); pgCode(err) != "22023" {
			t.Fatalf("%s: the INSERT after a failing SET LOCAL: %v, want 22023", c.name, err)
		}
		if _, err := c.conn.Exec(ctx, "COMMIT"); err != nil {
			t.Fatalf("%s: COMMIT: %v", c.name, err)
		}
	}
	// And when the opening succeeds, the statement runs in the transaction.
	for _, sql := range []string{"BEGIN", fmt.Sprintf("INSERT INTO users (id, name) VALUES (%d, 'x')", ids[3]), "ROLLBACK"} {
		if _, err := simple.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := f.userIDs(t, 0), sorted(ids[4], ids[5]); !slices.Equal(got, want) {
		t.Fatalf("shard 0 holds %v, want only %v", got, want)
	}
}
