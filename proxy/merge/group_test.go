package merge

import (
	"testing"

	"github.com/shardgate/shardgate/router"
)

func agg(col int, fn router.Aggregate) router.AggColumn {
	return router.AggColumn{Column: col, Func: fn}
}

func avg(col, count int) router.AggColumn {
	return router.AggColumn{Column: col, Func: router.AggAvg, CountColumn: count}
}

func aggs(a ...router.AggColumn) router.Merge {
	return router.Merge{Limit: -1, Aggregates: a}
}

// TestAggregates: aggregates without GROUP BY (each shard returns one
// row).
func TestAggregates(t *testing.T) {
	runCases(t, []mergeCase{
		{name: "count adds", spec: aggs(agg(0, router.AggCount)), types: "i",
			shards: [][]string{{"3"}, {"4"}, {"0"}}, want: []string{"7"}},
		{name: "count beyond int64", spec: aggs(agg(0, router.AggCount)), types: "i",
			shards: [][]string{{"9223372036854775807"}, {"9223372036854775807"}, {"2"}},
			want:   []string{"18446744073709551616"}},
		{name: "sum beyond int64 and back", spec: aggs(agg(0, router.AggSum)), types: "i",
			shards: [][]string{{"9223372036854775807"}, {"1"}, {"-9223372036854775807"}, {"99999999999999999999999"}},
			want:   []string{"100000000000000000000000"}},
		{name: "negative int64 overflow", spec: aggs(agg(0, router.AggSum)), types: "i",
			shards: [][]string{{"-9223372036854775808"}, {"-1"}},
			want:   []string{"-9223372036854775809"}},
		{name: "uint sum", spec: aggs(agg(0, router.AggSum)), types: "u",
			shards: [][]string{{"18446744073709551615"}, {"1"}},
			want:   []string{"18446744073709551616"}},
		{name: "sum skips NULL shards", spec: aggs(agg(0, router.AggSum)), types: "i",
			shards: [][]string{{"~"}, {"5"}, {"-7"}}, want: []string{"-2"}},
		{name: "sum of only NULLs is NULL, count of nothing 0", spec: aggs(agg(0, router.AggSum), agg(1, router.AggCount)), types: "ii",
			shards: [][]string{{"~|0"}, {"~|0"}}, want: []string{"~|0"}},
		{name: "decimal sum keeps the largest scale", spec: aggs(agg(0, router.AggSum)), types: "d",
			shards: [][]string{{"1.5"}, {"2.25"}, {"1e3"}, {"-0.75"}}, want: []string{"1003.00"}},
		{name: "decimal sum 1.50 + 2.5", spec: aggs(agg(0, router.AggSum)), types: "d",
			shards: [][]string{{"1.50"}, {"2.5"}}, want: []string{"4.00"}},
		{name: "decimal sum below one", spec: aggs(agg(0, router.AggSum)), types: "d",
			shards: [][]string{{"-0.0015"}, {"0.0005"}}, want: []string{"-0.0010"}},
		{name: "decimal sum with many digits", spec: aggs(agg(0, router.AggSum)), types: "d",
			shards: [][]string{{"12345678901234567890123.000000001"}, {"0.999999999"}}, want: []string{"12345678901234567890124.000000000"}},
		{name: "decimal Infinity", spec: aggs(agg(0, router.AggSum)), types: "d",
			shards: [][]string{{"Infinity"}, {"1"}}, want: []string{"Infinity"}},
		{name: "decimal Infinity + -Infinity is NaN", spec: aggs(agg(0, router.AggSum)), types: "d",
			shards: [][]string{{"Infinity"}, {"-Infinity"}, {"2"}}, want: []string{"NaN"}},
		{name: "float sum", spec: aggs(agg(0, router.AggSum)), types: "f",
			shards: [][]string{{"0.1"}, {"0.2"}}, want: []string{"0.30000000000000004"}},
		{name: "float32 sum in single precision", spec: aggs(agg(0, router.AggSum)), types: "g",
			shards: [][]string{{"0.1"}, {"0.2"}}, want: []string{"0.3"}},
		{name: "float sum with NaN", spec: aggs(agg(0, router.AggSum)), types: "f",
			shards: [][]string{{"1"}, {"NaN"}}, want: []string{"NaN"}},
		{name: "float sum to exponent form", spec: aggs(agg(0, router.AggSum)), types: "f",
			shards: [][]string{{"5e14"}, {"5e14"}}, want: []string{"1e+15"}},
		{name: "min and max compare by type", spec: aggs(agg(0, router.AggMin), agg(1, router.AggMax), agg(2, router.AggMax)), types: "ddb",
			shards: [][]string{{"10|9.5|10"}, {"-2.5|10|9"}, {"~|~|~"}}, want: []string{"-2.5|10|9"}},
		{name: "max of floats is NaN", spec: aggs(agg(0, router.AggMin), agg(1, router.AggMax)), types: "ff",
			shards: [][]string{{"1|NaN"}, {"NaN|1"}, {"-Infinity|2"}}, want: []string{"-Infinity|NaN"}},
		{name: "min and max of folded text keep their own keys", spec: aggs(agg(0, router.AggMin), agg(1, router.AggMax)), types: "cc",
			shards: [][]string{{"b|b"}, {"a|c"}, {"c|a"}, {"B|C"}}, want: []string{"a|c"}},
		{name: "min of only NULLs", spec: aggs(agg(0, router.AggMin)), types: "i",
			shards: [][]string{{"~"}, {"~"}}, want: []string{"~"}},
		{name: "no sources: one row, count 0", spec: aggs(agg(0, router.AggCount), agg(1, router.AggSum), agg(2, router.AggMax), avg(3, 4)), types: "iidii",
			shards: nil, want: []string{"0|~|~|~|0"}},
		{name: "aggregate with order and limit still one row", spec: router.Merge{Limit: 1, OrderBy: []router.SortKey{asc(0)}, Aggregates: []router.AggColumn{agg(0, router.AggCount)}},
			types: "i", shards: [][]string{{"1"}, {"2"}}, want: []string{"3"}},
		{name: "limit 0", spec: router.Merge{Limit: 0, Aggregates: []router.AggColumn{agg(0, router.AggCount)}},
			types: "i", shards: [][]string{{"1"}}, want: nil},
	})
}

