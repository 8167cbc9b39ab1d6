package pgserver

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/shardgate/shardgate/topology"
	"github.com/shardgate/shardgate/topology/localcluster"
)

// pgTool finds a PostgreSQL client program (pg_dump, psql).
func pgTool(t *testing.T, name string) string {
	t.Helper()
	p, err := localcluster.PostgresTool(name, "")
	if err != nil {
		t.Skip(err)
	}
	return p
}

// pg_dump through the proxy writes the logical database: the schema once,
// every shard's rows of a sharded table, one copy of a reference table.
// Restored through the proxy (psql -f, under the default single_shard
// mode), each row is back where its key hashes, reference rows on every
// shard, unlisted tables on the unsharded shard only.
func TestPgDumpRoundTrip(t *testing.T) {
	f := startFixture(t)
	ctx := t.Context()
	conn := f.connect(t)
	for _, sql := range []string{
		"INSERT INTO users (id, name) VALUES (1, 'one'), (2, 'two'), (3, 'three'), (4, 'four'), (5, 'five'), (6, 'six'), (7, 'seven')",
		"INSERT INTO countries VALUES ('DE', 'Germany'), ('FR', 'France')",
		"INSERT INTO settings VALUES ('theme', 'dark')",
		"CREATE SEQUENCE ticket_seq",
		"SELECT nextval('ticket_seq')",
	} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	dump, err := exec.CommandContext(ctx, pgTool(t, "pg_dump"), "--no-owner", f.dsn("app", "app-secret")).Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("pg_dump through the proxy: %v\n%s", err, stderr)
	}
	text := string(dump)
	if got := copyRows(text, "public.users"); len(got) != 7 {
		t.Errorf("dump holds %d users rows, want 7 (both shards'):\n%s", len(got), text)
	}
	if got := copyRows(text, "public.countries"); len(got) != 2 {
		t.Errorf("dump holds %d countries rows, want 2 (one copy)", len(got))
	}
	if strings.Count(text, "CREATE TABLE public.users") != 1 {
		t.Errorf("dump should create users once:\n%s", text)
	}

	if _, err := conn.Exec(ctx, "DROP TABLE users, orders, countries, settings; DROP SEQUENCE ticket_seq"); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "dump.sql")
	if err := os.WriteFile(file, dump, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.CommandContext(ctx, pgTool(t, "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", file, f.dsn("app", "app-secret")).CombinedOutput()
	if err != nil {
		t.Fatalf("restoring through the proxy: %v\n%s", err, out)
	}
	unsharded := slices.Index(f.db.Shards, f.db.Unsharded)
	for shard := range 2 {
		d := f.direct(t, shard)
		f.wantUsersOn(t, shard, 7)
		var countries, settings int
		if err := d.QueryRow(ctx, "SELECT (SELECT count(*) FROM countries), (SELECT count(*) FROM settings)").Scan(&countries, &settings); err != nil {
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

// wantUsersOn checks that a shard holds exactly the users 1..n whose id
// hashes to it.
func (f *fixture) wantUsersOn(t *testing.T, shard int, n int64) {
	t.Helper()
	var want []int64
	for id := int64(1); id <= n; id++ {
		if f.shardOf(id) == shard {
			want = append(want, id)
		}
	}
	if got := f.userIDs(t, shard); !slices.Equal(got, want) {
		t.Errorf("shard %d holds users %v after the restore, want %v", shard, got, want)
	}
}

// copyRows returns the data lines of a dump's COPY of table.
func copyRows(dump, table string) []string {
	_, rest, ok := strings.Cut(dump, "COPY "+table+" ")
	if !ok {
		return nil
	}
	_, rest, _ = strings.Cut(rest, "\n")
	data, _, _ := strings.Cut(rest, "\\.\n")
	return strings.Split(strings.TrimSuffix(data, "\n"), "\n")
}

// SELECT set_config(name, value, false) changes the session: a pooled
// server connection must not keep it for the next client, and the session
// keeps it on every connection it uses until RESET.
func TestSetConfigStaysInItsSession(t *testing.T) {
	f := startFixture(t, func(c *topology.Config) { c.Databases[0].Pool.MaxPerBackend = 1 })
	ctx := t.Context()
	a, b := f.connect(t), f.connect(t)
	show := func(c *pgx.Conn) string {
		t.Helper()
		var v string
		if err := c.QueryRow(ctx, "SHOW search_path").Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	def := show(b)
	if _, err := a.Exec(ctx, "SELECT pg_catalog.set_config('search_path', '', false)"); err != nil {
		t.Fatal(err)
	}
	for range 3 { // one server connection per shard: b gets a's
		if got := show(b); got != def {
			t.Fatalf("another client sees search_path %q after set_config, want %q", got, def)
		}
		if got := show(a); got != "" {
			t.Fatalf("the client that ran set_config sees search_path %q, want it empty", got)
		}
	}
	if _, err := a.Exec(ctx, "SELECT count(*) FROM users"); pgCode(err) != "42P01" {
		t.Fatalf("unqualified table with an empty search_path: %v, want 42P01", err)
	}
	if _, err := a.Exec(ctx, "RESET search_path"); err != nil {
		t.Fatal(err)
	}
	if got := show(a); got != def {
		t.Fatalf("after RESET: %q, want %q", got, def)
	}
	// Forms whose effect the proxy could not carry are refused.
	if _, err := a.Exec(ctx, "SELECT set_config('search_path', '', false) FROM users"); pgCode(err) != "0A000" {
		t.Errorf("set_config(..., false) inside a query over users: %v, want 0A000", err)
	}
	if got := show(b); got != def {
		t.Fatalf("another client sees search_path %q, want %q", got, def)
	}
	// With bound parameters, in every pgx mode: the value written in.
	for i, mode := range []pgx.QueryExecMode{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeExec, pgx.QueryExecModeDescribeExec, pgx.QueryExecModeSimpleProtocol} {
		want := fmt.Sprintf("it's \\ mode %d", i)
		var got string
		if err := a.QueryRow(ctx, "SELECT set_config($1, $2, $3)", mode, "application_name", want, false).Scan(&got); err != nil || got != want {
			t.Fatalf("mode %v: set_config with parameters answered %q, %v", mode, got, err)
		}
		for _, c := range []*pgx.Conn{a, a, b} { // b shares a's server connection
			var name string
			if err := c.QueryRow(ctx, "SHOW application_name").Scan(&name); err != nil {
				t.Fatal(err)
			}
			if (c == a) != (name == want) {
				t.Fatalf("mode %v: application_name %q seen by client a=%v", mode, name, c == a)
			}
		}
	}
}

// PREPARE/EXECUTE in SQL under transaction pooling: each client's
// statements are its own though they share one server connection, and
// EXECUTE routes by its arguments.
func TestSQLPrepareExecute(t *testing.T) {
	f := startFixture(t, func(c *topology.Config) { c.Databases[0].Pool.MaxPerBackend = 1 })
	ctx := t.Context()
	a, b := f.connect(t), f.connect(t)
	if _, err := a.Exec(ctx, "INSERT INTO users (id, name) VALUES (1, 'one'), (2, 'two'), (3, 'three')"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*pgx.Conn{a, b} {
		if _, err := c.Exec(ctx, "PREPARE byid(bigint) AS SELECT name FROM users WHERE id = $1"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.Exec(ctx, "PREPARE byid AS SELECT 1"); pgCode(err) != "42P05" {
		t.Errorf("PREPARE of an existing name: %v, want 42P05", err)
	}
	for round := range 2 {
		for i, c := range []*pgx.Conn{a, b, a} {
			for id, want := range map[int]string{1: "one", 2: "two", 3: "three"} {
				var name string
				if err := c.QueryRow(ctx, "EXECUTE byid("+string(rune('0'+id))+")").Scan(&name); err != nil || name != want {
					t.Fatalf("round %d client %d EXECUTE byid(%d): %q, %v; want %q", round, i, id, name, err, want)
				}
			}
		}
	}
	if _, err := a.Exec(ctx, "DEALLOCATE byid"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Exec(ctx, "EXECUTE byid(1)"); pgCode(err) != "26000" {
		t.Errorf("EXECUTE after DEALLOCATE: %v, want 26000", err)
	}
	var name string
	if err := b.QueryRow(ctx, "EXECUTE byid(2)").Scan(&name); err != nil || name != "two" {
		t.Fatalf("the other client's statement after the first's DEALLOCATE: %q, %v", name, err)
	}
	// After DDL that changes its columns, the statement prepared again
	// runs with the new ones (the servers' old plans are not reused).
	columns := func(c *pgx.Conn) int {
		t.Helper()
		rows, err := c.Query(ctx, "EXECUTE star(1)")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		n := len(rows.FieldDescriptions())
		for rows.Next() {
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if _, err := a.Exec(ctx, "PREPARE star(bigint) AS SELECT * FROM users WHERE id = $1"); err != nil {
		t.Fatal(err)
	}
	before := columns(a)
	if _, err := a.Exec(ctx, "ALTER TABLE users ADD COLUMN extra int"); err != nil {
		t.Fatal(err)
	}
	if err := f.cluster.WaitReplicated(ctx); err != nil { // the read goes to a replica
		t.Fatal(err)
	}
	if _, err := a.Exec(ctx, "DEALLOCATE star; PREPARE star(bigint) AS SELECT * FROM users WHERE id = $1"); err != nil {
		t.Fatal(err)
	}
	if got := columns(a); got != before+1 {
		t.Fatalf("after ALTER TABLE and a new PREPARE: %d columns, want %d", got, before+1)
	}
}

// A transaction declared READ ONLY may read from every shard under
// single_shard (pg_dump's); others may not, and it still cannot write.
func TestReadOnlyTransactionSpansShards(t *testing.T) {
	f := startFixture(t)
	ctx := t.Context()
	conn := f.connect(t)
	if _, err := conn.Exec(ctx, "INSERT INTO users (id, name) VALUES (1, 'one'), (2, 'two'), (3, 'three'), (4, 'four')"); err != nil {
		t.Fatal(err)
	}
	for _, begin := range []string{"BEGIN READ ONLY", "BEGIN; SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"} {
		if _, err := conn.Exec(ctx, begin); err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(ctx, "LOCK TABLE users IN ACCESS SHARE MODE"); err != nil {
			t.Fatalf("%s; LOCK TABLE users: %v", begin, err)
		}
		// The lock is held on every shard while the transaction runs.
		for shard := range 2 {
			var locks int
			err := f.direct(t, shard).QueryRow(ctx,
				"SELECT count(*) FROM pg_locks WHERE relation = 'users'::regclass AND mode = 'AccessShareLock' AND pid <> pg_backend_pid()").Scan(&locks)
			if err != nil || locks == 0 {
				t.Errorf("%s: shard %d holds %d locks on users (%v), want the transaction's", begin, shard, locks, err)
			}
		}
		var n int
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM users").Scan(&n); err != nil || n != 4 {
			t.Fatalf("%s: count over every shard: %d, %v", begin, n, err)
		}
		if _, err := conn.Exec(ctx, "UPDATE users SET name = 'x' WHERE id = 1"); err == nil {
			t.Fatalf("%s: a write succeeded", begin)
		}
		if _, err := conn.Exec(ctx, "ROLLBACK"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := conn.Exec(ctx, "BEGIN"); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "SELECT count(*) FROM users"); pgCode(err) != "0A000" {
		t.Fatalf("a read-write transaction over every shard under single_shard: %v, want 0A000", err)
	}
	if _, err := conn.Exec(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
}

// A session whose settings make its transactions READ ONLY (SET SESSION
// CHARACTERISTICS, default_transaction_read_only, also as a startup
// parameter, pgjdbc's readOnlyMode=always does so) may read from every
// shard in a plain BEGIN under single_shard, and no shard takes a write.
// A SET back to read write, a RESET, or a ROLLBACK of the SET, ends it.
func TestSessionReadOnlyDefault(t *testing.T) {
	f := startFixture(t)
	ctx := t.Context()
	conn := f.connect(t)
	if _, err := conn.Exec(ctx, "INSERT INTO users (id, name) VALUES (1, 'one'), (2, 'two'), (3, 'three'), (4, 'four')"); err != nil {
		t.Fatal(err)
	}
	// spans runs BEGIN; a count over every shard; a write; ROLLBACK. It
	// reports whether the count was allowed, and fails the test if the
	// write went through anywhere.
	spans := func(c *pgx.Conn, how string) bool {
		t.Helper()
		if _, err := c.Exec(ctx, "BEGIN"); err != nil {
			t.Fatal(err)
		}
		defer c.Exec(ctx, "ROLLBACK")
		var n int
		err := c.QueryRow(ctx, "SELECT count(*) FROM users").Scan(&n)
		if err != nil {
			if pgCode(err) != "0A000" {
				t.Fatalf("%s: %v", how, err)
			}
			return false
		}
		if n != 4 {
			t.Fatalf("%s: count over every shard %d, want 4", how, n)
		}
		for id := 1; id <= 4; id++ { // one of them on the shard the transaction started on
			_, err := c.Exec(ctx, "UPDATE users SET name = 'x' WHERE id = $1", id)
			if code := pgCode(err); code != "25006" && code != "0A000" {
				t.Fatalf("%s: a write in the read-only transaction: %v, want 25006 (server) or 0A000 (proxy)", how, err)
			}
			if _, err := c.Exec(ctx, "ROLLBACK; BEGIN"); err != nil {
				t.Fatal(err)
			}
		}
		return true
	}
	steps := []struct {
		sql       string
		readOnly  bool
		unchanged bool // the step runs in its own transaction, rolled back
	}{
		{"SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY", true, false},
		{"SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE", false, false},
		{"SET default_transaction_read_only = on", true, false},
		{"RESET default_transaction_read_only", false, false},
		{"SET default_transaction_read_only TO true", true, false},
		{"SET default_transaction_read_only = off", false, true},
		{"RESET ALL", false, false},
	}
	for _, st := range steps {
		if st.unchanged {
			for _, sql := range []string{"BEGIN", st.sql, "ROLLBACK"} {
				if _, err := conn.Exec(ctx, sql); err != nil {
					t.Fatalf("%s: %v", sql, err)
				}
			}
		} else if _, err := conn.Exec(ctx, st.sql); err != nil {
			t.Fatalf("%s: %v", st.sql, err)
		}
		want := st.readOnly
		if st.unchanged {
			want = !want // the rolled-back SET changed nothing
		}
		if got := spans(conn, "after "+st.sql); got != want {
			t.Errorf("after %s (unchanged=%v): a plain BEGIN may read every shard: %v, want %v", st.sql, st.unchanged, got, want)
		}
	}
	// The characteristics stay with their session: a client that gets the
	// server connection next has the server's defaults back (the proxy
	// once sent it RESET "session characteristics", which failed).
	if _, err := conn.Exec(ctx, "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL SERIALIZABLE, READ ONLY"); err != nil {
		t.Fatal(err)
	}
	var iso, ro string
	if err := conn.QueryRow(ctx, "SELECT current_setting('default_transaction_isolation'), current_setting('default_transaction_read_only')").Scan(&iso, &ro); err != nil || iso != "serializable" || ro != "on" {
		t.Fatalf("the session's characteristics: %q %q %v", iso, ro, err)
	}
	other := f.connect(t)
	if err := other.QueryRow(ctx, "SELECT current_setting('default_transaction_isolation'), current_setting('default_transaction_read_only')").Scan(&iso, &ro); err != nil || iso != "read committed" || ro != "off" {
		t.Fatalf("another client sees %q %q (%v), want the defaults", iso, ro, err)
	}
	if !spans(conn, "characteristics with an isolation level") {
		t.Error("SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL SERIALIZABLE, READ ONLY: a plain BEGIN may not read every shard")
	}
	cfg, err := pgx.ParseConfig(f.dsn("app", "app-secret"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.RuntimeParams = map[string]string{"default_transaction_read_only": "on"}
	startup, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer startup.Close(context.Background())
	if !spans(startup, "startup parameter") {
		t.Error("default_transaction_read_only=on in the startup packet: a plain BEGIN may not read every shard")
	}
}

// A multi-statement Query whose first statement needs every shard under
// single_shard runs statement by statement (it crashed the connection).
func TestMultiStatementStartingOnEveryShard(t *testing.T) {
	f := startFixture(t)
	ctx := t.Context()
	conn := f.connect(t)
	if _, err := conn.Exec(ctx, "ALTER TABLE users ADD COLUMN extra int; ALTER TABLE countries ADD COLUMN extra int; SELECT 1"); err != nil {
		t.Fatal(err)
	}
	for shard := range 2 {
		var n int
		err := f.direct(t, shard).QueryRow(ctx, "SELECT count(*) FROM information_schema.columns WHERE column_name = 'extra' AND table_name IN ('users', 'countries')").Scan(&n)
		if err != nil || n != 2 {
			t.Errorf("shard %d has the new column in %d of the tables (%v), want 2", shard, n, err)
		}
	}
}

// pg_dump -j exports a snapshot and its workers import it: through the
// proxy the snapshot is one per shard, each worker's transaction adopts
// its shard's part, and the dump (restored with pg_restore) holds every
// row once.
func TestPgDumpParallel(t *testing.T) {
	f := startFixture(t)
	ctx := t.Context()
	conn := f.connect(t)
	if _, err := conn.Exec(ctx, "INSERT INTO users (id, name) VALUES (1, 'one'), (2, 'two'), (3, 'three'), (4, 'four'), (5, 'five'), (6, 'six')"); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "INSERT INTO countries VALUES ('DE', 'Germany')"); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "dump")
	if out, err := exec.CommandContext(ctx, pgTool(t, "pg_dump"), "-Fd", "-j", "2", "-Z", "0", "--no-owner", "-f", dir, f.dsn("app", "app-secret")).CombinedOutput(); err != nil {
		t.Fatalf("pg_dump -j 2 through the proxy: %v\n%s", err, out)
	}
	if _, err := conn.Exec(ctx, "DROP TABLE users, orders, countries, settings"); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.CommandContext(ctx, pgTool(t, "pg_restore"), "--no-owner", "-d", f.dsn("app", "app-secret"), dir).CombinedOutput(); err != nil {
		t.Fatalf("pg_restore through the proxy: %v\n%s", err, out)
	}
	for shard := range 2 {
		f.wantUsersOn(t, shard, 6)
	}
	// Exporting takes every shard: a transaction that may use one refuses.
	if _, err := conn.Exec(ctx, "BEGIN"); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "SELECT pg_export_snapshot()"); pgCode(err) != "0A000" {
		t.Errorf("pg_export_snapshot() in a read-write transaction under single_shard: %v, want 0A000", err)
	}
	if _, err := conn.Exec(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
}

// SQL PREPARE and the protocol's Parse share one namespace, as on a
// server: a name taken by one is taken for the other, and the protocol's
// Close drops either.
func TestSQLAndProtocolStatementsShareNames(t *testing.T) {
	f := startFixture(t)
	ctx := t.Context()
	conn := f.connect(t)
	if _, err := conn.Exec(ctx, "PREPARE shared AS SELECT 1"); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Prepare(ctx, "shared", "SELECT 2"); pgCode(err) != "42P05" {
		t.Fatalf("Parse of a name SQL PREPARE took: %v, want 42P05", err)
	}
	if err := conn.Deallocate(ctx, "shared"); err != nil { // pgx closes with the protocol's Close
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "EXECUTE shared"); pgCode(err) != "26000" {
		t.Fatalf("EXECUTE after the protocol's Close: %v, want 26000", err)
	}
}
