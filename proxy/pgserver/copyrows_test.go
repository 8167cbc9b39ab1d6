package pgserver

import (
	"strings"
	"testing"

	"github.com/shardgate/shardgate/topology"
)

func TestParseCopy(t *testing.T) {
	for _, c := range []struct {
		sql         string
		cols        string
		csv, header bool
		binary      bool
		delim       byte
		wantErr     bool
	}{
		{sql: "COPY users FROM STDIN", cols: "<nil>", delim: '\t'},
		{sql: `COPY users (id, "Name") FROM STDIN`, cols: "id,Name", delim: '\t'},
		{sql: "COPY users (id, name) FROM STDIN WITH (FORMAT csv, HEADER true)", cols: "id,name", csv: true, header: true, delim: ','},
		{sql: "COPY users FROM STDIN CSV HEADER DELIMITER ';'", cols: "<nil>", csv: true, header: true, delim: ';'},
		{sql: "COPY users FROM STDIN WITH (DELIMITER '|')", cols: "<nil>", delim: '|'},
		{sql: "COPY users FROM STDIN (FORMAT binary)", cols: "<nil>", delim: '\t', binary: true},
		{sql: `copy "users" ( "id", "name" ) from stdin binary;`, cols: "id,name", delim: '\t', binary: true},
	} {
		o, err := parseCopy(c.sql)
		if c.wantErr {
			if err == nil {
				t.Errorf("%s: want an error", c.sql)
			}
			continue
		}
		cols := "<nil>"
		if o.columns != nil {
			cols = strings.Join(o.columns, ",")
		}
		if err != nil || cols != c.cols || o.csv != c.csv || o.header != c.header || o.delim != c.delim || o.binary != c.binary {
			t.Errorf("%s: %+v %v", c.sql, o, err)
		}
	}
}

func TestRowSplitter(t *testing.T) {
	snap, err := topology.Load("../../testdata/routing/topology.yaml")
	if err != nil {
		t.Fatal(err)
	}
	db, _ := snap.Database(topology.Postgres, "shop")
	shardOf := func(id int64) int { return db.ShardIndex(topology.IntKeyspaceID(id)) }

	// Rows cut at arbitrary message boundaries still land whole, by key.
	sp := &rowSplitter{opts: copyOptions{delim: '\t'}, key: 1, keyType: topology.KeyInt, db: db, out: make([][]byte, 4)}
	data := "a\t1\tx\nb\t2\ty\\tz\nc\t3\t\\N\nd\t100\tw"
	for i := 0; i < len(data); i += 3 {
		if err := sp.feed([]byte(data[i:min(i+3, len(data))])); err != nil {
			t.Fatal(err)
		}
	}
	if err := sp.end(); err != nil {
		t.Fatal(err)
	}
	want := make([]string, 4)
	for _, r := range []struct {
		id   int64
		line string
	}{{1, "a\t1\tx\n"}, {2, "b\t2\ty\\tz\n"}, {3, "c\t3\t\\N\n"}, {100, "d\t100\tw\n"}} {
		want[shardOf(r.id)] += r.line
	}
	for i := range want {
		if string(sp.out[i]) != want[i] {
			t.Errorf("shard %d got %q, want %q", i, sp.out[i], want[i])
		}
	}

	// CSV: quoted fields with delimiters, quotes and newlines; a header
	// goes to every shard.
	sp = &rowSplitter{opts: copyOptions{csv: true, header: true, delim: ',', quote: '"'}, key: 0, keyType: topology.KeyString, db: db, out: make([][]byte, 4)}
	if err := sp.feed([]byte("email,bio\n\"a@x.io\",\"line1\nline2, \"\"quoted\"\"\"\nb@x.io,plain\n")); err != nil {
		t.Fatal(err)
	}
	total := 0
	for i := range sp.out {
		if !strings.HasPrefix(string(sp.out[i]), "email,bio\n") {
			t.Errorf("shard %d lacks the header: %q", i, sp.out[i])
		}
		total += strings.Count(string(sp.out[i]), "@x.io")
	}
	a := db.ShardIndex(topology.StringKeyspaceID("a@x.io"))
	if total != 2 || !strings.Contains(string(sp.out[a]), "line1\nline2") {
		t.Errorf("csv split wrong: %q", sp.out)
	}

	// A NULL or malformed key refuses the COPY.
	for _, bad := range []string{"x\t\\N\n", "x\tnotanint\n", "onlyonefield\n"} {
		sp = &rowSplitter{opts: copyOptions{delim: '\t'}, key: 1, keyType: topology.KeyInt, db: db, out: make([][]byte, 4)}
		if err := sp.feed([]byte(bad)); err == nil {
			t.Errorf("%q: want an error", bad)
		}
	}
}

func TestUnescapeText(t *testing.T) {
	for in, want := range map[string]string{`a\tb`: "a\tb", `\\`: `\`, `\x41\102`: "AB", `plain`: "plain", `\q`: "q"} {
		if got := unescapeText([]byte(in)); got != want {
			t.Errorf("%q -> %q, want %q", in, got, want)
		}
	}
}