// TestAvg: AVG arrives as SUM plus a hidden COUNT. The expected texts are
// what PostgreSQL 15 and MariaDB 10.11 print for the same AVG on one
// server.
func TestAvg(t *testing.T) {
	pg := Options{}
	my := Options{AvgScale: 4}
	one := func(sums ...string) [][]string {
		out := make([][]string, len(sums))
		for i, s := range sums {
			out[i] = []string{s}
		}
		return out
	}
	avgSpec := router.Merge{Limit: -1, Aggregates: []router.AggColumn{avg(0, 1)}, Hidden: 1}
	runCases(t, []mergeCase{
		{name: "pg int: avg(1,2,3,4)", spec: avgSpec, types: "ii", opt: pg, shards: one("3|2", "7|2"), want: []string{"2.5000000000000000"}},
		{name: "mysql int: avg(1,2,3,4)", spec: avgSpec, types: "di", opt: my, shards: one("3|2", "7|2"), want: []string{"2.5000"}},
		{name: "pg avg(1)", spec: avgSpec, types: "ii", opt: pg, shards: one("1|1", "~|0"), want: []string{"1.00000000000000000000"}},
		{name: "mysql avg(1,1,1)", spec: avgSpec, types: "di", opt: my, shards: one("2|2", "1|1"), want: []string{"1.0000"}},
		{name: "pg rounds half away from zero", spec: avgSpec, types: "ii", opt: pg, shards: one("1|2", "1|1"), want: []string{"0.66666666666666666667"}},
		{name: "pg negative", spec: avgSpec, types: "ii", opt: pg, shards: one("-1|2", "-1|1"), want: []string{"-0.66666666666666666667"}},
		{name: "pg large values get fewer digits", spec: avgSpec, types: "ii", opt: pg, shards: one("123456789|1", "1|1"), want: []string{"61728395.000000000000"}},
		{name: "pg 5000", spec: avgSpec, types: "ii", opt: pg, shards: one("9999|1", "1|1"), want: []string{"5000.0000000000000000"}},
		{name: "pg decimal sums", spec: avgSpec, types: "di", opt: pg, shards: one("1.25|1", "2.50|1"), want: []string{"1.8750000000000000"}},
		{name: "mysql decimal sums", spec: avgSpec, types: "di", opt: my, shards: one("1.25|1", "2.50|1"), want: []string{"1.875000"}},
		{name: "mysql rounds at scale 7", spec: avgSpec, types: "di", opt: my, shards: one("2.000|3"), want: []string{"0.6666667"}},
		{name: "mysql truncates at a word boundary (scale 5+4)", spec: avgSpec, types: "di", opt: my,
			shards: one("0.99827|2", "~|0", "-0.00492|1"), want: []string{"0.331116666"}},
		{name: "mysql truncates at scale 14+4", spec: avgSpec, types: "di", opt: my,
			shards: one("2.00000000000000|3"), want: []string{"0.666666666666666666"}},
		{name: "mysql ints round", spec: avgSpec, types: "di", opt: my, shards: one("2|3"), want: []string{"0.6667"}},
		{name: "pg small decimals", spec: avgSpec, types: "di", opt: pg, shards: one("0.5|1", "0.25|1"), want: []string{"0.37500000000000000000"}},
		{name: "pg scale from the sum", spec: avgSpec, types: "di", opt: pg, shards: one("123456.789|1", "1.000|1"), want: []string{"61728.894500000000"}},
		{name: "pg tiny", spec: avgSpec, types: "di", opt: pg, shards: one("0.00001234|1", "0|1"), want: []string{"0.000006170000000000000000"}},
		{name: "pg zeros", spec: avgSpec, types: "di", opt: pg, shards: one("0|1", "0|1"), want: []string{"0.00000000000000000000"}},
		{name: "pg 1..10001", spec: avgSpec, types: "di", opt: pg, shards: one("12502500|5000", "37512501|5001"), want: []string{"5001.0000000000000000"}},
		{name: "count 0 is NULL", spec: avgSpec, types: "ii", opt: pg, shards: one("~|0", "~|0"), want: []string{"~"}},
		{name: "numeric Infinity", spec: avgSpec, types: "di", opt: pg, shards: one("Infinity|1", "1|1"), want: []string{"Infinity"}},
		{name: "float avg", spec: avgSpec, types: "fi", opt: pg, shards: one("1.5|1", "2|1"), want: []string{"1.75"}},
		{name: "count beyond int64", spec: avgSpec, types: "ii", opt: pg,
			shards: one("18446744073709551614|9223372036854775807", "18446744073709551614|9223372036854775807"), want: []string{"2.0000000000000000"}},
		{name: "grouped, hidden count", spec: router.Merge{Limit: -1, GroupBy: []int{0}, Aggregates: []router.AggColumn{avg(1, 2)}, Hidden: 1},
			types: "bii", opt: pg,
			shards: [][]string{{"a|10|4", "b|1|1"}, {"a|5|2", "c|~|0"}},
			want:   []string{"a|2.5000000000000000", "b|1.00000000000000000000", "c|~"}},
		{name: "beside other aggregates", spec: router.Merge{Limit: -1, Aggregates: []router.AggColumn{agg(0, router.AggCount), avg(1, 2)}, Hidden: 1},
			types: "idi", opt: my,
			shards: [][]string{{"2|3.0|2"}, {"1|0.5|1"}},
			want:   []string{"3|1.16667"}},
	})
}

