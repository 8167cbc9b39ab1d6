package myserver

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/shardgate/shardgate/topology"
)

const blobSchema = `CREATE TABLE blobs (k VARCHAR(3000) CHARACTER SET latin1 NOT NULL, id BIGINT, body LONGBLOB)`

// TestStmtLongData: go-sql-driver sends a []byte or string argument at
// least maxAllowedPacket/(params+1) long with COM_STMT_SEND_LONG_DATA
// before the execute. The whole value lands on the right shard, also when
// the long value is the sharding key itself.
func TestStmtLongData(t *testing.T) {
	f := startFixture(t, 0, func(c *topology.Config) {
		c.Databases[0].Tables["blobs"] = topology.TableRule{Key: "k", Type: "string"}
	})
	for _, sh := range f.cluster.Shards {
		if err := f.cluster.Exec(t.Context(), sh.Primary, blobSchema); err != nil {
			t.Fatal(err)
		}
	}
	// 4096/(3+1): arguments of 1024 bytes and more go as long data, in
	// chunks of at most 4 kB.
	var mu sync.Mutex
	var writes [][]byte
	network := "sgtest-record-" + t.Name()
	mysql.RegisterDialContext(network, func(ctx context.Context, addr string) (net.Conn, error) {
		nc, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, err
		}
		return recordingConn{nc, &mu, &writes}, nil
	})
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName = "app", "app-secret", network, f.addr, "shop"
	cfg.InterpolateParams, cfg.MaxAllowedPacket = false, 4096
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	body := make([]byte, 300<<10)
	rand.Read(body)
	cases := []struct {
		key  string
		body []byte
	}{
		{"short-key", body},                          // long body
		{strings.Repeat("k", 2000) + "1", body[:10]}, // long key
		{strings.Repeat("q", 1500) + "2", body[5:]},  // both long
		{"empty-body", []byte{}},
	}
	ins, err := db.Prepare("INSERT INTO blobs (k, id, body) VALUES (?, ?, ?)")
	if err != nil {
		t.Fatal(err)
	}
	defer ins.Close()
	for i, c := range cases {
		if _, err := ins.Exec(c.key, i, c.body); err != nil {
			t.Fatalf("case %d: insert: %v", i, err)
		}
	}
	// The driver did send long data (each packet is one write: a 4-byte
	// header, then the command byte).
	mu.Lock()
	longPackets := 0
	for _, w := range writes {
		if len(w) > 4 && w[4] == comStmtSendLong {
			longPackets++
		}
	}
	mu.Unlock()
	if longPackets < 300<<10/4096 {
		t.Fatalf("go-sql-driver sent %d COM_STMT_SEND_LONG_DATA packets: the test does not test long data", longPackets)
	}
	sel, err := db.Prepare("SELECT id, body FROM blobs WHERE k = ?")
	if err != nil {
		t.Fatal(err)
	}
	defer sel.Close()
	for i, c := range cases {
		owner := f.db.ShardIndex(topology.StringKeyspaceID(c.key))
		for s := range f.cluster.Shards {
			var n int64
			var sum sql.NullString
			err := f.shardDB(t, s).QueryRow("SELECT COUNT(*), SHA2(MAX(body), 256) FROM blobs WHERE id = ?", i).Scan(&n, &sum)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case s != owner && n != 0:
				t.Errorf("case %d: row on shard %d, which does not own key %.20q...", i, s, c.key)
			case s == owner && n != 1:
				t.Errorf("case %d: %d rows on the owning shard %d, want 1", i, n, s)
			case s == owner && sum.String != sha256hex(c.body):
				t.Errorf("case %d: body on the shard differs from the %d bytes sent", i, len(c.body))
			}
		}
		var id int
		var got []byte
		if err := sel.QueryRow(c.key).Scan(&id, &got); err != nil {
			t.Errorf("case %d: read back by key through the proxy: %v", i, err)
		} else if id != i || !bytes.Equal(got, c.body) {
			t.Errorf("case %d: read back id %d and %d bytes, want %d and %d bytes", i, id, len(got), i, len(c.body))
		}
	}
}

