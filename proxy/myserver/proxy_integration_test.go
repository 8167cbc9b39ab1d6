package myserver

import (
	"context"
	"database/sql"
	"errors"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/shardgate/shardgate/topology"
)

// TestCRUD drives a sharded table through go-sql-driver with the binary
// protocol (server-side prepared statements) and with client-side
// interpolation (text protocol), and checks every row on the shards.
func TestCRUD(t *testing.T) {
	f := startFixture(t, 1)
	for _, mode := range []string{"false", "true"} {
		t.Run("interpolateParams="+mode, func(t *testing.T) {
			db := f.open(t, map[string]string{"interpolateParams": mode})
			base := int64(1000)
			if mode == "true" {
				base = 2000
			}
			for i := range int64(20) {
				id := base + i
				r := mustExec(t, db, "INSERT INTO users (id, name, score, balance) VALUES (?, ?, ?, ?)", id, "user"+string(rune('a'+i)), i, float64(i)+0.5)
				if n, _ := r.RowsAffected(); n != 1 {
					t.Fatalf("insert %d: %d rows affected", id, n)
				}
			}
			// Every row is on the shard its key hashes to, and only there.
			for i := range int64(20) {
				id := base + i
				for s := range f.cluster.Shards {
					n := queryInt(t, f.shardDB(t, s), "SELECT COUNT(*) FROM users WHERE id = ?", id)
					if want := int64(b2i(s == f.ownerOf(id))); n != want {
						t.Fatalf("id %d on shard %d: %d rows, want %d", id, s, n, want)
					}
				}
			}
			// Point read by key.
			got := queryStrings(t, db, "SELECT id, name, score, balance FROM users WHERE id = ?", base+3)
			if want := []string{itoa(base+3) + "|userd|3|3.50"}; fmtRows(got) != fmtRows(want) {
				t.Fatalf("point select: %v, want %v", got, want)
			}
			// Scatter with merge: ORDER BY, LIMIT, aggregates.
			got = queryStrings(t, db, "SELECT id FROM users WHERE id >= ? AND id < ? ORDER BY id DESC LIMIT 3", base, base+20)
			if want := []string{itoa(base + 19), itoa(base + 18), itoa(base + 17)}; fmtRows(got) != fmtRows(want) {
				t.Fatalf("ORDER BY LIMIT: %v, want %v", got, want)
			}
			// Only LIMIT and OFFSET are parameters (GORM's pages): the
			// text each shard gets folds them into a literal and takes none.
			got = queryStrings(t, db, "SELECT id FROM users ORDER BY id LIMIT ? OFFSET ?", 2, 1)
			if want := []string{"1001", "1002"}; fmtRows(got) != fmtRows(want) {
				t.Fatalf("ORDER BY LIMIT ? OFFSET ?: %v, want %v", got, want)
			}
			got = queryStrings(t, db, "SELECT COUNT(*), SUM(score), MIN(name), MAX(balance), AVG(score) FROM users WHERE id >= ? AND id < ?", base, base+20)
			if want := []string{"20|190|usera|19.50|9.5000"}; fmtRows(got) != fmtRows(want) {
				t.Fatalf("aggregates: %v, want %v", got, want)
			}
			got = queryStrings(t, db, "SELECT score % 2 AS parity, COUNT(*) FROM users WHERE id >= ? AND id < ? GROUP BY parity ORDER BY parity", base, base+20)
			if want := []string{"0|10", "1|10"}; fmtRows(got) != fmtRows(want) {
				t.Fatalf("GROUP BY: %v, want %v", got, want)
			}
			// Scatter write sums affected rows.
			r := mustExec(t, db, "UPDATE users SET score = score + 100 WHERE id >= ? AND id < ?", base, base+20)
			if n, _ := r.RowsAffected(); n != 20 {
				t.Fatalf("scatter UPDATE affected %d, want 20", n)
			}
			r = mustExec(t, db, "DELETE FROM users WHERE id = ?", base+5)
			if n, _ := r.RowsAffected(); n != 1 {
				t.Fatalf("DELETE affected %d", n)
			}
			if n := queryInt(t, f.shardDB(t, f.ownerOf(base+5)), "SELECT COUNT(*) FROM users WHERE id = ?", base+5); n != 0 {
				t.Fatal("deleted row still on its shard")
			}
			// LAST_INSERT_ID comes from the shard that took the row.
			r = mustExec(t, db, "INSERT INTO orders (user_id, amount) VALUES (?, ?)", base+1, 9.99)
			id, err := r.LastInsertId()
			if err != nil || id == 0 {
				t.Fatalf("LastInsertId = %d, %v", id, err)
			}
			if n := queryInt(t, f.shardDB(t, f.ownerOf(base+1)), "SELECT COUNT(*) FROM orders WHERE id = ? AND user_id = ?", id, base+1); n != 1 {
				t.Fatalf("order %d not on the shard of user %d", id, base+1)
			}
			// An INSERT naming no columns is routed by the table's own
			// column order, learnt from a server.
			mustExec(t, db, "INSERT INTO users VALUES (?, ?, ?, ?)", base+50, "nocols", 1, 2.5)
			if n := queryInt(t, f.shardDB(t, f.ownerOf(base+50)), "SELECT COUNT(*) FROM users WHERE id = ? AND name = 'nocols'", base+50); n != 1 {
				t.Fatal("INSERT without a column list did not land on the key's shard")
			}
			// An INSERT without the key is refused, clearly.
			_, err = db.Exec("INSERT INTO users (name) VALUES (?)", "nokey")
			var me *mysql.MySQLError
			if !errors.As(err, &me) || me.Number != erNotSupported {
				t.Fatalf("INSERT without key: %v, want error %d", err, erNotSupported)
			}
		})
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestTransactions: commit keeps, rollback drops, and a second shard in
// one transaction is refused without harming the first.
func TestTransactions(t *testing.T) {
	f := startFixture(t, 0)
	for _, mode := range []string{"false", "true"} {
		db := f.open(t, map[string]string{"interpolateParams": mode})
		ctx := t.Context()
		base := int64(3000)
		if mode == "true" {
			base = 4000
		}
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec("INSERT INTO users (id, name) VALUES (?, 'committed')", base); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		tx, _ = db.BeginTx(ctx, nil)
		if _, err := tx.Exec("INSERT INTO users (id, name) VALUES (?, 'rolled back')", base+1); err != nil {
			t.Fatal(err)
		}
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		if n := queryInt(t, f.shardDB(t, f.ownerOf(base)), "SELECT COUNT(*) FROM users WHERE id = ?", base); n != 1 {
			t.Fatal("committed row missing")
		}
		if n := queryInt(t, f.shardDB(t, f.ownerOf(base+1)), "SELECT COUNT(*) FROM users WHERE id = ?", base+1); n != 0 {
			t.Fatal("rolled back row present")
		}
		// Find a key on the other shard and try to touch it in the same transaction.
		other := base + 2
		for f.ownerOf(other) == f.ownerOf(base) {
			other++
		}
		tx, _ = db.BeginTx(ctx, nil)
		if _, err := tx.Exec("UPDATE users SET score = 1 WHERE id = ?", base); err != nil {
			t.Fatal(err)
		}
		_, err = tx.Exec("UPDATE users SET score = 1 WHERE id = ?", other)
		var me *mysql.MySQLError
		if !errors.As(err, &me) || me.Number != erNotSupported {
			t.Fatalf("second shard in a transaction: %v", err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if n := queryInt(t, f.shardDB(t, f.ownerOf(base)), "SELECT score FROM users WHERE id = ?", base); n != 1 {
			t.Fatalf("first statement of the transaction lost: score %d", n)
		}
	}
}

// TestManyClientsSmallPool: 50 goroutines share a backend pool of 2.
func TestManyClientsSmallPool(t *testing.T) {
	f := startFixture(t, 0, func(c *topology.Config) { c.Databases[0].Pool.MaxPerBackend = 2 })
	db := f.open(t, map[string]string{"interpolateParams": "false"})
	db.SetMaxOpenConns(50)
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for g := range 50 {
		wg.Go(func() {
			for i := range 20 {
				id := int64(10000 + g*100 + i)
				if _, err := db.Exec("INSERT INTO users (id, name, score) VALUES (?, 'x', ?)", id, g); err != nil {
					errs <- err
					return
				}
				var score int
				if err := db.QueryRow("SELECT score FROM users WHERE id = ?", id).Scan(&score); err != nil || score != g {
					errs <- errors.Join(err, errors.New("wrong score"))
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := queryInt(t, db, "SELECT COUNT(*) FROM users WHERE id >= 10000 AND id < 20000"); n != 1000 {
		t.Fatalf("%d rows, want 1000", n)
	}
}

// TestLogins: caching_sha2_password and mysql_native_password (the
// default), and a wrong password refused with 1045.
func TestLogins(t *testing.T) {
	f := startFixture(t, 0)
	for _, method := range []string{"caching_sha2_password", "mysql_native_password"} {
		t.Run(method, func(t *testing.T) {
			srv, err := New(f.srv.store, Options{AuthMethod: method})
			if err != nil {
				t.Fatal(err)
			}
			addr := serveOn(t, srv)
			g := &fixture{addr: addr}
			for range 2 { // caching_sha2: full auth, then the fast path
				db, err := sql.Open("mysql", g.dsn("app", "app-secret", nil))
				if err != nil {
					t.Fatal(err)
				}
				if n := queryInt(t, db, "SELECT 1"); n != 1 {
					t.Fatal("SELECT 1")
				}
				db.Close()
			}
			db, _ := sql.Open("mysql", g.dsn("app", "wrong", nil))
			defer db.Close()
			err = db.Ping()
			var me *mysql.MySQLError
			if !errors.As(err, &me) || me.Number != 1045 {
				t.Fatalf("wrong password: %v, want 1045", err)
			}
		})
	}
}

// serveOn runs srv on a free port until the test ends.
func serveOn(t *testing.T, srv *Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { srv.Serve(ctx, ln); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return ln.Addr().String()
}

// TestCancelSleep: a client that cancels SELECT SLEEP(10) gets control
// back at once, and the busy backend connection is not handed to the next
// client mid-query: with a pool of one, the next query runs promptly.
func TestCancelSleep(t *testing.T) {
	f := startFixture(t, 0, func(c *topology.Config) { c.Databases[0].Pool.MaxPerBackend = 1 })
	db := f.open(t, map[string]string{"interpolateParams": "false"})
	ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := db.ExecContext(ctx, "SELECT SLEEP(10)")
	if err == nil {
		t.Fatal("cancelled query succeeded")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("cancel took %v", d)
	}
	// Every shard's only connection must be free again well before the sleeps end.
	start = time.Now()
	for range 4 {
		if n := queryInt(t, db, "SELECT COUNT(*) FROM users"); n != 0 {
			t.Fatalf("count %d", n)
		}
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("queries after the cancel waited %v: the killed connection was held", d)
	}
}