func TestGroupBy(t *testing.T) {
	countBy := func(group int) router.Merge {
		return router.Merge{Limit: -1, GroupBy: []int{group}, Aggregates: []router.AggColumn{agg(1-group, router.AggCount)}}
	}
	statusCounts := [][]string{{"a|1", "b|2"}, {"b|3", "~|1"}, {"~|2", "a|4"}}
	runCases(t, []mergeCase{
		{name: "groups in first-seen order, NULLs one group", spec: countBy(0), types: "bi", shards: statusCounts,
			want: []string{"a|5", "b|5", "~|3"}},
		{name: "hidden group column (SELECT count(*) ... GROUP BY status)",
			spec:   router.Merge{Limit: -1, GroupBy: []int{1}, Aggregates: []router.AggColumn{agg(0, router.AggCount)}, Hidden: 1},
			types:  "ib",
			shards: [][]string{{"1|a", "2|b"}, {"3|b", "1|~"}, {"2|~"}},
			want:   []string{"1", "5", "3"}},
		{name: "group by without aggregates", spec: router.Merge{Limit: -1, GroupBy: []int{0}}, types: "b",
			shards: [][]string{{"x", "y"}, {"y", "z"}}, want: []string{"x", "y", "z"}},
		{name: "numbers group by value, the first spelling shows", spec: countBy(0), types: "di",
			shards: [][]string{{"1.0|1", "-0.0|1"}, {"1|1", "0|1", "1e0|1", "-1|1"}, {"1.00|1", "~|1"}},
			want:   []string{"1.0|4", "-0.0|2", "-1|1", "~|1"}},
		{name: "float -0 and 0, NaN and nan", spec: countBy(0), types: "fi",
			shards: [][]string{{"-0|1", "NaN|1"}, {"0|1", "nan|1", "0.5|1"}}, want: []string{"-0|2", "NaN|2", "0.5|1"}},
		{name: "text groups by bytes", spec: countBy(0), types: "bi",
			shards: [][]string{{"a|1", "A|1"}, {"a |1", "a|1"}}, want: []string{"a|2", "A|1", "a |1"}},
		{name: "bad group value", spec: countBy(0), types: "ii",
			shards: [][]string{{"1|1"}, {"x|1"}}, wantErr: ErrBadValue},
		{name: "two group columns", spec: router.Merge{Limit: -1, GroupBy: []int{0, 1}, Aggregates: []router.AggColumn{agg(2, router.AggSum)}}, types: "bbi",
			shards: [][]string{{"a|x|1", "a|y|2"}, {"a|x|3", "ax||4"}, {"a|x|~"}}, want: []string{"a|x|4", "a|y|2", "ax||4"}},
		{name: "order by the count desc, then limit", spec: router.Merge{Limit: 2, GroupBy: []int{0}, OrderBy: []router.SortKey{desc(1)}, Aggregates: []router.AggColumn{agg(1, router.AggCount)}},
			types: "bi", shards: [][]string{{"a|1", "b|2", "c|9"}, {"a|20", "b|3"}},
			want: []string{"a|21", "c|9"}},
		{name: "order by group column numerically, offset", spec: router.Merge{Limit: -1, Offset: 1, GroupBy: []int{0}, OrderBy: []router.SortKey{asc(0)}, Aggregates: []router.AggColumn{agg(1, router.AggMax)}},
			types: "ii", shards: [][]string{{"10|1", "9|2"}, {"~|1", "10|5", "100|0"}},
			want: []string{"10|5", "100|0", "~|1"}},
		{name: "order ties keep first-seen order", spec: router.Merge{Limit: -1, GroupBy: []int{0}, OrderBy: []router.SortKey{asc(1)}, Aggregates: []router.AggColumn{agg(1, router.AggSum)}},
			types: "bi", shards: [][]string{{"b|1", "a|1"}, {"c|2", "d|1"}},
			want: []string{"b|1", "a|1", "d|1", "c|2"}},
		{name: "distinct over groups (SELECT DISTINCT count(*) ... GROUP BY k)", spec: router.Merge{Limit: -1, Distinct: true, GroupBy: []int{1}, Aggregates: []router.AggColumn{agg(0, router.AggCount)}, Hidden: 1},
			types: "ib", shards: [][]string{{"1|a", "2|b"}, {"1|b", "3|c"}},
			want: []string{"1", "3"}},
		{name: "no sources, grouped: no rows", spec: countBy(0), types: "bi", shards: nil, want: nil},
		{name: "too many groups", spec: countBy(0), types: "bi", opt: Options{MaxRows: 2},
			shards: [][]string{{"a|1", "b|1"}, {"a|1", "c|1"}}, wantErr: ErrTooManyRows},
		{name: "many groups within the limit", spec: countBy(0), types: "bi", opt: Options{MaxRows: 3},
			shards: [][]string{{"a|1", "b|1"}, {"a|1", "c|1"}}, want: []string{"a|2", "b|1", "c|1"}},
		{name: "no limit when negative", spec: countBy(0), types: "bi", opt: Options{MaxRows: -1},
			shards: [][]string{{"a|1", "b|1"}, {"c|1"}}, want: []string{"a|1", "b|1", "c|1"}},
	})
}

