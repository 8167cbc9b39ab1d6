package merge

import (
	"bufio"
	"flag"
	"fmt"
	"math"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/shardgate/shardgate/router"
)

// The files under testdata pin what real servers print, so that the
// merged results are checked byte for byte against one server's answer:
//
//	float_pg.txt      float8out / float4out of random and tie values
//	avg_pg.txt        avg(bigint) and avg(numeric) over random data
//	avg_mariadb.txt   AVG of BIGINT and DECIMAL(30,s) over random data
//
// -update records them again. It needs the servers' command-line clients
// in MERGE_PSQL and MERGE_MARIADB, for example
//
//	MERGE_PSQL='psql -h /tmp/pg -p 5432 -U postgres' \
//	MERGE_MARIADB='mariadb -S /tmp/my.sock -uroot' \
//	go test ./proxy/merge -run Recorded -update
var update = flag.Bool("update", false, "record testdata from real servers (see recorded_test.go)")

func TestRecordedPostgresFloat(t *testing.T) {
	path := filepath.Join("testdata", "float_pg.txt")
	if *update {
		recordFloats(t, path)
	}
	n := 0
	for _, f := range readRecorded(t, path) {
		bitSize, _ := strconv.Atoi(f[0])
		u, err := strconv.ParseUint(f[1], 16, 64)
		if err != nil {
			t.Fatalf("%v: %v", f, err)
		}
		v := math.Float64frombits(u)
		if got := string(PostgresFloat(nil, v, bitSize)); got != f[2] {
			t.Errorf("PostgresFloat(%v, %d) = %q, PostgreSQL printed %q", v, bitSize, got, f[2])
		}
		n++
	}
	if n < 1000 {
		t.Fatalf("only %d recorded values", n)
	}
}

func TestRecordedAvg(t *testing.T) {
	for _, c := range []struct {
		file, env string
		opt       Options
	}{
		{"avg_pg.txt", "MERGE_PSQL", Options{}},
		{"avg_mariadb.txt", "MERGE_MARIADB", Options{AvgScale: 4}},
	} {
		t.Run(c.file, func(t *testing.T) {
			path := filepath.Join("testdata", c.file)
			if *update {
				recordAvg(t, path, c.env)
			}
			spec := router.Merge{Limit: -1, Aggregates: []router.AggColumn{avg(0, 1)}, Hidden: 1}
			n := 0
			for _, f := range readRecorded(t, path) {
				// type, one "sum|count" per shard, "=>", the server's AVG.
				want := f[len(f)-1]
				srcs, _ := shards(singleRows(f[1 : len(f)-2]))
				m, err := New(&spec, typesOf(f[0]+"i"), srcs, c.opt)
				if err != nil {
					t.Fatal(err)
				}
				got, err := drain(m)
				if err != nil || len(got) != 1 || got[0] != want {
					t.Errorf("%v: got %v, %v; the server printed %s", f, got, err, want)
				}
				n++
			}
			if n < 500 {
				t.Fatalf("only %d recorded cases", n)
			}
		})
	}
}

func singleRows(rs []string) [][]string {
	out := make([][]string, len(rs))
	for i, r := range rs {
		out[i] = []string{r}
	}
	return out
}

// readRecorded returns the space-separated fields of each line that is
// not blank or a # comment.
func readRecorded(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out [][]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := sc.Text(); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, strings.Fields(l))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// runClient feeds one statement per line to a server's client and
// returns one output line per statement.
func runClient(t *testing.T, env string, args []string, stmts []string) []string {
	t.Helper()
	cmdline := strings.Fields(os.Getenv(env))
	if len(cmdline) == 0 {
		t.Fatalf("-update needs %s (see recorded_test.go)", env)
	}
	cmd := exec.Command(cmdline[0], append(cmdline[1:], args...)...)
	cmd.Stdin = strings.NewReader(strings.Join(stmts, "\n") + "\n")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", env, err, out)
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) != len(stmts) {
		t.Fatalf("%s: %d statements gave %d lines", env, len(stmts), len(lines))
	}
	return lines
}

