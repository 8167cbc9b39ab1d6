package myserver

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/shardgate/shardgate/topology"
	"github.com/shardgate/shardgate/topology/localcluster"
)

const typesSchema = `CREATE TABLE types (
  id INT PRIMARY KEY, i INT, u BIGINT UNSIGNED, d DECIMAL(12,3), f DOUBLE, e DOUBLE, r FLOAT,
  dt DATE, ts DATETIME(3), tm TIME, v VARCHAR(32) COLLATE utf8mb4_general_ci, b VARBINARY(16))`

// typeValues are SQL literals per column. DOUBLE f and FLOAT r hold
// values whose sums are exact in any order (so SUM over shards must equal
// SUM on one server digit for digit: their binary digits span less than
// 53 bits); e holds wide exponents and is not summed.
var typeValues = []struct {
	col     string
	numeric bool
	values  []string
}{
	{"i", true, []string{"-2147483648", "-5", "0", "7", "2147483647", "NULL", "7", "123456"}},
	{"u", true, []string{"0", "1", "18446744073709551615", "9223372036854775808", "42", "NULL", "18446744073709551614"}},
	{"d", true, []string{"-12.500", "0.001", "999999999.999", "0", "3.140", "NULL", "-999999999.999", "0.010"}},
	{"f", true, []string{"-2.5", "0.125", "1024.75", "3e12", "NULL", "-0.0625", "65536"}},
	{"e", false, []string{"1e20", "1.5e-7", "-3.25e-10", "6.02e23", "NULL", "123456789012345", "-1e15", "0.1"}},
	{"r", true, []string{"1.1", "-0.5", "0.1", "16384", "2.5", "100.01", "NULL"}},
	{"dt", false, []string{"'2024-02-29'", "'1999-12-31'", "'0001-01-01'", "'9999-12-31'", "NULL", "'2024-03-01'"}},
	{"ts", false, []string{"'2024-01-01 00:00:00.000'", "'2024-01-01 00:00:00.500'", "'1970-01-01 00:00:00.001'", "'2038-01-19 03:14:08.999'", "NULL", "'0999-06-15 12:00:00.250'"}},
	{"tm", false, []string{"'-838:59:59'", "'-01:00:00'", "'-00:30:00'", "'00:00:00'", "'00:30:00'", "'99:00:00'", "'100:00:00'", "'838:59:59'", "NULL", "'-100:00:00'", "'09:00:00'"}},
	{"v", false, []string{"'apple'", "'Apple'", "'APPLE '", "'äpple'", "'banana'", "'Ärger'", "'zebra'", "'Zoë'", "'zoe'", "'éclair'", "'Eclair'",
		"'straße'", "'strasse'", "'ß'", "'s'", "'t'", "'Æon'", "'Ðe'", "'Øre'", "'😀'", "'😃'", "''", "' '", "NULL"}},
	{"b", false, []string{"x'00'", "x'FF'", "x'0001'", "'abc'", "'ABC'", "''", "NULL", "x'7f80'"}},
}

// typeRows is how many rows the table gets: every value of every column
// appears, in varied combinations.
const typeRows = 48

func typeInserts() []string {
	var out []string
	cols := []string{"id"}
	for _, c := range typeValues {
		cols = append(cols, c.col)
	}
	for j := range typeRows {
		vals := []string{fmt.Sprint(j + 1)}
		for k, c := range typeValues {
			vals = append(vals, c.values[(j*(k+1)+k)%len(c.values)])
		}
		out = append(out, fmt.Sprintf("INSERT INTO types (%s) VALUES (%s)", strings.Join(cols, ", "), strings.Join(vals, ", ")))
	}
	return out
}

// typeQueries lists the queries compared; ci marks those whose values of
// v are any member of an equal group (compared by collation weight).
func typeQueries() (queries []string, ci map[string]bool) {
	ci = map[string]bool{}
	for _, c := range typeValues {
		x := c.col
		queries = append(queries,
			fmt.Sprintf("SELECT id, %s FROM types ORDER BY %s, id", x, x),
			fmt.Sprintf("SELECT id, %s FROM types ORDER BY %s DESC, id DESC", x, x),
			fmt.Sprintf("SELECT id, %s FROM types ORDER BY %s, id LIMIT 5 OFFSET 3", x, x),
			fmt.Sprintf("SELECT MIN(%s), MAX(%s), COUNT(%s), COUNT(*) FROM types", x, x, x),
			fmt.Sprintf("SELECT DISTINCT %s FROM types ORDER BY %s", x, x),
			fmt.Sprintf("SELECT %s, COUNT(*), MIN(id), MAX(id) FROM types GROUP BY %s ORDER BY %s", x, x, x),
		)
		if c.numeric {
			queries = append(queries, fmt.Sprintf("SELECT SUM(%s), AVG(%s) FROM types", x, x))
		}
	}
	queries = append(queries,
		"SELECT v, COUNT(*), SUM(i), SUM(d), MIN(tm), MAX(ts) FROM types GROUP BY v ORDER BY v",
		"SELECT b, COUNT(*), AVG(u) FROM types GROUP BY b ORDER BY b",
		"SELECT tm, COUNT(*) FROM types GROUP BY tm ORDER BY COUNT(*) DESC, tm LIMIT 3",
		"SELECT MIN(tm), MAX(tm) FROM types WHERE tm < '00:00:00'",
		"SELECT MIN(tm), MAX(tm) FROM types WHERE tm >= '00:00:00'",
	)
	for _, q := range queries {
		if strings.Contains(q, "MIN(v)") || strings.Contains(q, "DISTINCT v") || strings.Contains(q, "GROUP BY v") {
			ci[q] = true
		}
	}
	return queries, ci
}

