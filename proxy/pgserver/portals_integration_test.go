package pgserver

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/shardgate/shardgate/topology"
)

// protoConn speaks raw extended-protocol messages to the proxy over a
// logged-in pgx connection: what pgjdbc (setFetchSize) and postgres.js
// (cursors) send, which pgx itself never does.
type protoConn struct {
	t  *testing.T
	fe *pgproto3.Frontend
}

func newProtoConn(t *testing.T, f *fixture) *protoConn {
	conn, err := pgx.Connect(t.Context(), f.dsn("app", "app-secret"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return &protoConn{t: t, fe: conn.PgConn().Frontend()}
}

func (p *protoConn) send(msgs ...pgproto3.FrontendMessage) {
	p.t.Helper()
	for _, m := range msgs {
		p.fe.Send(m)
	}
	if err := p.fe.Flush(); err != nil {
		p.t.Fatal(err)
	}
}

// until reads messages up to one of type stop, returning the first
// column of the DataRows, a summary of the other messages (S for
// PortalSuspended, C:tag, E:code, Z:status) and the stop message's.
func (p *protoConn) until(stop ...string) (rows []string, got []string) {
	p.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		msg, err := p.fe.Receive()
		if err != nil {
			p.t.Fatal(err)
		}
		var kind string
		switch m := msg.(type) {
		case *pgproto3.DataRow:
			rows = append(rows, string(m.Values[0]))
			continue
		case *pgproto3.PortalSuspended:
			kind = "S"
		case *pgproto3.CommandComplete:
			kind = "C:" + string(m.CommandTag)
		case *pgproto3.ErrorResponse:
			kind = "E:" + m.Code
		case *pgproto3.ReadyForQuery:
			kind = "Z:" + string(m.TxStatus)
		default:
			continue // ParseComplete, BindComplete, RowDescription...
		}
		got = append(got, kind)
		for _, s := range stop {
			if strings.HasPrefix(kind, s) {
				return rows, got
			}
		}
	}
	p.t.Fatal("no answer in 10s")
	return nil, nil
}

// A row-limited Execute reads a portal in pieces: each Execute of it
// returns the next rows, inside a client transaction (pgjdbc's fetch
// size) and in a pipeline before Sync (postgres.js cursors), every row
// once. Outside a transaction, Sync ends the portal as on a server. A
// query that spans shards returns all its rows to the first Execute.
func TestProxyRowLimitedExecute(t *testing.T) {
	f := startFixture(t, func(c *topology.Config) { c.Databases[0].Transactions = "multi_shard" })
	ctx := t.Context()
	conn := f.connect(t)
	for _, k := range []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12} {
		if _, err := conn.Exec(ctx, "INSERT INTO users (id, name) VALUES ($1, 'u')", k); err != nil {
			t.Fatal(err)
		}
	}
	var shard0 []string
	for k := int64(1); k <= 12; k++ {
		if f.shardOf(k) == 0 {
			shard0 = append(shard0, fmt.Sprint(k))
		}
	}
	// One shard: the key list pins it. The shard holds len(shard0) rows.
	single := "SELECT id FROM users WHERE id IN (" + strings.Join(shard0, ", ") + ") ORDER BY id"
	if len(shard0) < 5 {
		t.Fatalf("only %d of 12 keys on shard 0", len(shard0))
	}
	p := newProtoConn(t, f)
	readInPieces := func(what string, sync bool) {
		t.Helper()
		var all []string
		for range 20 {
			msgs := []pgproto3.FrontendMessage{&pgproto3.Execute{Portal: "c1", MaxRows: 2}}
			if sync {
				msgs = append(msgs, &pgproto3.Sync{})
			} else {
				msgs = append(msgs, &pgproto3.Flush{})
			}
			p.send(msgs...)
			rows, got := p.until("S", "C", "E")
			if sync {
				_, z := p.until("Z")
				got = append(got, z...)
			}
			all = append(all, rows...)
			if len(rows) > 2 {
				t.Fatalf("%s: an Execute of 2 rows returned %d", what, len(rows))
			}
			if got[0] != "S" {
				if !strings.HasPrefix(got[0], "C:SELECT") {
					t.Fatalf("%s: %v", what, got)
				}
				break
			}
		}
		if strings.Join(all, ",") != strings.Join(shard0, ",") {
			t.Errorf("%s: read %v in pieces, want %v once each", what, all, shard0)
		}
	}

	// In a client transaction, each piece its own Sync (pgjdbc).
	p.send(&pgproto3.Query{String: "BEGIN"})
	p.until("Z")
	p.send(&pgproto3.Parse{Name: "s1", Query: single}, &pgproto3.Bind{DestinationPortal: "c1", PreparedStatement: "s1"})
	readInPieces("in a transaction", true)
	p.send(&pgproto3.Query{String: "COMMIT"})
	if _, got := p.until("Z"); got[len(got)-1] != "Z:I" {
		t.Errorf("COMMIT: %v", got)
	}

	// In a pipeline before Sync, outside a transaction (postgres.js).
	p.send(&pgproto3.Bind{DestinationPortal: "c1", PreparedStatement: "s1"})
	readInPieces("in a pipeline", false)
	p.send(&pgproto3.Sync{})
	if _, got := p.until("Z"); got[len(got)-1] != "Z:I" {
		t.Errorf("Sync after the pipeline: %v", got)
	}

	// Outside a transaction, Sync right after: the first rows, then the
	// portal is gone.
	p.send(&pgproto3.Bind{DestinationPortal: "c1", PreparedStatement: "s1"}, &pgproto3.Execute{Portal: "c1", MaxRows: 2}, &pgproto3.Sync{})
	rows, got := p.until("Z")
	if len(rows) != 2 || got[0] != "S" {
		t.Errorf("Execute of 2 rows then Sync: %v %v", rows, got)
	}
	p.send(&pgproto3.Execute{Portal: "c1", MaxRows: 2}, &pgproto3.Sync{})
	if rows, got := p.until("Z"); len(rows) != 0 || got[0] != "E:34000" {
		t.Errorf("Execute of a portal its Sync ended: %v %v, want error 34000 (not the first rows again)", rows, got)
	}

	// Across shards, in a transaction: every row to the first Execute.
	p.send(&pgproto3.Query{String: "BEGIN"})
	p.until("Z")
	p.send(&pgproto3.Parse{Name: "s2", Query: "SELECT id FROM users ORDER BY id"}, &pgproto3.Bind{DestinationPortal: "c2", PreparedStatement: "s2"},
		&pgproto3.Execute{Portal: "c2", MaxRows: 2}, &pgproto3.Sync{})
	rows, got = p.until("Z")
	if len(rows) != 12 || got[0] != "C:SELECT 12" {
		t.Errorf("row-limited Execute across shards: %d rows, %v; want all 12 and CommandComplete", len(rows), got)
	}
	p.send(&pgproto3.Query{String: "ROLLBACK"})
	p.until("Z")
}