func recordFloats(t *testing.T, path string) {
	r := rand.New(rand.NewSource(3))
	var stmts, keys []string
	for len(stmts) < 1500 {
		var f float64
		bitSize := 64
		switch r.Intn(6) {
		case 0:
			f = math.Float64frombits(r.Uint64())
		case 1:
			f = (r.Float64() - 0.5) * math.Pow(10, float64(r.Intn(40)-20))
		case 2:
			bitSize, f = 32, float64(math.Float32frombits(r.Uint32()))
		case 3: // dyadic fractions: exact decimal ties
			f = float64(r.Int63n(1<<20)) / math.Pow(2, float64(r.Intn(70)))
		case 4: // large integers: halfway candidates
			f = float64(r.Int63n(1<<20)) * math.Pow(2, float64(r.Intn(80)))
		case 5:
			bitSize, f = 32, float64(float32(float64(r.Int63n(1<<20))*math.Pow(2, float64(r.Intn(60)-30))))
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			continue
		}
		typ := "float8"
		if bitSize == 32 {
			typ = "float4"
		}
		stmts = append(stmts, fmt.Sprintf("select '%s'::%s;", strconv.FormatFloat(f, 'g', -1, bitSize), typ))
		keys = append(keys, fmt.Sprintf("%d %016x", bitSize, math.Float64bits(f)))
	}
	lines := runClient(t, "MERGE_PSQL", []string{"-At"}, stmts)
	var b strings.Builder
	b.WriteString("# bit size, float64 bits, what PostgreSQL printed (recorded by go test -update)\n")
	for i, k := range keys {
		fmt.Fprintf(&b, "%s %s\n", k, lines[i])
	}
	writeRecorded(t, path, b.String())
}

// recordAvg draws random data split over 1 to 4 shards, asks the server
// for each shard's SUM and COUNT and for the AVG over all of it.
func recordAvg(t *testing.T, path, env string) {
	mysql := env == "MERGE_MARIADB"
	r := rand.New(rand.NewSource(7))
	value := func(scale int) string {
		mag := []int64{1, 10, 1000, 100000, 1e9, 1e12}[r.Intn(6)]
		v := r.Int63n(2*mag+1) - mag
		if r.Intn(8) == 0 {
			v = 0
		}
		s := strconv.FormatInt(v, 10)
		neg := strings.HasPrefix(s, "-")
		s = strings.TrimPrefix(s, "-")
		for len(s) <= scale {
			s = "0" + s
		}
		if scale > 0 {
			s = s[:len(s)-scale] + "." + s[len(s)-scale:]
		}
		if neg {
			s = "-" + s
		}
		return s
	}
	type trial struct {
		letter string
		shards int
	}
	var trials []trial
	var stmts []string
	text := "text"
	if mysql {
		text = "char(100)" // MySQL casts only to CHAR; PostgreSQL's CHAR pads
	}
	for range 600 {
		scale, letter := 0, "i"
		typ := "bigint"
		if mysql {
			typ = "signed"
		}
		if r.Intn(2) == 0 {
			letter = "d"
			if mysql {
				scale = r.Intn(31)
				typ = fmt.Sprintf("decimal(30,%d)", scale)
			} else {
				scale = r.Intn(8)
				typ = "numeric"
			}
		}
		parts := make([][]string, 1+r.Intn(4))
		for range 1 + r.Intn(12) {
			s := r.Intn(len(parts))
			parts[s] = append(parts[s], value(scale))
		}
		rel := func(vs []string) string {
			if len(vs) == 0 {
				return fmt.Sprintf("(select cast(null as %s) as x from (select 1) z where false) t", typ)
			}
			sel := make([]string, len(vs))
			for i, v := range vs {
				sel[i] = fmt.Sprintf("select cast(%s as %s) as x", v, typ)
			}
			return "(" + strings.Join(sel, " union all ") + ") t"
		}
		var all []string
		for _, p := range parts {
			all = append(all, p...)
			stmts = append(stmts, fmt.Sprintf("select concat(coalesce(cast(sum(x) as %s), '~'), '|', count(x)) from %s;", text, rel(p)))
		}
		stmts = append(stmts, fmt.Sprintf("select coalesce(cast(avg(x) as %s), '~') from %s;", text, rel(all)))
		trials = append(trials, trial{letter, len(parts)})
	}
	args := []string{"-At"}
	server := "PostgreSQL"
	if mysql {
		args, server = []string{"-N", "-B"}, "MariaDB"
	}
	lines := runClient(t, env, args, stmts)
	var b strings.Builder
	fmt.Fprintf(&b, "# column type (i integer, d decimal), each shard's SUM|COUNT, => what %s printed for the AVG over all rows\n", server)
	for _, tr := range trials {
		fmt.Fprintf(&b, "%s %s => %s\n", tr.letter, strings.Join(lines[:tr.shards], " "), lines[tr.shards])
		lines = lines[tr.shards+1:]
	}
	writeRecorded(t, path, b.String())
}

func writeRecorded(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
