package pgserver

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/shardgate/shardgate/router"
	"github.com/shardgate/shardgate/topology"
	"github.com/shardgate/shardgate/topology/localcluster"
)

// answer is what a simple-protocol Query returned, as text: column names
// and types, rows, command tag, or the error.
func answer(t *testing.T, conn *pgconn.PgConn, sql string) string {
	t.Helper()
	results, err := conn.Exec(t.Context(), sql).ReadAll()
	if err != nil {
		var pe *pgconn.PgError
		if !errors.As(err, &pe) {
			t.Fatalf("%s: %v", sql, err)
		}
		return "ERROR " + pe.Code + ": " + pe.Message
	}
	var b strings.Builder
	for _, r := range results {
		for _, f := range r.FieldDescriptions {
			fmt.Fprintf(&b, "%s:%d ", f.Name, f.DataTypeOID)
		}
		for _, row := range r.Rows {
			b.WriteString("|")
			for _, v := range row {
				if v == nil {
					b.WriteString(" NULL")
				} else {
					fmt.Fprintf(&b, " %q", v)
				}
			}
		}
		fmt.Fprintf(&b, " [%s]", r.CommandTag)
	}
	return b.String()
}

// Simple-protocol statements that run as prepared shapes answer exactly
// as their Query does on the server itself: the same column names and
// types, values, command tags and errors, on the first run (text), the
// second (the shape is tried) and after (prepared).
func TestPreparedShapesAnswerAsTheQuery(t *testing.T) {
	f := startFixture(t)
	ctx := t.Context()
	proxy := f.connect(t).PgConn()
	direct := f.direct(t, 0).PgConn()
	for _, sql := range []string{
		"INSERT INTO countries (code, name) VALUES ('fr', 'France'), ('de', 'Germany')",
		"INSERT INTO users (id, name, country) VALUES (1, 'a', 'fr'), (2, 'b', 'de'), (3, 'it''s', 'fr')",
	} {
		if _, err := proxy.Exec(ctx, sql).ReadAll(); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.cluster.WaitReplicated(ctx); err != nil {
		t.Fatal(err)
	}
	type verdict int
	const (
		prepares  verdict = iota
		asText            // its Parse or Bind fails: runs as written
		notShaped         // a literal that is never bound
	)
	cases := []struct {
		sql  string
		want verdict
	}{
		{"SELECT 1", prepares},
		{"SELECT -2147483648, 2147483648, -9223372036854775808, 9223372036854775808", prepares},
		{"SELECT 1.50, 1e3, .5, 1/2, 7 % 3, 2 ^ 10", prepares},
		{"SELECT 'abc', 'abc' AS named", prepares}, // resolved to text, as the literal is
		{"SELECT 'a' || 'b'", prepares},
		{"SELECT length('abc'), upper('x'), 'x' LIKE 'x%'", prepares},
		{`SELECT '{"a": 1}'::jsonb -> 'a'`, prepares},
		{"SELECT $$x'y$$ || 'z'", prepares},
		{`SELECT E'a\nb' = 'a' || chr(10) || 'b'`, notShaped},
		{"SELECT B'101', X'1F'", notShaped},
		{"SELECT CASE WHEN 1 = 1 THEN 'yes' ELSE 'no' END", prepares},
		{"SELECT ARRAY[1, 2] || 3, '{4,5}'::int[]", prepares},
		{"SELECT '2024-01-31'::date + 1, DATE '2024-01-31', interval '1 day'", prepares},
		{"SELECT 1 UNION SELECT 2 ORDER BY 1", prepares},
		{"VALUES (1, 'a'), (2.5, 'b')", prepares},
		{"SELECT code, name FROM countries WHERE code = 'fr'", prepares},
		{"SELECT name FROM countries WHERE code IN ('fr', 'de') ORDER BY 1", prepares},
		{"SELECT name FROM countries WHERE code = 'zz'", prepares},
		{"SELECT code FROM countries WHERE name = 'France' LIMIT 1 OFFSET 0", prepares},
		{"SELECT 'x' IS NULL, count('y')", asText}, // its parameters would have no type: the Parse fails
		{"SELECT 'x' = 1", asText},                 // an error either way, the same one
		{"SELECT * FROM countries WHERE code = 7", asText},
		{"SELECT 1::int + 'abc'", asText}, // fails at Bind (bad input): the text fails alike
		{"SELECT nosuch FROM countries WHERE code = 'fr'", asText},
	}
	for _, c := range cases {
		want := answer(t, direct, c.sql)
		for run := range 3 {
			if got := answer(t, proxy, c.sql); got != want {
				t.Errorf("%s, run %d through the proxy:\n got %s\nwant %s", c.sql, run+1, got, want)
			}
		}
	}
	// What each shape turned out to be (white box: the server's book).
	for _, c := range cases {
		plan, err := f.srv.router.Route(router.Request{DB: f.db, SQL: c.sql})
		if err != nil {
			t.Fatalf("%s: %v", c.sql, err)
		}
		key := []byte(plan.Shape)
		for _, sl := range plan.Slots {
			oid, _ := literalType(sl)
			key = binary.BigEndian.AppendUint32(append(key, 0), oid)
		}
		f.srv.shapes.mu.RLock()
		v := f.srv.shapes.m[string(key)]
		f.srv.shapes.mu.RUnlock()
		switch {
		case c.want == prepares && v != shapeGood,
			c.want != prepares && v == shapeGood:
			t.Errorf("%s: shape %q is %v", c.sql, plan.Shape, v)
		}
	}

	// Writes: one shard each, the strings unescaped exactly once.
	for run, id := range []int64{11, 12, 13} {
		for _, sql := range []string{
			fmt.Sprintf("INSERT INTO users (id, name, country) VALUES (%d, 'o''hara %d', $$de$$)", id, run),
			fmt.Sprintf("UPDATE users SET name = name || '!' WHERE id = %d", id),
			fmt.Sprintf("DELETE FROM users WHERE id = %d AND name = 'nobody'", id),
		} {
			if _, err := proxy.Exec(ctx, sql).ReadAll(); err != nil {
				t.Fatalf("%s: %v", sql, err)
			}
		}
		var name, country string
		if err := f.direct(t, f.shardOf(id)).QueryRow(ctx, "SELECT name, country FROM users WHERE id = $1", id).Scan(&name, &country); err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("o'hara %d!", run); name != want || country != "de" {
			t.Errorf("user %d on its shard: %q, %q; want %q, \"de\"", id, name, country, want)
		}
	}
	tags := answer(t, proxy, "UPDATE users SET name = 'x' WHERE id = 11")
	if !strings.HasSuffix(tags, "[UPDATE 1]") {
		t.Errorf("UPDATE answered %s", tags)
	}
}

// A shape not yet proven is not tried in a transaction (a failed Parse
// would abort it), and a plan gone stale after DDL is parsed again
// instead of failing the statement.
func TestPreparedShapesInTransactionsAndAfterDDL(t *testing.T) {
	c := startCluster(t, localcluster.Options{ReplicasPerShard: localcluster.NoReplicas})
	f := serveProxy(t, c, Options{}, func(c *topology.Config) { c.Databases[0].Pool.MaxPerBackend = 1 })
	proxy := f.connect(t).PgConn()
	run := func(sql string) string {
		t.Helper()
		got := answer(t, proxy, sql)
		if strings.HasPrefix(got, "ERROR") {
			t.Fatalf("%s: %s", sql, got)
		}
		return got
	}
	// This shape's Parse fails ($1 IS NULL: no type to infer); in a
	// transaction that would abort it, so it is not tried there.
	run("BEGIN")
	for range 3 {
		run("SELECT 'in a transaction' IS NULL")
	}
	run("COMMIT")

	run("CREATE TABLE notes (id bigint PRIMARY KEY, body text)")
	run("INSERT INTO notes VALUES (1, 'a')")
	for range 3 {
		run("SELECT * FROM notes WHERE id = 1")
	}
	run("ALTER TABLE notes ADD COLUMN extra int DEFAULT 5")
	for range 2 {
		if got, want := run("SELECT * FROM notes WHERE id = 1"), `id:20 body:25 extra:23 | "1" "a" "5" [SELECT 1]`; got != want {
			t.Fatalf("after ALTER TABLE: %s, want %s", got, want)
		}
	}
}

// Each backend connection keeps at most maxStatementsPerConn shapes
// prepared, closing the oldest.
func TestPreparedShapesPerConnectionBound(t *testing.T) {
	old := maxStatementsPerConn
	maxStatementsPerConn = 5
	t.Cleanup(func() { maxStatementsPerConn = old })
	c := startCluster(t, localcluster.Options{ReplicasPerShard: localcluster.NoReplicas})
	f := serveProxy(t, c, Options{}, func(c *topology.Config) { c.Databases[0].Pool.MaxPerBackend = 1 })
	proxy := f.connect(t).PgConn()
	var shapes []string
	for i := range 12 {
		sql := fmt.Sprintf("SELECT /* shard=-80 */ 1 AS c%d", i)
		for range 3 {
			answer(t, proxy, sql)
		}
		shapes = append(shapes, strings.Replace(sql, "1", "$1", 1))
	}
	got := answer(t, proxy, "SELECT /* shard=-80 */ statement FROM pg_prepared_statements ORDER BY statement")
	var held []string
	for _, s := range shapes {
		if strings.Contains(got, fmt.Sprintf("%q", s)) {
			held = append(held, s)
		}
	}
	if want := shapes[len(shapes)-5:]; !slices.Equal(held, want) {
		t.Errorf("the connection holds %q\nwant the newest five %q", held, want)
	}
}