// TestScatterTypesMatchOneServer: the same rows in a sharded table behind
// the proxy and in one plain server; ORDER BY, LIMIT, DISTINCT, GROUP BY
// and aggregates over every column type must answer alike, with the text
// protocol and with prepared statements (binary protocol).
func TestScatterTypesMatchOneServer(t *testing.T) {
	f := startFixture(t, 0, func(c *topology.Config) {
		c.Databases[0].Tables["types"] = topology.TableRule{Key: "id", Type: "int"}
	})
	single := localcluster.StartForTest(t, localcluster.KindMySQL, localcluster.Options{Shards: 1, ReplicasPerShard: localcluster.NoReplicas, Database: "shop"})
	ctx := t.Context()
	for _, sh := range f.cluster.Shards {
		if err := f.cluster.Exec(ctx, sh.Primary, typesSchema); err != nil {
			t.Fatal(err)
		}
	}
	if err := single.Exec(ctx, single.Shards[0].Primary, typesSchema); err != nil {
		t.Fatal(err)
	}
	direct, err := sql.Open("mysql", single.DSN(single.Shards[0].Primary))
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Close()
	proxy := f.open(t, map[string]string{"interpolateParams": "false"})
	for _, ins := range typeInserts() {
		mustExec(t, proxy, ins)
		mustExec(t, direct, ins)
	}
	for s := range f.cluster.Shards {
		if n := queryInt(t, f.shardDB(t, s), "SELECT COUNT(*) FROM types"); n == 0 || n == typeRows {
			t.Fatalf("shard %d has %d of %d rows: not spread", s, n, typeRows)
		}
	}
	weights := map[string]string{}
	weight := func(v string) string { // v's collation weight, per the server
		if w, ok := weights[v]; ok {
			return w
		}
		var w string
		if err := direct.QueryRow("SELECT HEX(WEIGHT_STRING(CONVERT(? USING utf8mb4) COLLATE utf8mb4_general_ci))", v).Scan(&w); err != nil {
			t.Fatal(err)
		}
		weights[v] = "w:" + w
		return weights[v]
	}
	queries, ci := typeQueries()
	mismatches := 0
	for _, binary := range []bool{false, true} {
		for _, q := range queries {
			want, err := fetchRows(ctx, direct, q, binary)
			if err != nil {
				t.Fatalf("one server: %s: %v", q, err)
			}
			got, err := fetchRows(ctx, proxy, q, binary)
			switch {
			case err != nil:
				mismatches++
				t.Errorf("binary=%v %s\n  shardgate refused: %v", binary, q, err)
				continue
			case ci[q]:
				want, got = byWeight(want, weight), byWeight(got, weight)
			}
			if g, w := fmtTable(got), fmtTable(want); g != w {
				mismatches++
				t.Errorf("binary=%v %s\n  shardgate:  %s\n  one server: %s", binary, q, g, w)
			}
		}
	}
	t.Logf("%d queries x 2 protocols, %d mismatches", len(queries), mismatches)
}

// byWeight replaces the first column of each row (a value of v) by its
// collation weight: under a _ci collation a group or DISTINCT answers
// any of its equal members.
func byWeight(rows [][]*string, weight func(string) string) [][]*string {
	out := make([][]*string, len(rows))
	for i, r := range rows {
		out[i] = append([]*string(nil), r...)
		for j, v := range r {
			if v != nil && j < 2 {
				w := weight(*v)
				out[i][j] = &w
			}
		}
	}
	return out
}

// fetchRows runs q with the text protocol or as a prepared statement
// (binary protocol) and returns every value (nil for NULL).
func fetchRows(ctx context.Context, db *sql.DB, q string, binary bool) ([][]*string, error) {
	var rows *sql.Rows
	var err error
	if binary {
		st, perr := db.PrepareContext(ctx, q)
		if perr != nil {
			return nil, perr
		}
		defer st.Close()
		rows, err = st.QueryContext(ctx)
	} else {
		rows, err = db.QueryContext(ctx, q)
	}
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out [][]*string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		row := make([]*string, len(cols))
		for i, v := range vals {
			if v.Valid {
				row[i] = &v.String
			}
		}
		out = append(out, row)
	}
	return out, rows.Err()
}

// fmtTable prints rows as "a|b|NULL" lines, quoted.
func fmtTable(rows [][]*string) string {
	lines := make([]string, len(rows))
	for i, r := range rows {
		cells := make([]string, len(r))
		for j, v := range r {
			if v == nil {
				cells[j] = "NULL"
			} else {
				cells[j] = *v
			}
		}
		lines[i] = strings.Join(cells, "|")
	}
	return fmt.Sprintf("%q", lines)
}
