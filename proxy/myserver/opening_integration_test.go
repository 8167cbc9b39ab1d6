package myserver

import (
	"errors"
	"testing"

	"github.com/go-sql-driver/mysql"
)

// A transaction's START TRANSACTION goes to the server with its first
// statement (see opening.go): the statement runs inside the transaction,
// with the opening's options, after savepoints taken before it, and a
// failing first statement leaves the transaction open. Openings that may
// fail go first, alone, and behave the same.
func TestTransactionOpensWithItsFirstStatement(t *testing.T) {
	f := startFixture(t, 0)
	ctx := t.Context()
	var keys []int64 // keys on shard 0
	for id := int64(7000); len(keys) < 40; id++ {
		if f.ownerOf(id) == 0 {
			keys = append(keys, id)
		}
	}
	shard := f.shardDB(t, 0)
	held := func(id int64) bool {
		return queryInt(t, shard, "SELECT COUNT(*) FROM users WHERE id = ?", id) == 1
	}
	for _, mode := range []string{"false", "true"} { // binary protocol, then text
		db := f.open(t, map[string]string{"interpolateParams": mode})
		conn, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() }) // before the fixture stops
		exec := func(q string, args ...any) error {
			_, err := conn.ExecContext(ctx, q, args...)
			return err
		}
		must := func(q string, args ...any) {
			t.Helper()
			if err := exec(q, args...); err != nil {
				t.Fatalf("%s (interpolateParams=%s): %v", q, mode, err)
			}
		}
		count := func(id int64) int64 {
			t.Helper()
			var n int64
			if err := conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM users WHERE id = ?", id).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		k := keys[:10]
		keys = keys[10:]

		// A read first, then a write the transaction sees and drops.
		for _, begin := range []string{"BEGIN", "START TRANSACTION", "START TRANSACTION READ WRITE"} {
			must(begin)
			if n := count(k[0]); n != 0 {
				t.Fatalf("%s: first read counts %d", begin, n)
			}
			must("INSERT INTO users (id, name) VALUES (?, 'dropped')", k[0])
			if n := count(k[0]); n != 1 {
				t.Fatalf("%s: the transaction does not see its insert: %d", begin, n)
			}
			if held(k[0]) {
				t.Fatalf("%s: the insert is visible outside its transaction", begin)
			}
			must("ROLLBACK")
			if held(k[0]) {
				t.Fatalf("%s: ROLLBACK kept the first statement", begin)
			}
		}
		// A write first.
		must("BEGIN")
		must("INSERT INTO users (id, name) VALUES (?, 'dropped')", k[1])
		must("ROLLBACK")
		// A savepoint taken before the first statement.
		must("BEGIN")
		must("SAVEPOINT before_any")
		must("INSERT INTO users (id, name) VALUES (?, 'undone')", k[2])
		must("ROLLBACK TO SAVEPOINT before_any")
		must("INSERT INTO users (id, name) VALUES (?, 'kept')", k[3])
		must("COMMIT")
		// The opening's options apply to the first statement.
		must("START TRANSACTION READ ONLY")
		var me *mysql.MySQLError
		if err := exec("INSERT INTO users (id, name) VALUES (?, 'refused')", k[4]); !errors.As(err, &me) || me.Number != 1792 {
			t.Fatalf("INSERT in a READ ONLY transaction: %v, want 1792", err)
		}
		must("ROLLBACK")
		// A failing first statement leaves the transaction open.
		must("INSERT INTO users (id, name) VALUES (?, 'exists')", k[5])
		must("BEGIN")
		if err := exec("INSERT INTO users (id, name) VALUES (?, 'duplicate')", k[5]); !errors.As(err, &me) || me.Number != 1062 {
			t.Fatalf("duplicate key as the first statement: %v", err)
		}
		must("INSERT INTO users (id, name) VALUES (?, 'dropped')", k[6])
		must("ROLLBACK")
		// autocommit = 0 opens a transaction for every statement.
		must("SET autocommit = 0")
		must("INSERT INTO users (id, name) VALUES (?, 'dropped')", k[7])
		must("ROLLBACK")
		must("SET autocommit = 1")
		// SET TRANSACTION before BEGIN goes first, alone, and applies.
		must("SET TRANSACTION READ ONLY")
		must("BEGIN")
		if err := exec("INSERT INTO users (id, name) VALUES (?, 'refused')", k[8]); !errors.As(err, &me) || me.Number != 1792 {
			t.Fatalf("INSERT after SET TRANSACTION READ ONLY: %v, want 1792", err)
		}
		must("ROLLBACK")

		for i, want := range []bool{false, false, false, true, false, true, false, false, false} {
			if held(k[i]) != want {
				t.Errorf("interpolateParams=%s: key %d (#%d) held %v, want %v", mode, k[i], i, !want, want)
			}
		}
	}
}
