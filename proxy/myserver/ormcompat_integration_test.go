package myserver

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"
)

// What Django needs of a MariaDB server, through the proxy: UPDATE
// counting the rows it matched when the client logged in with
// CLIENT_FOUND_ROWS (its save() INSERTs when an UPDATE says 0), and
// INSERT/DELETE ... RETURNING (used from MariaDB 10.5), including a
// multi-row INSERT split over the shards.
func TestFoundRowsAndReturning(t *testing.T) {
	f := startFixture(t, 0)
	found := f.open(t, map[string]string{"clientFoundRows": "true", "interpolateParams": "true"})
	plain := f.open(t, map[string]string{"interpolateParams": "false"})

	a, b := int64(1), int64(2)
	for f.ownerOf(b) == f.ownerOf(a) {
		b++
	}
	mustExec(t, plain, "INSERT INTO users (id, name) VALUES (?, 'same'), (?, 'same')", a, b)
	for _, c := range []struct {
		name string
		sql  string
		args []any
		want int64
	}{
		{"one row, unchanged", "UPDATE users SET name = 'same' WHERE id = ?", []any{a}, 1},
		{"two shards, unchanged", "UPDATE users SET name = 'same' WHERE id IN (?, ?)", []any{a, b}, 2},
	} {
		if n, _ := mustExec(t, found, c.sql, c.args...).RowsAffected(); n != c.want {
			t.Errorf("%s with CLIENT_FOUND_ROWS: %d rows affected, want the %d matched", c.name, n, c.want)
		}
		if n, _ := mustExec(t, plain, c.sql, c.args...).RowsAffected(); n != 0 {
			t.Errorf("%s without CLIENT_FOUND_ROWS: %d rows affected, want 0 changed", c.name, n)
		}
	}
	if n, _ := mustExec(t, found, "UPDATE users SET name = 'changed' WHERE id = ?", a).RowsAffected(); n != 1 {
		t.Errorf("a changed row with CLIENT_FOUND_ROWS: %d", n)
	}

	// RETURNING; the split INSERT returns the rows of both shards.
	c, d := b+1, b+2
	for f.ownerOf(d) == f.ownerOf(c) {
		d++
	}
	got := queryStrings(t, plain, "INSERT INTO users (id, name) VALUES (?, 'r1'), (?, 'r2') RETURNING id, name", c, d)
	if len(got) != 2 {
		t.Errorf("split INSERT ... RETURNING returned %v, want both rows", got)
	}
	for _, id := range []int64{c, d} {
		if n := queryInt(t, f.shardDB(t, f.ownerOf(id)), "SELECT COUNT(*) FROM users WHERE id = ?", id); n != 1 {
			t.Errorf("row %d not on its shard %d", id, f.ownerOf(id))
		}
	}
	got = queryStrings(t, found, "DELETE FROM users WHERE id = ? RETURNING name", c)
	if len(got) != 1 || got[0] != "r1" {
		t.Errorf("DELETE ... RETURNING: %v", got)
	}
}

// Node's mysql2 binds every JavaScript number as a DOUBLE, sharding keys
// included (go-sql-driver does the same for a float64): a whole number
// routes like the integer it is, a fraction is refused for an int key
// rather than sent anywhere.
func TestDoubleBoundKeys(t *testing.T) {
	f := startFixture(t, 0)
	db := f.open(t, map[string]string{"interpolateParams": "false"}) // server-side prepared statements
	keys := f.keysOnEachShard()
	for _, k := range keys {
		mustExec(t, db, "INSERT INTO users (id, name, score) VALUES (?, ?, ?)", float64(k), fmt.Sprintf("d%d", k), float64(1))
	}
	for _, k := range keys {
		if n := queryInt(t, f.shardDB(t, f.ownerOf(k)), "SELECT COUNT(*) FROM users WHERE id = ?", k); n != 1 {
			t.Errorf("row %d, bound as a DOUBLE, not on its shard %d", k, f.ownerOf(k))
		}
		if got := queryStrings(t, db, "SELECT name FROM users WHERE id = ?", float64(k)); len(got) != 1 || got[0] != fmt.Sprintf("d%d", k) {
			t.Errorf("point read of %d bound as a DOUBLE: %v", k, got)
		}
		if n, _ := mustExec(t, db, "UPDATE users SET score = score + 1 WHERE id = ?", float64(k)).RowsAffected(); n != 1 {
			t.Errorf("update of %d bound as a DOUBLE changed %d rows", k, n)
		}
	}
	_, err := db.Exec("INSERT INTO users (id, name) VALUES (?, 'frac')", 7.5)
	var me *mysql.MySQLError
	if !errors.As(err, &me) || me.Number != 1235 {
		t.Errorf("INSERT with a key of 7.5: %v; want error 1235 (not an integer key)", err)
	}
}

