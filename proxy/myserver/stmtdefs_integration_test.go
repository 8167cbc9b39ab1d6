package myserver

import (
	"bytes"
	"testing"
	"time"

	"github.com/shardgate/shardgate/proxy/mysqlwire"
	"github.com/shardgate/shardgate/topology"
)

// rawPrepare sends COM_STMT_PREPARE on a raw client connection to the
// proxy and returns the answer: the PREPARE OK and the definition
// packets; the statement is closed again.
func rawPrepare(t *testing.T, c *backendConn, sql string) (mysqlwire.PrepareOK, [][]byte) {
	t.Helper()
	if err := c.send(append([]byte{comStmtPrepare}, sql...)); err != nil {
		t.Fatal(err)
	}
	p, err := c.ReadPacket()
	if err != nil || mysqlwire.IsErr(p) {
		t.Fatalf("PREPARE %s: %v %q", sql, err, p)
	}
	ok, err := mysqlwire.ParsePrepareOK(p)
	if err != nil {
		t.Fatal(err)
	}
	var defs [][]byte
	for _, n := range []int{int(ok.Params), int(ok.Columns)} {
		for i := 0; n > 0 && i <= n; i++ {
			p, err := c.ReadPacket()
			if err != nil {
				t.Fatal(err)
			}
			defs = append(defs, append([]byte(nil), p...))
		}
	}
	if err := c.closeStmt(ok.StatementID); err != nil {
		t.Fatal(err)
	}
	return ok, defs
}

// COM_STMT_PREPARE of a text already seen is answered by the proxy (no
// server round trip), with the same answer; a session with other
// settings (SET NAMES) gets its own, and DDL through the proxy makes the
// next PREPARE ask a server again.
func TestPrepareAnsweredFromKeptDefinitions(t *testing.T) {
	f := startFixture(t, 0)
	ctx := t.Context()
	dial := func() *backendConn {
		c, err := dialBackend(ctx, f.addr, topology.Backend{User: "app", Password: "app-secret", Database: "shop"}, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	prepares := func() int64 { return f.globalStatus(t, "Com_stmt_prepare") }
	const text = "SELECT id, name FROM users WHERE id = ?"
	a := dial()
	before := prepares()
	firstOK, first := rawPrepare(t, a, text)
	for range 50 {
		ok, defs := rawPrepare(t, a, text)
		if ok.Params != firstOK.Params || ok.Columns != firstOK.Columns || len(defs) != len(first) {
			t.Fatalf("answer changed: %+v %d, first %+v %d", ok, len(defs), firstOK, len(first))
		}
		for i := range defs {
			if !bytes.Equal(defs[i], first[i]) {
				t.Fatalf("definition %d changed: %q, first %q", i, defs[i], first[i])
			}
		}
	}
	if n := prepares() - before; n > 1 {
		t.Errorf("51 PREPAREs of one text reached the servers %d times, want 1", n)
	}

	// Other settings, other column charsets: not the kept answer.
	b := dial()
	if _, err := b.Simple("SET NAMES latin1"); err != nil {
		t.Fatal(err)
	}
	_, latin := rawPrepare(t, b, text)
	if bytes.Equal(bytes.Join(latin, nil), bytes.Join(first, nil)) {
		t.Error("a latin1 session got the utf8mb4 session's definitions")
	}

	// DDL through the proxy: the next PREPARE asks a server.
	const star = "SELECT * FROM users WHERE id = ?"
	okBefore, _ := rawPrepare(t, a, star)
	if _, err := a.Simple("ALTER TABLE users ADD COLUMN extra INT"); err != nil {
		t.Fatal(err)
	}
	if okAfter, _ := rawPrepare(t, a, star); okAfter.Columns != okBefore.Columns+1 {
		t.Errorf("after ADD COLUMN the PREPARE answers %d columns, before %d", okAfter.Columns, okBefore.Columns)
	}
}