func sha256hex(b []byte) string {
	const hexdigits = "0123456789abcdef"
	s := sha256.Sum256(b)
	out := make([]byte, 0, 64)
	for _, x := range s {
		out = append(out, hexdigits[x>>4], hexdigits[x&15])
	}
	return string(out)
}

// TestStmtManyKeys: one statement prepared once and executed 100 times
// with different keys puts each row on its own shard.
func TestStmtManyKeys(t *testing.T) {
	f := startFixture(t, 0)
	db := f.open(t, map[string]string{"interpolateParams": "false"})
	db.SetMaxOpenConns(1) // one client session, one prepared statement
	ins, err := db.Prepare("INSERT INTO users (id, name, score) VALUES (?, ?, ?)")
	if err != nil {
		t.Fatal(err)
	}
	defer ins.Close()
	sel, err := db.Prepare("SELECT name, score FROM users WHERE id = ?")
	if err != nil {
		t.Fatal(err)
	}
	defer sel.Close()
	perShard := make([]int64, len(f.cluster.Shards))
	for i := range int64(100) {
		id := 50000 + i*7919
		if _, err := ins.Exec(id, "n"+itoa(id), i); err != nil {
			t.Fatalf("execute %d: %v", i, err)
		}
		perShard[f.ownerOf(id)]++
		var name string
		var score int64
		if err := sel.QueryRow(id).Scan(&name, &score); err != nil || name != "n"+itoa(id) || score != i {
			t.Fatalf("read back %d: %q %d %v", id, name, score, err)
		}
	}
	for s, want := range perShard {
		sdb := f.shardDB(t, s)
		if n := queryInt(t, sdb, "SELECT COUNT(*) FROM users WHERE id >= 50000"); n != want {
			t.Errorf("shard %d has %d rows, want %d", s, n, want)
		}
		// Every row on the shard is one the shard owns.
		rows := queryStrings(t, sdb, "SELECT id FROM users WHERE id >= 50000")
		for _, r := range rows {
			var id int64
			for _, ch := range r {
				id = id*10 + int64(ch-'0')
			}
			if f.ownerOf(id) != s {
				t.Errorf("id %d is on shard %d, owner is %d", id, s, f.ownerOf(id))
			}
		}
	}
}

