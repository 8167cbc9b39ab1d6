package myserver

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/shardgate/shardgate/topology"
)

// mysqldumpArgs are the client options for the proxy at addr.
func mysqldumpArgs(addr string, extra ...string) []string {
	host, port, _ := strings.Cut(addr, ":")
	return append([]string{"--no-defaults", "-h", host, "-P", port, "-u", "app", "-papp-secret", "--protocol=tcp", "--skip-ssl"}, extra...)
}

// mysqldump through the proxy writes the logical database, and the
// mariadb client restores that dump through it: each row back where its key hashes, reference
// rows on every shard, unlisted tables on the unsharded shard only.
func TestMysqldumpRoundTrip(t *testing.T) {
	dump, cli := lookTool(t, "mysqldump"), lookTool(t, "mariadb")
	f := startFixture(t, 0)
	ctx := t.Context()
	db := f.open(t, nil)
	for _, q := range []string{
		"INSERT INTO users (id, name) VALUES (1, 'one'), (2, 'two'), (3, 'three'), (4, 'four'), (5, 'five'), (6, 'six'), (7, 'seven')",
		"INSERT INTO countries VALUES ('DE', 'Germany'), ('FR', 'France')",
		"INSERT INTO settings VALUES ('theme', 'dark')",
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	run := func(bin string, stdin []byte, args ...string) ([]byte, error) {
		cctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		cmd := exec.CommandContext(cctx, bin, mysqldumpArgs(f.addr, args...)...)
		cmd.Stdin = bytes.NewReader(stdin)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return out, errors.New(err.Error() + ": " + stderr.String())
		}
		return out, nil
	}
	// mysqldump's defaults: LOCK TABLES ... READ of every table while it
	// dumps (on every shard), and LOCK TABLES ... WRITE around each
	// table's INSERTs in the dump.
	out, err := run(dump, nil, "shop")
	if err != nil {
		t.Fatalf("mysqldump through the proxy: %v", err)
	}
	if !bytes.Contains(out, []byte("LOCK TABLES `users` WRITE")) {
		t.Fatalf("the dump has no LOCK TABLES around its INSERTs:\n%s", out)
	}
	for _, name := range []string{"'one'", "'seven'", "'Germany'", "'dark'"} {
		if !bytes.Contains(out, []byte(name)) {
			t.Fatalf("the dump lacks %s:\n%s", name, out)
		}
	}
	if n := bytes.Count(out, []byte("'Germany'")); n != 1 {
		t.Errorf("the dump holds %d copies of a reference row, want 1", n)
	}
	if _, err := db.ExecContext(ctx, "DROP TABLE users, orders, countries, settings"); err != nil {
		t.Fatal(err)
	}
	if _, err := run(cli, out, "shop"); err != nil {
		t.Fatalf("restoring through the proxy: %v", err)
	}
	// mysqlcheck's CHECK TABLE (which the TiDB grammar lacks) runs on every
	// shard, each answering for its part.
	check, err := run(lookTool(t, "mysqlcheck"), nil, "shop")
	if err != nil || bytes.Count(check, []byte("shop.users")) != 1 || bytes.Count(check, []byte("OK")) < 4 {
		t.Fatalf("mysqlcheck through the proxy: %v\n%s", err, check)
	}
	unsharded := slices.Index(f.db.Shards, f.db.Unsharded)
	for shard := range 2 {
		sdb := f.shardDB(t, shard)
		var want, got []int64
		for id := int64(1); id <= 7; id++ {
			if f.ownerOf(id) == shard {
				want = append(want, id)
			}
		}
		rows, err := sdb.QueryContext(ctx, "SELECT id FROM users ORDER BY id")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			got = append(got, id)
		}
		rows.Close()
		if !slices.Equal(got, want) {
			t.Errorf("shard %d holds users %v after the restore, want %v", shard, got, want)
		}
		var countries, settings int
		if err := sdb.QueryRowContext(ctx, "SELECT (SELECT COUNT(*) FROM countries), (SELECT COUNT(*) FROM settings)").Scan(&countries, &settings); err != nil {
			t.Fatal(err)
		}
		if countries != 2 {
			t.Errorf("shard %d holds %d countries, want both (a reference table)", shard, countries)
		}
		if want := map[bool]int{true: 1, false: 0}[shard == unsharded]; settings != want {
			t.Errorf("shard %d holds %d settings rows, want %d (unlisted: the unsharded shard only)", shard, settings, want)
		}
	}
}

