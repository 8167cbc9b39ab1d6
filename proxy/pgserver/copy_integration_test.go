package pgserver

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// COPY FROM STDIN into a sharded table splits rows by key; a bad row
// rolls back every shard; COPY TO STDOUT concatenates the shards.
func TestProxyCopy(t *testing.T) {
	f := startFixture(t)
	ctx := t.Context()
	conn := f.connect(t)

	var sb strings.Builder
	for id := 1; id <= 500; id++ {
		fmt.Fprintf(&sb, "%d\tuser %d\\twith tab\tDE\n", id, id)
	}
	tag, err := conn.PgConn().CopyFrom(ctx, strings.NewReader(sb.String()), "COPY users (id, name, country) FROM STDIN")
	if err != nil || tag.RowsAffected() != 500 {
		t.Fatalf("COPY: %v %v", tag, err)
	}
	total := 0
	for shard := range 2 {
		rows, _ := f.direct(t, shard).Query(ctx, "SELECT id, name FROM users")
		type u struct {
			ID   int64
			Name string
		}
		us, err := pgx.CollectRows(rows, pgx.RowToStructByPos[u])
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range us {
			if f.shardOf(x.ID) != shard {
				t.Errorf("user %d copied to shard %d, hashes to %d", x.ID, shard, f.shardOf(x.ID))
			}
			if want := fmt.Sprintf("user %d\twith tab", x.ID); x.Name != want {
				t.Errorf("user %d name %q, want %q", x.ID, x.Name, want)
			}
		}
		total += len(us)
	}
	if total != 500 {
		t.Errorf("%d rows on the shards, want 500", total)
	}

	// CSV with a header, no column list (the proxy asks a shard for it).
	csv := "id,name,country\n1001,\"a, b\",FR\n1002,\"multi\nline\",NL\n"
	tag, err = conn.PgConn().CopyFrom(ctx, strings.NewReader(csv), "COPY users FROM STDIN WITH (FORMAT csv, HEADER true)")
	if err != nil || tag.RowsAffected() != 2 {
		t.Fatalf("CSV COPY: %v %v", tag, err)
	}

	// A row with a NULL key fails the whole COPY: no shard keeps a row.
	bad := "2001\tok\tDE\n\\N\tnull key\tDE\n2002\tok\tDE\n"
	if _, err := conn.PgConn().CopyFrom(ctx, strings.NewReader(bad), "COPY users (id, name, country) FROM STDIN"); err == nil {
		t.Fatal("COPY with a NULL key succeeded")
	}
	for shard := range 2 {
		var n int64
		f.direct(t, shard).QueryRow(ctx, "SELECT count(*) FROM users WHERE id > 2000").Scan(&n)
		if n != 0 {
			t.Errorf("shard %d kept %d rows of a failed COPY", shard, n)
		}
	}

	// COPY TO STDOUT gathers every shard (from replicas: let them catch up).
	if err := f.cluster.WaitReplicated(ctx); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	tag, err = conn.PgConn().CopyTo(ctx, writerFunc(func(p []byte) (int, error) { return out.Write(p) }), "COPY (SELECT id FROM users) TO STDOUT")
	if err != nil || tag.RowsAffected() != 502 || strings.Count(out.String(), "\n") != 502 {
		t.Errorf("COPY TO: %v %v (%d lines)", tag, err, strings.Count(out.String(), "\n"))
	}
	if _, err := conn.Exec(ctx, "SELECT 1"); err != nil {
		t.Errorf("session unusable after COPY: %v", err)
	}

	// pgx's CopyFrom sends binary COPY: each tuple goes to the shard of
	// its key field, read by the key column's type (bigint here).
	pgxConn, err := pgx.Connect(ctx, f.dsn("app", "app-secret"))
	if err != nil {
		t.Fatal(err)
	}
	defer pgxConn.Close(ctx)
	var src [][]any
	for id := int64(3001); id <= 3300; id++ {
		src = append(src, []any{id, fmt.Sprintf("bin %d", id), "SE"})
	}
	n, err := pgxConn.CopyFrom(ctx, pgx.Identifier{"users"}, []string{"id", "name", "country"}, pgx.CopyFromRows(src))
	if err != nil || n != 300 {
		t.Fatalf("binary COPY (pgx CopyFrom): %d %v", n, err)
	}
	total = 0
	for shard := range 2 {
		rows, _ := f.direct(t, shard).Query(ctx, "SELECT id FROM users WHERE id > 3000")
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range ids {
			if f.shardOf(id) != shard {
				t.Errorf("user %d copied in binary to shard %d, hashes to %d", id, shard, f.shardOf(id))
			}
		}
		total += len(ids)
	}
	if total != 300 {
		t.Errorf("%d binary-copied rows on the shards, want 300", total)
	}

	// Binary COPY TO STDOUT joins the shards' streams into one (one
	// header, one trailer): the server takes it back in as it is.
	if err := f.cluster.WaitReplicated(ctx); err != nil {
		t.Fatal(err)
	}
	var bin bytes.Buffer
	tag, err = conn.PgConn().CopyTo(ctx, &bin, "COPY users TO STDOUT (FORMAT binary)")
	if err != nil || tag.RowsAffected() != 802 {
		t.Fatalf("binary COPY TO: %v %v", tag, err)
	}
	if _, err := conn.Exec(ctx, "CREATE TABLE users_bin (LIKE users)"); err != nil {
		t.Fatal(err)
	}
	tag, err = conn.PgConn().CopyFrom(ctx, &bin, "COPY users_bin FROM STDIN (FORMAT binary)")
	if err != nil || tag.RowsAffected() != 802 {
		t.Fatalf("the joined binary stream, copied back in: %v %v", tag, err)
	}
	if err := f.cluster.WaitReplicated(ctx); err != nil { // reads go to replicas
		t.Fatal(err)
	}
	summary := func(table string) string {
		var n, sum int64
		var name string
		if err := conn.QueryRow(ctx, "SELECT count(*), sum(id), max(name) FROM "+table).Scan(&n, &sum, &name); err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(n, sum, name)
	}
	if a, b := summary("users"), summary("users_bin"); a != b {
		t.Errorf("users %q, their binary copy %q", a, b)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