// A cursor DECLAREd in SQL is a portal of that name on its server:
// psycopg describes its named cursors with a protocol Describe. In a
// transaction and, for a WITH HOLD cursor, outside one, the Describe goes
// to the connection that holds the cursor.
func TestProxyDescribeDeclaredCursor(t *testing.T) {
	f := startFixture(t)
	conn := f.connect(t)
	if _, err := conn.Exec(t.Context(), "INSERT INTO users (id, name) VALUES (1, 'one')"); err != nil {
		t.Fatal(err)
	}
	p := newProtoConn(t, f)
	describe := func(what, cursor string) {
		t.Helper()
		p.send(&pgproto3.Describe{ObjectType: 'P', Name: cursor}, &pgproto3.Sync{})
		deadline := time.Now().Add(10 * time.Second)
		var fields []string
		for time.Now().Before(deadline) {
			msg, err := p.fe.Receive()
			if err != nil {
				t.Fatal(err)
			}
			switch m := msg.(type) {
			case *pgproto3.RowDescription:
				for _, fd := range m.Fields {
					fields = append(fields, string(fd.Name))
				}
			case *pgproto3.ErrorResponse:
				t.Errorf("%s: Describe of cursor %s: %s %s", what, cursor, m.Code, m.Message)
			case *pgproto3.ReadyForQuery:
				if strings.Join(fields, ",") != "id,name" {
					t.Errorf("%s: Describe of cursor %s gave columns %v, want id,name", what, cursor, fields)
				}
				return
			}
		}
		t.Fatal("no answer")
	}
	simple := func(q string) {
		t.Helper()
		p.send(&pgproto3.Query{String: q})
		if _, got := p.until("Z"); slices.ContainsFunc(got, func(s string) bool { return strings.HasPrefix(s, "E:") }) {
			t.Fatalf("%s: %v", q, got)
		}
	}
	simple("BEGIN")
	simple("DECLARE c1 CURSOR FOR SELECT id, name FROM users WHERE id = 1")
	describe("in a transaction", "c1")
	p.send(&pgproto3.Query{String: "FETCH 5 FROM c1"})
	if rows, _ := p.until("Z"); len(rows) != 1 || rows[0] != "1" {
		t.Errorf("FETCH after the Describe: %v", rows)
	}
	simple("COMMIT")
	simple("DECLARE c2 CURSOR WITH HOLD FOR SELECT id, name FROM users WHERE id = 1")
	describe("WITH HOLD, outside a transaction", "c2")
	simple("CLOSE c2")
	p.send(&pgproto3.Describe{ObjectType: 'P', Name: "nosuch"}, &pgproto3.Sync{})
	if _, got := p.until("Z"); got[0] != "E:34000" {
		t.Errorf("Describe of an unknown portal: %v, want 34000", got)
	}
}