// TestCoalescedAggregates: COALESCE(agg, default) arrives as the shards'
// own COALESCE plus a hidden COUNT of the values each saw. A shard that
// saw none sent the default, which must not be combined; when no shard
// saw any, the default is the answer, printed as the shards printed it.
func TestCoalescedAggregates(t *testing.T) {
	co := func(col int, fn router.Aggregate, count int) router.AggColumn {
		return router.AggColumn{Column: col, Func: fn, CountColumn: count, Coalesced: true, DefaultColumn: col}
	}
	// AVG: the shards send COALESCE(SUM(x), d), COUNT(x) and the item as
	// written, COALESCE(AVG(x), d), whose text is the answer over nothing.
	coAvg := router.Merge{Limit: -1, Hidden: 2, Aggregates: []router.AggColumn{
		{Column: 0, Func: router.AggAvg, CountColumn: 1, Coalesced: true, DefaultColumn: 2}}}
	spec := func(a ...router.AggColumn) router.Merge {
		return router.Merge{Limit: -1, Aggregates: a, Hidden: 1}
	}
	one := func(rows ...string) [][]string {
		out := make([][]string, len(rows))
		for i, r := range rows {
			out[i] = []string{r}
		}
		return out
	}
	runCases(t, []mergeCase{
		{name: "sum leaves out the defaults of empty shards", spec: spec(co(0, router.AggSum, 1)), types: "ii",
			shards: one("5|0", "3|2", "4|1"), want: []string{"7"}},
		{name: "sum over nothing is the default as printed", spec: spec(co(0, router.AggSum, 1)), types: "di",
			shards: one("0.00|0", "0.00|0"), want: []string{"0.00"}},
		{name: "max ignores a default larger than every value", spec: spec(co(0, router.AggMax, 1)), types: "ii",
			shards: one("100|0", "4|2", "9|1"), want: []string{"9"}},
		{name: "min over nothing", spec: spec(co(0, router.AggMin, 1)), types: "bi",
			shards: one("none|0", "none|0"), want: []string{"none"}},
		{name: "avg: sum and count of the shards that saw values", spec: coAvg, types: "did",
			opt: Options{AvgScale: 4}, shards: one("7.00|0|7.000000", "3.00|2|1.500000", "3.00|1|3.000000"), want: []string{"2.000000"}},
		{name: "avg over nothing", spec: coAvg, types: "did",
			opt: Options{AvgScale: 4}, shards: one("0.00|0|0.000000", "0.00|0|0.000000"), want: []string{"0.000000"}},
		{name: "per group", spec: router.Merge{Limit: -1, GroupBy: []int{0}, Aggregates: []router.AggColumn{co(1, router.AggSum, 2)}, Hidden: 1},
			types: "bii", shards: [][]string{{"a|0|0", "b|0|0"}, {"a|5|1"}}, want: []string{"a|5", "b|0"}},
	})
}
