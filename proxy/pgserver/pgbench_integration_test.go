package pgserver

import (
	"os/exec"
	"regexp"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/shardgate/shardgate/topology"
)

// pgbench through shardgate with pgbench_accounts and pgbench_history
// sharded by aid and tellers/branches as reference tables: tables created
// by pgbench itself, accounts loaded with COPY (split by key), then the
// select-only and simple-update scripts in all three query modes.
func TestProxyPgbenchSharded(t *testing.T) {
	pgbench := pgTool(t, "pgbench")
	f := startFixture(t, func(c *topology.Config) {
		c.Databases[0].Tables["pgbench_accounts"] = topology.TableRule{Key: "aid", Type: "int"}
		c.Databases[0].Tables["pgbench_history"] = topology.TableRule{Key: "aid", Type: "int"}
		c.Databases[0].Tables["pgbench_tellers"] = topology.TableRule{Reference: true}
		c.Databases[0].Tables["pgbench_branches"] = topology.TableRule{Reference: true}
		c.Databases[0].ReadPolicy = string(topology.PrimaryOnly)
		c.Databases[0].Transactions = string(topology.TwoPhase)
	})
	ctx := t.Context()
	dsn := f.dsn("app", "app-secret")
	run := func(args ...string) string {
		out, err := exec.CommandContext(ctx, pgbench, append(args, dsn)...).CombinedOutput()
		if err != nil {
			t.Fatalf("pgbench %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	// pgbench -i through the proxy: DDL goes to every shard; its data
	// load is one transaction over all shards (TRUNCATE, reference rows,
	// COPY split by aid), committed with two-phase commit.
	run("-i", "-s", "5")
	const accounts = 500000
	// Each shard holds exactly the accounts whose aid hashes to it.
	total := 0
	for shard := range 2 {
		rows, err := f.direct(t, shard).Query(ctx, "SELECT aid FROM pgbench_accounts")
		if err != nil {
			t.Fatal(err)
		}
		aids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
		if err != nil {
			t.Fatal(err)
		}
		for _, aid := range aids {
			if f.shardOf(int64(aid)) != shard {
				t.Fatalf("account %d on shard %d, hashes to %d", aid, shard, f.shardOf(int64(aid)))
			}
		}
		total += len(aids)
		var branches, tellers int
		f.direct(t, shard).QueryRow(ctx, "SELECT (SELECT count(*) FROM pgbench_branches), (SELECT count(*) FROM pgbench_tellers)").Scan(&branches, &tellers)
		if branches != 5 || tellers != 50 {
			t.Errorf("shard %d: reference tables hold %d branches, %d tellers; want 5, 50 on every shard", shard, branches, tellers)
		}
	}
	if total != accounts {
		t.Fatalf("%d accounts on the shards, want %d", total, accounts)
	}

	failed := regexp.MustCompile(`number of failed transactions: (\d+)`)
	processed := regexp.MustCompile(`number of transactions actually processed: (\d+)`)
	for _, args := range [][]string{
		{"-S", "-M", "simple"}, {"-S", "-M", "extended"}, {"-S", "-M", "prepared"},
		{"-N", "-M", "simple"}, {"-N", "-M", "extended"}, {"-N", "-M", "prepared"},
	} {
		out := run(append(args, "-c", "4", "-j", "2", "-T", "2", "-n")...)
		if m := failed.FindStringSubmatch(out); m != nil && m[1] != "0" {
			t.Errorf("pgbench %v: %s failed transactions\n%s", args, m[1], out)
		}
		if m := processed.FindStringSubmatch(out); m == nil || m[1] == "0" {
			t.Errorf("pgbench %v processed nothing:\n%s", args, out)
		}
	}
	// -N wrote history rows on the shard of their aid.
	for shard := range 2 {
		var wrong int
		rows, _ := f.direct(t, shard).Query(ctx, "SELECT aid FROM pgbench_history")
		aids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
		if err != nil {
			t.Fatal(err)
		}
		for _, aid := range aids {
			if f.shardOf(int64(aid)) != shard {
				wrong++
			}
		}
		if wrong > 0 || len(aids) == 0 {
			t.Errorf("shard %d: %d history rows, %d on the wrong shard", shard, len(aids), wrong)
		}
	}
}