// TestStmtBackendKilled: the server kills the proxy's backend connection
// (KILL from another session) between two executes of a prepared
// statement. The next execute may fail once, with the proxy's 1105 naming
// the backend (a write) or be retried (a read); after that the proxy has a
// fresh connection, prepares the statement there and answers. A write that
// failed was not applied.
func TestStmtBackendKilled(t *testing.T) {
	f := startFixture(t, 0, func(c *topology.Config) { c.Databases[0].Pool.MaxPerBackend = 1 })
	db := f.open(t, map[string]string{"interpolateParams": "false"})
	key := f.keysOnEachShard()[1]
	addr := f.cluster.Shards[1].Primary.Addr
	mustExec(t, db, "INSERT INTO users (id, name, score) VALUES (?, 'victim', 0)", key)
	c := conn(t, db)
	prepare := func(q string) *sql.Stmt {
		st, err := c.PrepareContext(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	read := prepare("SELECT name FROM users WHERE id = ?")
	write := prepare("UPDATE users SET score = score + 1 WHERE id = ?")
	applied := int64(0)
	run := func(st *sql.Stmt) error {
		if st == write {
			_, err := st.ExecContext(t.Context(), key)
			if err == nil {
				applied++
			}
			return err
		}
		var name string
		err := st.QueryRowContext(t.Context(), key).Scan(&name)
		if err == nil && name != "victim" {
			t.Fatalf("read %q", name)
		}
		return err
	}
	for _, st := range []*sql.Stmt{read, write} {
		if err := run(st); err != nil {
			t.Fatalf("before the kill: %v", err)
		}
	}
	// One direct connection: every other connection of the user on that
	// shard is the proxy's.
	direct, err := sql.Open("mysql", f.cluster.DSN(f.cluster.Shards[1].Primary))
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Close()
	direct.SetMaxOpenConns(1)
	for round, st := range []*sql.Stmt{read, write, read, write} {
		// A connection killed in the previous round may linger in the
		// process list for a moment while the server tears it down.
		var ids []string
		for deadline := time.Now().Add(10 * time.Second); ; {
			ids = queryStrings(t, direct, "SELECT ID FROM information_schema.PROCESSLIST WHERE USER = ? AND ID <> CONNECTION_ID() AND COMMAND <> 'Killed'", f.cluster.Options.User)
			if len(ids) == 1 || time.Now().After(deadline) {
				break
			}
		}
		if len(ids) != 1 {
			t.Fatalf("round %d: the proxy has %d connections to the shard (%v), want 1 (pool of one)", round, len(ids), ids)
		}
		mustExec(t, direct, "KILL CONNECTION "+ids[0])
		if err := run(st); err != nil {
			t.Logf("round %d: first execute after the kill: %v", round, err)
			var me *mysql.MySQLError
			if !errors.As(err, &me) || me.Number != erUnknown || !strings.Contains(me.Message, addr) {
				t.Errorf("round %d: first execute after the kill: %v; want error %d naming %s", round, err, erUnknown, addr)
			}
			if err := run(st); err != nil {
				t.Fatalf("round %d: second execute after the kill: %v", round, err)
			}
		}
		for _, st := range []*sql.Stmt{read, write, read} {
			if err := run(st); err != nil {
				t.Fatalf("round %d: later execute: %v", round, err)
			}
		}
	}
	if n := queryInt(t, direct, "SELECT score FROM users WHERE id = ?", key); n != applied {
		t.Errorf("score %d on the shard, but %d updates succeeded", n, applied)
	}
}

// go-sql-driver without interpolateParams prepares, executes and closes
// every query with arguments: the same text is prepared again and again
// on the same server connection, and each older server statement must be
// closed, or they pile up until max_prepared_stmt_count (16382) and the
// server refuses every PREPARE.
func TestRepeatedPrepareDoesNotPileUpOnTheServer(t *testing.T) {
	f := startFixture(t, 0, func(c *topology.Config) { c.Databases[0].Pool.MaxPerBackend = 1 })
	db := f.open(t, map[string]string{"interpolateParams": "false"})
	mustExec(t, db, "INSERT INTO users (id, name) VALUES (1, 'one')")
	count := func() int64 { return f.globalStatus(t, "Prepared_stmt_count") } // PREPARE runs on one shard, EXECUTE on the row's
	before := count()
	for range 300 {
		var name string
		if err := db.QueryRow("SELECT name FROM users WHERE id = ?", 1).Scan(&name); err != nil || name != "one" {
			t.Fatalf("point read: %q %v", name, err)
		}
	}
	if after := count(); after-before > 5 {
		t.Fatalf("300 prepare/execute/close rounds left %d more statements prepared on the server", after-before)
	}
}

// A client keeps at most maxSessionStatements statements prepared: the
// next PREPARE gets MySQL's own error for the limit, and closing one
// makes room.
func TestStmtPerClientLimit(t *testing.T) {
	old := maxSessionStatements
	maxSessionStatements = 10
	t.Cleanup(func() { maxSessionStatements = old })
	f := startFixture(t, 0)
	db := f.open(t, map[string]string{"interpolateParams": "false"})
	db.SetMaxOpenConns(1) // one client session
	var stmts []*sql.Stmt
	for i := range 10 {
		st, err := db.Prepare("SELECT ? + " + itoa(int64(i)))
		if err != nil {
			t.Fatalf("statement %d: %v", i, err)
		}
		stmts = append(stmts, st)
	}
	_, err := db.Prepare("SELECT ? + 10")
	var me *mysql.MySQLError
	if !errors.As(err, &me) || me.Number != 1461 {
		t.Fatalf("statement 11 of a limit of 10: %v, want 1461", err)
	}
	stmts[0].Close()
	st, err := db.Prepare("SELECT ? + 10")
	if err != nil {
		t.Fatalf("after closing one: %v", err)
	}
	var n int64
	if err := st.QueryRow(5).Scan(&n); err != nil || n != 15 {
		t.Fatalf("the new statement: %d %v", n, err)
	}
	for _, s := range append(stmts[1:], st) {
		s.Close()
	}
}
