package mysql

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

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

func goldenSQL(s string) string {
	if len(s) > 200 {
		return s[:200] + "..."
	}
	return s
}

func analyzeEntry(a *Analyzer, c analyzeCase) goldenEntry {
	e := goldenEntry{Name: c.name, SQL: goldenSQL(c.sql)}
	st, err := a.Analyze(c.sql)
	if err != nil {
		e.Error = err.Error()
		return e
	}
	e.Stmt = render(st)
	return e
}

func marshal(t testing.TB, v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestAnalyzeGolden(t *testing.T) {
	a := NewAnalyzer()
	seen := map[string]bool{}
	var entries []goldenEntry
	for _, c := range analyzeCases {
		if seen[c.name] {
			t.Fatalf("duplicate case name %q", c.name)
		}
		seen[c.name] = true
		entries = append(entries, analyzeEntry(a, c))
	}
	got := marshal(t, entries)
	if *update {
		if err := os.MkdirAll(filepath.Dir(goldenPath), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(goldenPath, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatalf("%v (run go test ./router/mysql -update)", err)
	}
	if bytes.Equal(got, want) {
		return
	}
	var wantEntries []goldenEntry
	if err := json.Unmarshal(want, &wantEntries); err != nil {
		t.Fatalf("golden file: %v", err)
	}
	byName := map[string]goldenEntry{}
	for _, e := range wantEntries {
		byName[e.Name] = e
	}
	for _, e := range entries {
		w, ok := byName[e.Name]
		if !ok {
			t.Errorf("%s: not in golden file", e.Name)
			continue
		}
		if g, w := marshal(t, e), marshal(t, w); !bytes.Equal(g, w) {
			t.Errorf("%s:\ngot  %s\nwant %s", e.Name, g, w)
		}
	}
	if len(wantEntries) != len(entries) {
		t.Errorf("golden has %d cases, test has %d", len(wantEntries), len(entries))
	}
}

func TestErrors(t *testing.T) {
	a := NewAnalyzer()
	for _, tc := range []struct {
		sql  string
		want error
	}{
		{"SELEC 1", router.ErrSyntax},
		{"SELECT * FROM", router.ErrSyntax},
		{"", router.ErrSyntax},
		{"   ;  ", router.ErrSyntax},
		{"SELECT 'unterminated", router.ErrSyntax},
		{"SELECT 1; SELECT 2", router.ErrMultiStatement},
		{"BEGIN; COMMIT;", router.ErrMultiStatement},
		// The parser's test driver panics on a decimal this long: recovered.
		{"SELECT " + strings.Repeat("0", 120) + ".", router.ErrSyntax},
	} {
		st, err := a.Analyze(tc.sql)
		if !errors.Is(err, tc.want) || st != nil {
			t.Errorf("Analyze(%q) = %v, %v; want error %v", tc.sql, st, err, tc.want)
		}
	}
	if _, err := a.Analyze("SELECT * FROM users WHERE"); err == nil || !strings.Contains(err.Error(), "near") {
		t.Errorf("syntax error lacks the parser's message: %v", err)
	}
	if _, err := a.Analyze("SELECT 1;"); err != nil {
		t.Errorf("trailing semicolon: %v", err)
	}
}

// countMarkers counts the ? placeholders of a statement the simple way:
// outside quotes and comments (executable /*! comments are code).
func countMarkers(sql string) int {
	n := 0
	for i := 0; i < len(sql); i++ {
		switch c := sql[i]; {
		case c == '\'' || c == '"' || c == '`':
			for i++; i < len(sql); i++ {
				if sql[i] == '\\' && c != '`' {
					i++
				} else if sql[i] == c {
					if i+1 < len(sql) && sql[i+1] == c {
						i++
						continue
					}
					break
				}
			}
		case c == '#' || (c == '-' && strings.HasPrefix(sql[i:], "-- ")):
			for i < len(sql) && sql[i] != '\n' {
				i++
			}
		case c == '/' && strings.HasPrefix(sql[i:], "/*") && !strings.HasPrefix(sql[i:], "/*!") && !strings.HasPrefix(sql[i:], "/*M!"):
			end := strings.Index(sql[i+2:], "*/")
			if end < 0 {
				return n
			}
			i += end + 3
		case c == '?':
			n++
		}
	}
	return n
}

// TestSlotsCoverEveryMarker checks that each ? of every case is numbered,
// so no placeholder shifts the numbers of those after it.
func TestSlotsCoverEveryMarker(t *testing.T) {
	p := newParser()
	for _, c := range analyzeCases {
		stmts, _, err := p.ParseSQL(mariadbComments(c.sql))
		if err != nil || len(stmts) != 1 {
			continue
		}
		if got, want := len(paramOffsets(stmts[0])), countMarkers(c.sql); got != want {
			t.Errorf("%s: %d markers numbered, %d in the text", c.name, got, want)
		}
	}
}

// TestMarkerSpots checks the numbering of ? in the less common places a
// placeholder can stand (the parser must visit every one of them).
func TestMarkerSpots(t *testing.T) {
	p := newParser()
	for _, q := range []string{
		"SELECT DATE_ADD(?, INTERVAL ? DAY), CASE WHEN ? THEN ? ELSE ? END, ? COLLATE utf8mb4_bin FROM t WHERE a = ?",
		"SELECT TIMESTAMPADD(MINUTE, ?, ?), TRIM(LEADING ? FROM ?), SUBSTRING(? FROM ? FOR ?), POSITION(? IN ?), EXTRACT(YEAR FROM ?) FROM t WHERE a = ?",
		"SELECT GROUP_CONCAT(a ORDER BY b SEPARATOR ','), ? FROM t WHERE a = ?",
		"SELECT * FROM t WHERE MATCH(a) AGAINST (? IN BOOLEAN MODE) AND b = ?",
		"(SELECT a FROM t WHERE x = ? LIMIT ?) UNION ALL (SELECT a FROM u WHERE y = ? LIMIT ? OFFSET ?) ORDER BY a LIMIT ?",
		"SELECT a, SUM(b) OVER (PARTITION BY ? ORDER BY c RANGE BETWEEN INTERVAL ? DAY PRECEDING AND ? FOLLOWING) FROM t WHERE d = ?",
		"SELECT LAG(a, ?, ?) OVER w, NTH_VALUE(a, ?) OVER w FROM t WINDOW w AS (ORDER BY b) LIMIT ?",
		"SHOW TABLES LIKE ?",
		"SET @x = ?, @y = ?",
		"CALL p(?, ?)",
		"DO ?, ?",
		"INSERT INTO t (a, b) VALUES (?, ?) ON DUPLICATE KEY UPDATE b = ?, c = VALUES(c) + ?",
		"UPDATE t SET a = ? WHERE b = ? ORDER BY c LIMIT ?",
		"DELETE FROM t WHERE b = ? ORDER BY c LIMIT ?",
		"SELECT CAST(? AS CHAR(10)), CONVERT(?, DECIMAL(10,2)), ? IS NULL, ? BETWEEN ? AND ?, ? LIKE ? ESCAPE '!', ? REGEXP ? FROM t",
		"SELECT * FROM t WHERE (a, b) IN ((?, ?), (?, ?)) AND EXISTS (SELECT 1 FROM u WHERE u.x = ? LIMIT ?)",
		"SELECT * FROM t WHERE a = ANY (SELECT b FROM u WHERE c = ?) AND d = ?",
		"SELECT * FROM t FOR UPDATE WAIT 5",
		"SELECT ROW(?, ?) = ROW(a, b) FROM t",
		"SELECT DEFAULT(a), VALUES(a), ?, BINARY ?, ~?, !?, -?, +? FROM t",
		"INSERT INTO t SELECT ?, a FROM u WHERE b = ? UNION SELECT ?, c FROM v",
		"WITH c AS (SELECT ? AS x) SELECT * FROM c WHERE x = ? LIMIT ?",
		"SELECT * FROM t LIMIT ?",
		"SELECT ? FROM t GROUP BY ? HAVING ? ORDER BY ?",
		"LOAD DATA INFILE 'x' INTO TABLE t (a, @b) SET c = ?",
		"SELECT a FROM t WHERE a = ? INTO OUTFILE 'x'",
		"SELECT CHAR(?, ? USING utf8mb4), WEIGHT_STRING(?), GET_FORMAT(DATE, ?), ? MEMBER OF (?) FROM t",
		"SELECT * FROM t AS OF TIMESTAMP ? WHERE a = ?",
	} {
		stmts, _, err := p.ParseSQL(q)
		if err != nil || len(stmts) != 1 {
			t.Errorf("%s: %v", q, err)
			continue
		}
		if got, want := len(paramOffsets(stmts[0])), countMarkers(q); got != want {
			t.Errorf("%s: numbered %d, text %d", q, got, want)
		}
	}
}

func TestSlotOrder(t *testing.T) {
	a := NewAnalyzer()
	st, err := a.Analyze("SELECT * FROM t WHERE b = ? AND a IN (SELECT x FROM u WHERE k = ?) AND c IN (?, ?) ORDER BY id LIMIT ?, ?")
	if err != nil {
		t.Fatal(err)
	}
	if got := renderCond(st.Where); got != "AND(b = ?1, OPAQUE, c IN (?3, ?4))" {
		t.Errorf("where = %s", got)
	}
	if got := renderCond(st.Subqueries[0].Where); got != "k = ?2" {
		t.Errorf("subquery where = %s", got)
	}
	if st.Select.Offset.Slot != 5 || st.Select.Limit.Slot != 6 {
		t.Errorf("LIMIT ?, ? = offset %+v limit %+v; want offset ?5, limit ?6", *st.Select.Offset, *st.Select.Limit)
	}
	ins, err := a.Analyze("INSERT INTO t (a, b, c) VALUES (?, 1, ?), (DEFAULT, ?, NULL)")
	if err != nil {
		t.Fatal(err)
	}
	rows := ins.Insert.Rows
	if rows[0][0].Slot != 1 || rows[0][1].Lit.Text != "1" || rows[0][2].Slot != 2 ||
		rows[1][0] != (router.ValueRef{}) || rows[1][1].Slot != 3 || !rows[1][2].Lit.Null {
		t.Errorf("rows = %s", marshal(t, render(ins).Insert.Rows))
	}
}

// TestConcurrent analyzes every case from many goroutines at once and
// expects the answers of a sequential run (run with -race).
func TestConcurrent(t *testing.T) {
	a := NewAnalyzer()
	want := make([][]byte, len(analyzeCases))
	for i, c := range analyzeCases {
		want[i] = marshal(t, analyzeEntry(a, c))
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8*len(analyzeCases))
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for k := range analyzeCases {
				i := (k + g*17) % len(analyzeCases)
				if got := marshal(t, analyzeEntry(a, analyzeCases[i])); !bytes.Equal(got, want[i]) {
					errs <- analyzeCases[i].name
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for name := range errs {
		t.Errorf("%s: concurrent answer differs", name)
	}
}

func TestMariaDBComments(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"SELECT 1", "SELECT 1"},
		{"SELECT /*M! 2, */ 1", "SELECT /*!  2, */ 1"},
		{"SELECT /*M!100101 STRAIGHT_JOIN */ 1", "SELECT /*!00000   STRAIGHT_JOIN */ 1"},
		{"SELECT /*M!10010 2, */ 1", "SELECT /*!00000  2, */ 1"},
		{"SELECT /*M!123 */ 1", "SELECT /*! 123 */ 1"},
		{"/*M!999999\\- enable the sandbox mode */", "/*M!999999\\- enable the sandbox mode */"},
		{"SELECT '/*M!1 */', \"/*M!\", `/*M!` /* /*M! */ -- /*M!\n/*M!", "SELECT '/*M!1 */', \"/*M!\", `/*M!` /* /*M! */ -- /*M!\n/*! "},
		{"SELECT 'it''s \\' /*M!' /*M!", "SELECT 'it''s \\' /*M!' /*! "},
	} {
		got := mariadbComments(tc.in)
		if got != tc.want {
			t.Errorf("mariadbComments(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if len(got) != len(tc.in) {
			t.Errorf("mariadbComments(%q) changed the length", tc.in)
		}
	}
}

func TestZeroValueAnalyzer(t *testing.T) {
	var a Analyzer
	if _, err := a.Analyze("SELECT * FROM users WHERE id = ?"); err != nil {
		t.Fatal(err)
	}
}

func FuzzAnalyze(f *testing.F) {
	for _, c := range analyzeCases {
		f.Add(c.sql)
	}
	a := NewAnalyzer()
	f.Fuzz(func(t *testing.T, sql string) {
		st, err := a.Analyze(sql)
		if err != nil {
			if st != nil {
				t.Fatal("statement with an error")
			}
			if !errors.Is(err, router.ErrSyntax) && !errors.Is(err, router.ErrMultiStatement) {
				t.Fatalf("unexpected error class: %v", err)
			}
			// A panic inside the parser is recovered and reported as a
			// syntax error (see Analyze); one in this package is a bug.
			if strings.Contains(err.Error(), "internal analyzer error") {
				t.Fatalf("recovered panic: %v", err)
			}
			return
		}
		if st == nil {
			t.Fatal("nil statement without error")
		}
		render(st) // walks every pointer
	})
}

func BenchmarkAnalyze(b *testing.B) {
	a := NewAnalyzer()
	for _, bc := range []struct{ name, sql string }{
		{"point_select", "SELECT id, name, email FROM users WHERE id = ?"},
		{"insert_3_rows", "INSERT INTO users (id, name, email) VALUES (?, ?, ?), (?, ?, ?), (?, ?, ?)"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := a.Analyze(bc.sql); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