// In a transaction over several shards, FETCH, MOVE and CLOSE go to the
// shard their cursor was DECLAREd on, not to the one the transaction
// touched first.
func TestProxyCursorOnASecondShard(t *testing.T) {
	f := startFixture(t, func(c *topology.Config) { c.Databases[0].Transactions = "multi_shard" })
	ctx := t.Context()
	conn := f.connect(t)
	var a, b int64 = 1, 2
	for f.shardOf(b) == f.shardOf(a) {
		b++
	}
	for _, k := range []int64{a, b} {
		if _, err := conn.Exec(ctx, "INSERT INTO orders (id, user_id, total) VALUES (1, $1, 1), (2, $1, 2), (3, $1, 3)", k); err != nil {
			t.Fatal(err)
		}
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, fmt.Sprintf("UPDATE orders SET total = total WHERE user_id = %d", a)); err != nil {
		t.Fatal(err) // the transaction is pinned to a's shard
	}
	if _, err := tx.Exec(ctx, fmt.Sprintf("DECLARE c CURSOR FOR SELECT user_id, id FROM orders WHERE user_id = %d ORDER BY id", b)); err != nil {
		t.Fatal(err)
	}
	fetch := func(q string) []string {
		t.Helper()
		rows, err := tx.Query(ctx, q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		var got []string
		for rows.Next() {
			var user, id int64
			if err := rows.Scan(&user, &id); err != nil {
				t.Fatal(err)
			}
			got = append(got, fmt.Sprintf("%d/%d", user, id))
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return got
	}
	if got := fetch("FETCH 2 FROM c"); strings.Join(got, " ") != fmt.Sprintf("%d/1 %d/2", b, b) {
		t.Errorf("FETCH 2 FROM c: %v", got)
	}
	if _, err := tx.Exec(ctx, "MOVE BACKWARD 1 IN c"); err != nil {
		t.Errorf("MOVE: %v", err)
	}
	if got := fetch("FETCH ALL FROM c"); strings.Join(got, " ") != fmt.Sprintf("%d/2 %d/3", b, b) {
		t.Errorf("FETCH ALL after MOVE BACKWARD 1: %v", got)
	}
	if _, err := tx.Exec(ctx, "CLOSE c"); err != nil {
		t.Errorf("CLOSE: %v", err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}
