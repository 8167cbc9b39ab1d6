package pgserver

import (
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
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
