package myserver

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/shardgate/shardgate/proxy/mysqlwire"
	"github.com/shardgate/shardgate/topology"
)

// conn pins one client connection of db (one proxy session).
func conn(t *testing.T, db *sql.DB) *sql.Conn {
	t.Helper()
	c, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func connExec(t *testing.T, c *sql.Conn, query string, args ...any) {
	t.Helper()
	if _, err := c.ExecContext(t.Context(), query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// connRow returns one row as "a|b|NULL".
func connRow(t *testing.T, c *sql.Conn, query string, args ...any) string {
	t.Helper()
	rows, err := c.QueryContext(t.Context(), query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	if !rows.Next() {
		t.Fatalf("%s: no row (%v)", query, rows.Err())
	}
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		t.Fatal(err)
	}
	line := ""
	for i, v := range vals {
		if i > 0 {
			line += "|"
		}
		if v.Valid {
			line += v.String
		} else {
			line += "NULL"
		}
	}
	return line
}

// keysOnEachShard returns one int key owned by each shard.
func (f *fixture) keysOnEachShard() []int64 {
	keys := make([]int64, len(f.cluster.Shards))
	found := 0
	for k := int64(1); found < len(keys); k++ {
		if i := f.ownerOf(k); keys[i] == 0 {
			keys[i] = k
			found++
		}
	}
	return keys
}

// rawClient logs in to the proxy with mysqlwire's client side, to send
// commands go-sql-driver never sends (COM_RESET_CONNECTION, COM_INIT_DB).
func (f *fixture) rawClient(t *testing.T, database string) (*mysqlwire.Backend, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	b, err := mysqlwire.DialBackend(ctx, mysqlwire.BackendConfig{Addr: f.addr, User: "app", Password: "app-secret", Database: database})
	if err == nil {
		t.Cleanup(func() { b.Close() })
	}
	return b, err
}

// rawCommand sends one command packet and returns the first answer packet.
func rawCommand(t *testing.T, b *mysqlwire.Backend, payload []byte) []byte {
	t.Helper()
	b.ResetSequence()
	if err := b.WritePacket(payload); err != nil {
		t.Fatal(err)
	}
	if err := b.Flush(); err != nil {
		t.Fatal(err)
	}
	p, err := b.ReadPacket()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func rawValue(t *testing.T, b *mysqlwire.Backend, query string) string {
	t.Helper()
	_, rows, err := b.Query(query)
	if err != nil || len(rows) != 1 {
		t.Fatalf("%s: %v (%d rows)", query, err, len(rows))
	}
	if rows[0][0] == nil {
		return "NULL"
	}
	return string(rows[0][0])
}

// TestSessionStateIsolation: with one backend connection per server, two
// clients take turns on the same backend connections; neither ever sees
// the other's user variables, sql_mode or character set, and each keeps
// its own.
func TestSessionStateIsolation(t *testing.T) {
	f := startFixture(t, 0, func(c *topology.Config) { c.Databases[0].Pool.MaxPerBackend = 1 })
	db := f.open(t, map[string]string{"interpolateParams": "true"})
	keys := f.keysOnEachShard()
	for _, k := range keys {
		mustExec(t, db, "INSERT INTO users (id, name) VALUES (?, 'u')", k)
	}
	a, b := conn(t, db), conn(t, db)
	const probe = "SELECT @x, @@sql_mode, @@character_set_client, @@character_set_results"
	defaults := connRow(t, b, probe)
	connExec(t, a, "SET @x = 42")
	connExec(t, a, "SET sql_mode = 'ANSI_QUOTES'")
	connExec(t, a, "SET NAMES latin1")
	wantA := "42|ANSI_QUOTES|latin1|latin1"
	queries := []struct {
		sql string
		key []any
	}{{probe, nil}} // no table: the unsharded shard
	for _, k := range keys { // with a key: each shard's one connection
		queries = append(queries, struct {
			sql string
			key []any
		}{probe + " FROM users WHERE id = ?", []any{k}})
	}
	for round := range 3 {
		for _, q := range queries {
			if got := connRow(t, b, q.sql, q.key...); got != defaults {
				t.Errorf("round %d: client B sees %q on %q %v, want the defaults %q", round, got, q.sql, q.key, defaults)
			}
			if got := connRow(t, a, q.sql, q.key...); got != wantA {
				t.Errorf("round %d: client A sees %q on %q %v, want its own %q", round, got, q.sql, q.key, wantA)
			}
		}
	}
	// A's settings took effect on the server, not just in the session:
	// under ANSI_QUOTES "name" is a column.
	if got := connRow(t, a, `SELECT "name" FROM users WHERE id = ?`, keys[0]); got != "u" {
		t.Errorf("ANSI_QUOTES on A: %q, want the column value u", got)
	}
	if got := connRow(t, b, `SELECT "name" FROM users WHERE id = ?`, keys[0]); got != "name" {
		t.Errorf("default sql_mode on B: %q, want the string 'name'", got)
	}
}

// TestSessionStateLeaksOutsideSET: state a statement other than SET
// leaves on a backend connection (user variables assigned by SELECT,
// temporary tables) must not reach the next client of that connection.
func TestSessionStateLeaksOutsideSET(t *testing.T) {
	f := startFixture(t, 0, func(c *topology.Config) { c.Databases[0].Pool.MaxPerBackend = 1 })
	db := f.open(t, map[string]string{"interpolateParams": "true"})
	a, b := conn(t, db), conn(t, db)
	connRow(t, a, "SELECT @leak1 := 7")
	// (SELECT ... INTO @v is refused by the proxy's parser: no leak there.)
	if got := connRow(t, b, "SELECT @leak1"); got != "NULL" {
		t.Errorf("client B sees A's user variable assigned by SELECT: %q, want NULL", got)
	}
	connExec(t, a, "CREATE TEMPORARY TABLE tmp_a (x INT)")
	_, err := b.ExecContext(t.Context(), "INSERT INTO tmp_a VALUES (1)")
	var me *mysql.MySQLError
	if !errors.As(err, &me) || me.Number != 1146 {
		t.Errorf("client B writing A's temporary table: %v, want error 1146 (no such table)", err)
	}
}

// TestSessionSetHistory: SET statements that build on earlier ones keep
// their meaning when the session's state is re-applied on a backend
// connection another client used in between (pool of one).
func TestSessionSetHistory(t *testing.T) {
	f := startFixture(t, 0, func(c *topology.Config) { c.Databases[0].Pool.MaxPerBackend = 1 })
	db := f.open(t, map[string]string{"interpolateParams": "true"})
	a, b := conn(t, db), conn(t, db)
	connExec(t, a, "SET @a = 1, @b = 2")
	connExec(t, a, "SET @a = 3")
	connExec(t, a, "SET @n = 1")
	connExec(t, a, "SET @n = @n + 1")
	connExec(t, a, "SET sql_mode = 'ANSI_QUOTES'")
	connExec(t, a, "SET sql_mode = CONCAT(@@sql_mode, ',PIPES_AS_CONCAT')")
	want := "3|2|2|PIPES_AS_CONCAT,ANSI_QUOTES"
	if got := connRow(t, a, "SELECT @a, @b, @n, @@sql_mode"); got != want {
		t.Fatalf("A before anyone else ran: %q, want %q", got, want)
	}
	connRow(t, b, "SELECT 1") // B takes the backend connection: it is reset
	if got := connRow(t, a, "SELECT @a, @b, @n, @@sql_mode"); got != want {
		t.Errorf("A after its state was re-applied: %q, want %q", got, want)
	}
}

// TestResetConnection: COM_RESET_CONNECTION forgets the session's
// variables and settings.
func TestResetConnection(t *testing.T) {
	f := startFixture(t, 0, func(c *topology.Config) { c.Databases[0].Pool.MaxPerBackend = 1 })
	raw, err := f.rawClient(t, "shop")
	if err != nil {
		t.Fatal(err)
	}
	defaultMode := rawValue(t, raw, "SELECT @@sql_mode")
	for _, q := range []string{"SET @x = 42", "SET sql_mode = 'ANSI_QUOTES'", "SET NAMES latin1"} {
		if _, err := raw.Simple(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if got := rawValue(t, raw, "SELECT CONCAT_WS('|', @x, @@sql_mode, @@character_set_client)"); got != "42|ANSI_QUOTES|latin1" {
		t.Fatalf("before reset: %q", got)
	}
	if p := rawCommand(t, raw, []byte{comResetConnection}); !mysqlwire.IsOK(p) {
		t.Fatalf("COM_RESET_CONNECTION answered % x", p)
	}
	want := "NULL|" + defaultMode + "|utf8mb4"
	if got := rawValue(t, raw, "SELECT CONCAT_WS('|', IFNULL(@x, 'NULL'), @@sql_mode, @@character_set_client)"); got != want {
		t.Errorf("after COM_RESET_CONNECTION: %q, want %q", got, want)
	}
}

// TestUseDatabase: USE and COM_INIT_DB of an unknown database are 1049,
// as is logging in with one; USE of a known one works.
func TestUseDatabase(t *testing.T) {
	f := startFixture(t, 0)
	db := f.open(t, nil)
	c := conn(t, db)
	var me *mysql.MySQLError
	_, err := c.ExecContext(t.Context(), "USE nosuch")
	if !errors.As(err, &me) || me.Number != 1049 {
		t.Errorf("USE nosuch: %v, want 1049", err)
	}
	connExec(t, c, "USE shop")
	connExec(t, c, "USE `shop`")
	if got := connRow(t, c, "SELECT COUNT(*) FROM users"); got != "0" {
		t.Errorf("after USE shop: %q", got)
	}

	raw, err := f.rawClient(t, "shop")
	if err != nil {
		t.Fatal(err)
	}
	p := rawCommand(t, raw, append([]byte{comInitDB}, "nosuch"...))
	if !mysqlwire.IsErr(p) || mysqlwire.ParseError(p).Code != 1049 {
		t.Errorf("COM_INIT_DB nosuch answered % x, want ERR 1049", p)
	}
	if p := rawCommand(t, raw, append([]byte{comInitDB}, "shop"...)); !mysqlwire.IsOK(p) {
		t.Errorf("COM_INIT_DB shop answered % x, want OK", p)
	}
	if got := rawValue(t, raw, "SELECT COUNT(*) FROM users"); got != "0" {
		t.Errorf("after COM_INIT_DB shop: %q", got)
	}

	// Unknown database at login: go-sql-driver and the raw client.
	bad, _ := sql.Open("mysql", dsnWithDB(f.addr, "nosuch"))
	defer bad.Close()
	if err := bad.Ping(); !errors.As(err, &me) || me.Number != 1049 {
		t.Errorf("login to database nosuch: %v, want 1049", err)
	}
	var we *mysqlwire.Error
	if _, err := f.rawClient(t, "nosuch"); !errors.As(err, &we) || we.Code != 1049 {
		t.Errorf("raw login to database nosuch: %v, want 1049", err)
	}
}

func dsnWithDB(addr, db string) string {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName = "app", "app-secret", "tcp", addr, db
	cfg.Timeout = 10 * time.Second
	return cfg.FormatDSN()
}

// TestMaxClients: the connection over the limit gets 1040, and a slot
// freed by a client that leaves is usable again.
func TestMaxClients(t *testing.T) {
	f := startFixture(t, 0)
	srv, err := New(f.srv.store, Options{MaxClients: 2})
	if err != nil {
		t.Fatal(err)
	}
	g := &fixture{addr: serveOn(t, srv)}
	// Separate handles: closing a *sql.Conn only returns it to its pool.
	db1, db2 := g.open(t, nil), g.open(t, nil)
	c1, c2 := conn(t, db1), conn(t, db2)
	for _, c := range []*sql.Conn{c1, c2} {
		if got := connRow(t, c, "SELECT 1"); got != "1" {
			t.Fatal(got)
		}
	}
	third, _ := sql.Open("mysql", g.dsn("app", "app-secret", nil))
	defer third.Close()
	err = third.Ping()
	var me *mysql.MySQLError
	if !errors.As(err, &me) || me.Number != 1040 {
		t.Fatalf("third client: %v, want 1040", err)
	}
	c1.Close()
	db1.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := third.Ping()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a freed slot was never reused: %v (proxy counts %d clients)", err, srv.Clients())
		}
		time.Sleep(20 * time.Millisecond) // polling, not synchronisation
	}
	if got := connRow(t, c2, "SELECT 2"); got != "2" {
		t.Fatal(got)
	}
}
