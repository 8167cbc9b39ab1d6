package router_test

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/shardgate/shardgate/router"
	"github.com/shardgate/shardgate/router/mysql"
	"github.com/shardgate/shardgate/router/postgres"
	"github.com/shardgate/shardgate/router/sqltext"
	"github.com/shardgate/shardgate/topology"
)

var update = flag.Bool("update", false, "rewrite the expected plans in testdata/routing")

// goldenCase is one "=== name" block of a routing corpus file:
// directives, SQL, "---", and the expected plan or "error: ...".
type goldenCase struct {
	name, sql, want string
	params          []router.Param
	session         router.Session
	directives      []string
}

func readCorpus(t *testing.T, path string, db *topology.DB) []goldenCase {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cases []goldenCase
	for _, block := range strings.Split(string(data), "\n=== ")[1:] {
		head, body, _ := strings.Cut(block, "\n")
		c := goldenCase{name: strings.TrimSpace(head)}
		in, want, ok := strings.Cut(body, "\n---\n")
		if !ok {
			t.Fatalf("%s: case %q has no --- line", path, c.name)
		}
		c.want = strings.TrimRight(want, "\n")
		var sqlLines []string
		for _, line := range strings.Split(in, "\n") {
			if d, ok := strings.CutPrefix(line, "-- params: "); ok && len(sqlLines) == 0 {
				c.params = parseParams(t, d)
				c.directives = append(c.directives, line)
				continue
			}
			if d, ok := strings.CutPrefix(line, "-- session: "); ok && len(sqlLines) == 0 {
				c.session = parseSession(t, d, db)
				c.directives = append(c.directives, line)
				continue
			}
			sqlLines = append(sqlLines, line)
		}
		c.sql = strings.TrimSpace(strings.Join(sqlLines, "\n"))
		cases = append(cases, c)
	}
	return cases
}

// parseParams reads "42, text:abc, int:7, null, bytes:00ff".
func parseParams(t *testing.T, s string) []router.Param {
	var out []router.Param
	for _, f := range strings.Split(s, ", ") {
		kind, v, ok := strings.Cut(f, ":")
		if !ok {
			kind, v = "text", f
		}
		switch kind {
		case "text":
			out = append(out, router.Param{Kind: router.ParamText, Text: v})
		case "int":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, router.Param{Kind: router.ParamInt, Int: n})
		case "null":
			out = append(out, router.Param{Kind: router.ParamNull})
		case "bytes":
			out = append(out, router.Param{Kind: router.ParamBytes, Bytes: []byte(v)})
		default:
			t.Fatalf("param %q: unknown kind", f)
		}
	}
	return out
}

// parseSession reads "tx", "tx pinned=80-" or "tx readonly".
func parseSession(t *testing.T, s string, db *topology.DB) router.Session {
	var sess router.Session
	for _, f := range strings.Fields(s) {
		switch {
		case f == "tx":
			sess.InTransaction = true
		case f == "readonly":
			sess.ReadOnly = true
		case strings.HasPrefix(f, "pinned="):
			sh, ok := db.ShardNamed(strings.TrimPrefix(f, "pinned="))
			if !ok {
				t.Fatalf("session %q: no such shard", s)
			}
			sess.Pinned = sh
		default:
			t.Fatalf("session %q: unknown word %q", s, f)
		}
	}
	return sess
}

// render is the plan, or the error: its text starts with the sentinel's
// (e.g. "not supported by shardgate: ..."), which names the class.
func render(p *router.Plan, err error) string {
	if err != nil {
		return "error: " + err.Error()
	}
	return strings.TrimRight(p.String(), "\n")
}

func runCorpus(t *testing.T, path string, proto topology.Protocol, r *router.Router) {
	snap, err := topology.Load("../testdata/routing/topology.yaml")
	if err != nil {
		t.Fatal(err)
	}
	db, _ := snap.Database(proto, "shop")
	cases := readCorpus(t, path, db)
	var out strings.Builder
	for _, c := range cases {
		got := render(r.Route(router.Request{DB: db, SQL: c.sql, Params: c.params, Session: c.session}))
		if *update {
			fmt.Fprintf(&out, "\n=== %s\n", c.name)
			for _, d := range c.directives {
				out.WriteString(d + "\n")
			}
			fmt.Fprintf(&out, "%s\n---\n%s\n", c.sql, got)
			continue
		}
		if got != c.want {
			t.Errorf("%s: %s\n--- got:\n%s\n--- want:\n%s", c.name, c.sql, got, c.want)
		}
	}
	if *update {
		data, _ := os.ReadFile(path)
		header, _, _ := strings.Cut(string(data), "\n=== ")
		if err := os.WriteFile(path, []byte(strings.TrimRight(header, "\n")+"\n"+out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d cases", len(cases))
}

func TestRoutingCorpusPostgres(t *testing.T) {
	runCorpus(t, "../testdata/routing/postgres.txt", topology.Postgres, router.New(sqltext.Postgres, postgres.Analyzer{}, 1000))
}

func TestRoutingCorpusMySQL(t *testing.T) {
	runCorpus(t, "../testdata/routing/mysql.txt", topology.MySQL, router.New(sqltext.MySQL, mysql.NewAnalyzer(), 1000))
}