// mysqldump --single-transaction reads every shard in one transaction:
// under multi_shard it dumps all rows (it starts before choosing a
// database, so what it runs first needs none).
func TestMysqldumpSingleTransaction(t *testing.T) {
	dump := lookTool(t, "mysqldump")
	f := startFixture(t, 0, func(c *topology.Config) { c.Databases[0].Transactions = string(topology.MultiShard) })
	db := f.open(t, nil)
	if _, err := db.ExecContext(t.Context(), "INSERT INTO users (id, name) VALUES (1, 'one'), (2, 'two'), (3, 'three'), (4, 'four')"); err != nil {
		t.Fatal(err)
	}
	out, err := exec.CommandContext(t.Context(), dump, mysqldumpArgs(f.addr, "--single-transaction", "--skip-add-locks", "shop")...).CombinedOutput()
	if err != nil {
		t.Fatalf("mysqldump --single-transaction: %v\n%s", err, out)
	}
	for _, name := range []string{"'one'", "'two'", "'three'", "'four'"} {
		if !bytes.Contains(out, []byte(name)) {
			t.Fatalf("the dump lacks %s:\n%s", name, out)
		}
	}
}

// LOCK TABLES holds its locks for the client, as MySQL does, until
// UNLOCK TABLES or until it leaves: a table not listed on the unsharded
// shard, a sharded table on every shard. They never stay on a pooled
// connection after the client is gone (they did: the table stayed locked
// for everyone).
func TestLockTablesHeldForTheClient(t *testing.T) {
	f := startFixture(t, 0)
	ctx := t.Context()
	pool := f.open(t, nil)
	pool.SetMaxIdleConns(0) // a closed sql.Conn closes its network connection
	unsharded := slices.Index(f.db.Shards, f.db.Unsharded)
	// blocked reports whether a write to table on a shard waits for a
	// lock (another connection's, straight to the server).
	blocked := func(shard int, insert string) bool {
		t.Helper()
		c, err := f.shardDB(t, shard).Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.ExecContext(ctx, "SET SESSION lock_wait_timeout = 1"); err != nil {
			t.Fatal(err)
		}
		_, err = c.ExecContext(ctx, insert)
		var me *mysql.MySQLError
		if errors.As(err, &me) && me.Number == 1205 {
			return true
		}
		if err != nil {
			t.Fatal(err)
		}
		return false
	}
	setting := func(shard int) bool {
		return blocked(shard, "INSERT INTO settings VALUES (CONCAT('k', RAND()), 'v')")
	}
	user := func(shard int) bool {
		return blocked(shard, fmt.Sprintf("INSERT INTO users (id, name) VALUES (%d, 'direct')", 1000000+rand.Int63n(1000000)))
	}
	client := func() *sql.Conn {
		c, err := pool.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	a := client()
	run := func(c *sql.Conn, q string) {
		t.Helper()
		if _, err := c.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	run(a, "LOCK TABLES settings WRITE")
	run(a, "INSERT INTO settings VALUES ('mine', 'a')")
	if !setting(unsharded) {
		t.Fatal("the client's table lock is not held")
	}
	run(a, "UNLOCK TABLES")
	if setting(unsharded) {
		t.Fatal("the table is still locked after UNLOCK TABLES")
	}
	// A sharded table: locked on every shard; the client reads and writes
	// it there meanwhile.
	run(a, "LOCK TABLES users WRITE, settings READ")
	run(a, "INSERT INTO users (id, name) VALUES (1, 'one'), (2, 'two'), (3, 'three'), (4, 'four')")
	var n int
	if err := a.QueryRowContext(ctx, "SELECT COUNT(*) FROM users").Scan(&n); err != nil || n != 4 {
		t.Fatalf("reading the locked table over every shard: %d, %v", n, err)
	}
	for shard := range 2 {
		if !user(shard) {
			t.Fatalf("shard %d: users is not locked", shard)
		}
	}
	a.Close()
	deadline := time.Now().Add(10 * time.Second)
	for user(0) || user(1) || setting(unsharded) {
		if time.Now().After(deadline) {
			t.Fatal("the tables stay locked after their client left")
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Clients locking the same sharded table take the shards in one
	// order: they queue, they never deadlock across shards.
	lctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	errs := make(chan error, 3)
	for range 3 {
		go func() {
			c, err := pool.Conn(lctx)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			for range 20 {
				if _, err := c.ExecContext(lctx, "LOCK TABLES users WRITE"); err != nil {
					errs <- err
					return
				}
				if _, err := c.ExecContext(lctx, "UNLOCK TABLES"); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 3 {
		if err := <-errs; err != nil {
			t.Fatalf("concurrent LOCK TABLES: %v", err)
		}
	}
}

// START TRANSACTION READ ONLY may read from every shard under
// single_shard; the servers still refuse its writes, and a transaction
// not declared so stays on one shard.
func TestReadOnlyTransactionSpansShards(t *testing.T) {
	ctx := t.Context()
	c := fourUsersSession(t)
	if _, err := c.ExecContext(ctx, "START TRANSACTION READ ONLY"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := c.QueryRowContext(ctx, "SELECT COUNT(*) FROM users").Scan(&n); err != nil || n != 4 {
		t.Fatalf("count over every shard in a read-only transaction: %d, %v", n, err)
	}
	if _, err := c.ExecContext(ctx, "UPDATE users SET name = 'x' WHERE id = 1"); err == nil {
		t.Fatal("a write in a read-only transaction succeeded")
	}
	if _, err := c.ExecContext(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ExecContext(ctx, "START TRANSACTION"); err != nil {
		t.Fatal(err)
	}
	_, err := c.ExecContext(ctx, "SELECT COUNT(*) FROM users")
	var me *mysql.MySQLError
	if !errors.As(err, &me) || me.Number != 1235 {
		t.Fatalf("a read-write transaction over every shard under single_shard: %v, want 1235", err)
	}
	if _, err := c.ExecContext(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
}

// A session whose SETs make its transactions READ ONLY (SET SESSION
// TRANSACTION READ ONLY, tx_read_only; SET TRANSACTION READ ONLY for the next one) may read from
// every shard in a plain START TRANSACTION, or with autocommit off, under
// single_shard, and no shard takes a write; READ WRITE, DEFAULT or a
// transaction after the one-shot form end it.
func TestSessionReadOnlyDefault(t *testing.T) {
	ctx := t.Context()
	c := fourUsersSession(t)
	exec := func(sql string) {
		t.Helper()
		if _, err := c.ExecContext(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	// spans reports whether a transaction begun by begin may count the
	// users of every shard; it fails the test if a write goes through.
	spans := func(begin string) bool {
		t.Helper()
		exec(begin)
		defer exec("ROLLBACK")
		var n int
		err := c.QueryRowContext(ctx, "SELECT COUNT(*) FROM users").Scan(&n)
		var me *mysql.MySQLError
		if errors.As(err, &me) && me.Number == 1235 {
			return false
		}
		if err != nil || n != 4 {
			t.Fatalf("%s: count over every shard: %d, %v", begin, n, err)
		}
		for id := 1; id <= 4; id++ { // one of them on the shard the transaction started on
			if _, err := c.ExecContext(ctx, "UPDATE users SET name = 'x' WHERE id = ?", id); err == nil {
				t.Fatalf("%s: a write of user %d in a read-only transaction went through", begin, id)
			}
		}
		return true
	}
	steps := []struct {
		set, begin string
		want       bool
	}{
		{"SET SESSION TRANSACTION READ ONLY", "START TRANSACTION", true},
		{"SET SESSION TRANSACTION READ WRITE", "START TRANSACTION", false},
		{"SET @@session.tx_read_only = 1", "BEGIN", true},
		{"SET SESSION tx_read_only = DEFAULT", "BEGIN", false},
		{"SET TRANSACTION READ ONLY", "START TRANSACTION", true}, // the next transaction only:
		{"SET @x = 1", "START TRANSACTION", false},               // not this one
		{"SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", "SET autocommit = 0", true},
	}
	for _, st := range steps {
		exec(st.set)
		if got := spans(st.begin); got != st.want {
			t.Errorf("after %s, %s: may read every shard: %v, want %v", st.set, st.begin, got, st.want)
		}
	}
}

// fourUsersSession is one client session of a fixture whose users 1-4
// are spread over both shards.
func fourUsersSession(t *testing.T) *sql.Conn {
	t.Helper()
	f := startFixture(t, 0)
	db := f.open(t, nil)
	if _, err := db.ExecContext(t.Context(), "INSERT INTO users (id, name) VALUES (1, 'one'), (2, 'two'), (3, 'three'), (4, 'four')"); err != nil {
		t.Fatal(err)
	}
	c, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}
