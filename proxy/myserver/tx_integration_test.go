package myserver

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/shardgate/shardgate/topology"
)

// Transactions over both shards under transactions: multi_shard: commit,
// rollback, a scatter write and read inside, savepoints replayed on a
// shard that joins late, autocommit=0, and a COMMIT whose second shard
// lost its connection, reported as partly committed.
func TestMultiShardTransactions(t *testing.T) {
	f := startFixture(t, 0, func(c *topology.Config) { c.Databases[0].Transactions = string(topology.MultiShard) })
	ctx := t.Context()
	var ids [2][]int64 // ids[shard]: keys that hash there
	for id := int64(1); len(ids[0]) < 8 || len(ids[1]) < 8; id++ {
		if sh := f.ownerOf(id); len(ids[sh]) < 8 {
			ids[sh] = append(ids[sh], id)
		}
	}
	a, b := ids[0], ids[1]
	db := f.open(t, map[string]string{"interpolateParams": "false"})
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := conn.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	held := func(shard int) []int64 {
		t.Helper()
		rows, err := f.shardDB(t, shard).Query("SELECT id FROM users ORDER BY id")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []int64
		for rows.Next() {
			var id int64
			rows.Scan(&id)
			out = append(out, id)
		}
		return out
	}
	want := func(what string, shard0, shard1 []int64) {
		t.Helper()
		slices.Sort(shard0)
		slices.Sort(shard1)
		if got0, got1 := held(0), held(1); !slices.Equal(got0, shard0) || !slices.Equal(got1, shard1) {
			t.Fatalf("%s: the shards hold %v and %v, want %v and %v", what, got0, got1, shard0, shard1)
		}
	}

	exec("BEGIN")
	exec("INSERT INTO users (id, name) VALUES (?, 'a')", a[0])
	exec("INSERT INTO users (id, name) VALUES (?, 'b')", b[0])
	exec("UPDATE users SET score = 7")
	var seen int
	if err := conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM users WHERE score = 7").Scan(&seen); err != nil || seen != 2 {
		t.Fatalf("the transaction sees %d of its rows (%v), want 2", seen, err)
	}
	exec("COMMIT")
	want("after COMMIT", []int64{a[0]}, []int64{b[0]})

	exec("BEGIN")
	exec("INSERT INTO users (id, name) VALUES (?, 'a')", a[1])
	exec("INSERT INTO users (id, name) VALUES (?, 'b')", b[1])
	exec("ROLLBACK")
	want("after ROLLBACK", []int64{a[0]}, []int64{b[0]})

	// A savepoint taken before shard 1 joined is replayed there.
	exec("START TRANSACTION")
	exec("INSERT INTO users (id, name) VALUES (?, 'a')", a[2])
	exec("SAVEPOINT s1")
	exec("INSERT INTO users (id, name) VALUES (?, 'b')", b[2])
	exec("ROLLBACK TO SAVEPOINT s1")
	exec("INSERT INTO users (id, name) VALUES (?, 'b')", b[3])
	exec("COMMIT")
	want("after the savepoint transaction", []int64{a[0], a[2]}, []int64{b[0], b[3]})

	// autocommit=0: every statement is in a transaction, over both shards.
	exec("SET autocommit = 0")
	exec("INSERT INTO users (id, name) VALUES (?, 'a')", a[4])
	exec("INSERT INTO users (id, name) VALUES (?, 'b')", b[4])
	want("before the autocommit=0 COMMIT", []int64{a[0], a[2]}, []int64{b[0], b[3]})
	exec("COMMIT")
	exec("SET autocommit = 1")
	want("after the autocommit=0 COMMIT", []int64{a[0], a[2], a[4]}, []int64{b[0], b[3], b[4]})

	// Shard 1's connection dies before COMMIT: shard 0 commits first, and
	// the error says so.
	exec("BEGIN")
	exec("INSERT INTO users (id, name) VALUES (?, 'a')", a[5])
	exec("INSERT INTO users (id, name) VALUES (?, 'b')", b[5])
	direct := f.shardDB(t, 1)
	var thread int64
	if err := direct.QueryRow("SELECT trx_mysql_thread_id FROM information_schema.innodb_trx").Scan(&thread); err != nil {
		t.Fatal(err)
	}
	mustExec(t, direct, fmt.Sprintf("KILL CONNECTION %d", thread))
	for deadline := time.Now().Add(10 * time.Second); queryInt(t, direct, "SELECT COUNT(*) FROM information_schema.processlist WHERE id = ?", thread) > 0; {
		if time.Now().After(deadline) {
			t.Fatal("killed connection still listed")
		}
		time.Sleep(20 * time.Millisecond)
	}
	_, err = conn.ExecContext(ctx, "COMMIT")
	var me *mysql.MySQLError
	if !errors.As(err, &me) || me.Number != erErrorDuringCommit {
		t.Fatalf("COMMIT with shard 1 lost: %v, want error %d (partly committed)", err, erErrorDuringCommit)
	}
	want("after the partial COMMIT", []int64{a[0], a[2], a[4], a[5]}, []int64{b[0], b[3], b[4]})
	// The session goes on, outside any transaction.
	exec("INSERT INTO users (id, name) VALUES (?, 'b')", b[6])
	want("after the partial COMMIT", []int64{a[0], a[2], a[4], a[5]}, []int64{b[0], b[3], b[4], b[6]})
}
