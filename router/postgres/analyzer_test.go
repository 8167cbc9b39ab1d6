package postgres

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shardgate/shardgate/router"
)

var update = flag.Bool("update", false, "rewrite testdata/analyze.golden")

const goldenPath = "testdata/analyze.golden"

type goldenEntry struct {
	Name  string `json:"name"`
	SQL   string `json:"sql"`
	Error string `json:"error,omitempty"`
	Stmt  *gStmt `json:"stmt,omitempty"`
}

func goldenFor(tc testCase) goldenEntry {
	sql := tc.sql
	if len(sql) > 300 { // the 500-item IN list
		sql = sql[:80] + fmt.Sprintf(" ... (%d bytes)", len(sql))
	}
	e := goldenEntry{Name: tc.name, SQL: sql}
	st, err := Analyzer{}.Analyze(tc.sql)
	if err != nil {
		e.Error = err.Error()
		return e
	}
	e.Stmt = render(st)
	return e
}

func marshal(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

func TestAnalyzeGolden(t *testing.T) {
	seen := map[string]bool{}
	var all []goldenEntry
	for _, tc := range cases {
		if seen[tc.name] {
			t.Fatalf("duplicate case name %q", tc.name)
		}
		seen[tc.name] = true
		all = append(all, goldenFor(tc))
	}
	if *update {
		if err := os.MkdirAll(filepath.Dir(goldenPath), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(goldenPath, marshal(all), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	raw, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatalf("%v (run go test ./router/postgres -update)", err)
	}
	var want []goldenEntry
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	byName := map[string][]byte{}
	for _, w := range want {
		byName[w.Name] = marshal(w)
	}
	for _, got := range all {
		w, ok := byName[got.Name]
		if !ok {
			t.Errorf("%s: not in golden file (run with -update)", got.Name)
			continue
		}
		if g := marshal(got); !bytes.Equal(g, w) {
			t.Errorf("%s:\n got: %s\nwant: %s", got.Name, g, w)
		}
	}
	if len(want) != len(all) {
		t.Errorf("golden file has %d entries, cases %d (run with -update)", len(want), len(all))
	}
}

func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		sql  string
		want error
	}{
		{"SELEC 1", router.ErrSyntax},
		{"SELECT * FROM users WHERE", router.ErrSyntax},
		{"SELECT 1; SELECT 2", router.ErrMultiStatement},
		{"BEGIN; COMMIT;", router.ErrMultiStatement},
		{"SELECT $1; SELEC", router.ErrSyntax},
	} {
		st, err := Analyzer{}.Analyze(tc.sql)
		if !errors.Is(err, tc.want) || st != nil {
			t.Errorf("%q: got %v, %v; want %v", tc.sql, st, err, tc.want)
		}
	}
}

func TestInList500(t *testing.T) {
	st, err := Analyzer{}.Analyze(inList500())
	if err != nil {
		t.Fatal(err)
	}
	w := st.Where
	if w == nil || w.Op != router.CondIn || w.Col.Name != "id" || len(w.Values) != 500 {
		t.Fatalf("where = %+v", w)
	}
	for i, v := range w.Values {
		if v.Slot != i+1 || v.Lit != nil {
			t.Fatalf("value %d = %+v", i, v)
		}
	}
}

// TestSubqueryTablesInParent checks the contract that a statement's Tables
// include every table of its subqueries, at every level.
func TestSubqueryTablesInParent(t *testing.T) {
	for _, tc := range cases {
		st, err := Analyzer{}.Analyze(tc.sql)
		if err != nil {
			continue
		}
		if msg := checkTables(st); msg != "" {
			t.Errorf("%s: %s", tc.name, msg)
		}
	}
}

// checkTables returns what is wrong with the table lists of a statement
// tree: a nested statement's tables missing from its parent's, or a nil
// condition node.
func checkTables(s *router.Statement) string {
	have := map[router.TableRef]int{}
	for _, tr := range s.Tables {
		have[tr]++
	}
	kids := s.Subqueries
	if s.Insert != nil && s.Insert.Select != nil {
		kids = append(kids[:len(kids):len(kids)], s.Insert.Select)
	}
	need := map[router.TableRef]int{}
	for _, k := range kids {
		if k == nil {
			return "nil subquery"
		}
		for _, tr := range k.Tables {
			need[tr]++
		}
		if msg := checkTables(k); msg != "" {
			return msg
		}
	}
	for tr, n := range need {
		if have[tr] < n {
			return fmt.Sprintf("parent lacks %d x %+v of its subqueries", n-have[tr], tr)
		}
	}
	if s.Where != nil && !condOK(s.Where) {
		return "malformed condition"
	}
	return ""
}

func condOK(c *router.Cond) bool {
	switch c.Op {
	case router.CondAnd, router.CondOr:
		if len(c.Children) == 0 {
			return false
		}
		for _, ch := range c.Children {
			if ch == nil || !condOK(ch) {
				return false
			}
		}
	case router.CondEq:
		return len(c.Values) == 1 && c.Col.Name != ""
	case router.CondIn:
		return len(c.Values) > 0 && c.Col.Name != ""
	case router.CondColEq:
		return c.Col.Name != "" && c.Col2.Name != ""
	}
	return true
}

func TestDeepNesting(t *testing.T) {
	for _, sql := range []string{
		"SELECT " + strings.Repeat("(", 3000) + "1" + strings.Repeat(")", 3000),
		"SELECT * FROM t WHERE " + strings.Repeat("(a = 1 AND ", 2000) + "b = 2" + strings.Repeat(")", 2000),
		"SELECT * FROM t WHERE " + strings.Repeat("NOT ", 5000) + "a",
		"SELECT * FROM t WHERE x IN " + strings.Repeat("(SELECT x FROM t WHERE x IN ", 500) + "(1)" + strings.Repeat(")", 500),
		"SELECT * FROM t WHERE id IN (" + strings.Repeat("1, ", 100000) + "1)",
		"SELECT * FROM t WHERE " + strings.Repeat("a = $1 OR ", 20000) + "a = $2",
		"SELECT 1 " + strings.Repeat("UNION ALL SELECT 1 ", 5000),
	} {
		start := time.Now()
		st, err := Analyzer{}.Analyze(sql)
		t.Logf("%.40s... (%d bytes): %v, err %v", sql, len(sql), time.Since(start), err)
		if err != nil && (!errors.Is(err, router.ErrSyntax) || strings.Contains(err.Error(), "internal error")) {
			t.Errorf("%.60s...: %v", sql, err)
		}
		if err == nil && checkTables(st) != "" {
			t.Errorf("%.60s...: %s", sql, checkTables(st))
		}
	}
}

func TestConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, tc := range cases {
				_, _ = Analyzer{}.Analyze(tc.sql)
			}
		}()
	}
	wg.Wait()
}

func FuzzAnalyze(f *testing.F) {
	for _, tc := range cases {
		f.Add(tc.sql)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		st, err := Analyzer{}.Analyze(sql)
		if err != nil {
			if !errors.Is(err, router.ErrSyntax) && !errors.Is(err, router.ErrMultiStatement) {
				t.Fatalf("unexpected error class: %v", err)
			}
			if strings.Contains(err.Error(), "internal error") {
				t.Fatalf("recovered panic: %v", err)
			}
			if st != nil {
				t.Fatal("statement with error")
			}
			return
		}
		if st == nil {
			t.Fatal("nil statement without error")
		}
		_ = render(st)
		if msg := checkTables(st); msg != "" {
			t.Fatal(msg)
		}
	})
}

func BenchmarkAnalyze(b *testing.B) {
	for _, bc := range []struct{ name, sql string }{
		{"point_select", "SELECT id, name, email FROM users WHERE id = $1"},
		{"insert_3_rows", "INSERT INTO users (id, name, email) VALUES ($1, $2, $3), ($4, $5, $6), ($7, $8, $9)"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := (Analyzer{}).Analyze(bc.sql); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