// MariaDB Connector/J logs in with one SET of autocommit and other
// variables. The session keeps autocommit (backend connections always
// autocommit) and the rest is an ordinary session setting.
func TestSetAutocommitAmongOthers(t *testing.T) {
	f := startFixture(t, 0)
	db := f.open(t, map[string]string{"interpolateParams": "true"})
	db.SetMaxOpenConns(1)
	mustExec(t, db, "set autocommit=0, session_track_schema=1, sql_mode = concat(@@sql_mode,',NO_ZERO_DATE')")
	if got := queryStrings(t, db, "SELECT @@session.sql_mode"); len(got) != 1 || !strings.Contains(got[0], "NO_ZERO_DATE") {
		t.Errorf("sql_mode after the combined SET: %v", got)
	}
	// autocommit=0: the insert waits for COMMIT.
	k := f.keysOnEachShard()[0]
	mustExec(t, db, "INSERT INTO users (id, name) VALUES (?, 'ac')", k)
	shard := f.shardDB(t, f.ownerOf(k))
	if n := queryInt(t, shard, "SELECT COUNT(*) FROM users WHERE id = ?", k); n != 0 {
		t.Errorf("with autocommit=0 the insert is visible before COMMIT")
	}
	mustExec(t, db, "SET @x = 5, autocommit = ON") // commits, as in MySQL
	if n := queryInt(t, shard, "SELECT COUNT(*) FROM users WHERE id = ?", k); n != 1 {
		t.Errorf("autocommit=ON among other variables did not commit the open transaction")
	}
	if got := queryStrings(t, db, "SELECT @x"); len(got) != 1 || got[0] != "5" {
		t.Errorf("@x after the combined SET: %v", got)
	}
	// No backend connection was left with autocommit off.
	other := f.open(t, nil)
	for range 3 {
		if got := queryStrings(t, other, "SELECT @@autocommit"); len(got) != 1 || got[0] != "1" {
			t.Errorf("another client's connection has autocommit %v", got)
		}
	}
}

// ORMs upsert by assigning every column its inserted value, the key
// included (Sequelize: ON DUPLICATE KEY UPDATE `id`=VALUES(`id`), ...):
// the row keeps the key its insert was routed by, so it runs; giving the
// key another value is refused.
func TestUpsertAssigningTheKey(t *testing.T) {
	f := startFixture(t, 0)
	db := f.open(t, map[string]string{"interpolateParams": "false"})
	const upsert = "INSERT INTO `users` (`id`,`name`) VALUES (?,?) ON DUPLICATE KEY UPDATE `id`=VALUES(`id`), `name`=VALUES(`name`)"
	for _, k := range f.keysOnEachShard() {
		mustExec(t, db, upsert, k, "first")
		mustExec(t, db, upsert, k, "second")
		if got := queryStrings(t, f.shardDB(t, f.ownerOf(k)), "SELECT name FROM users WHERE id = ?", k); len(got) != 1 || got[0] != "second" {
			t.Errorf("row %d on its shard %d: %v", k, f.ownerOf(k), got)
		}
	}
	_, err := db.Exec("INSERT INTO users (id, name) VALUES (?, 'x') ON DUPLICATE KEY UPDATE id = VALUES(id) + 1", 1)
	var me *mysql.MySQLError
	if !errors.As(err, &me) || me.Number != 1235 {
		t.Errorf("upsert moving the key: %v; want 1235", err)
	}
}

// DDL inside a transaction commits it first and runs on its own, as in
// MySQL: knex and Laravel run each migration's DDL in a transaction, which
// under single_shard would otherwise be refused as a second shard.
func TestDDLCommitsTheTransaction(t *testing.T) {
	f := startFixture(t, 0)
	db := f.open(t, map[string]string{"interpolateParams": "true"})
	db.SetMaxOpenConns(1)
	keys := f.keysOnEachShard()
	for i, opening := range []string{"BEGIN", "SET autocommit = 0"} {
		k := keys[0] + int64(1000*(i+1))
		for f.ownerOf(k) != f.ownerOf(keys[0]) {
			k++
		}
		table := fmt.Sprintf("ddl_in_tx_%d", i)
		mustExec(t, db, opening)
		mustExec(t, db, "INSERT INTO users (id, name) VALUES (?, 'before ddl')", k)
		mustExec(t, db, "CREATE TABLE "+table+" (id BIGINT PRIMARY KEY)")
		mustExec(t, db, "ROLLBACK") // nothing left to roll back: the DDL committed
		mustExec(t, db, "SET autocommit = 1")
		if n := queryInt(t, f.shardDB(t, f.ownerOf(k)), "SELECT COUNT(*) FROM users WHERE id = ?", k); n != 1 {
			t.Errorf("%s: the insert before the DDL was not committed by it", opening)
		}
		for sh := range 2 {
			if n := queryInt(t, f.shardDB(t, sh), "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?", table); n != 1 {
				t.Errorf("%s: table %s missing on shard %d", opening, table, sh)
			}
		}
	}
}
