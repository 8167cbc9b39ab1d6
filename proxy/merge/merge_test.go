package merge

import (
	"errors"
	"fmt"
	"io"
	"math/rand"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/shardgate/shardgate/router"
)

// mergeCase is one merge: the spec, column types (see typesOf), each
// shard's rows in the row notation, and the rows or error expected.
type mergeCase struct {
	name    string
	spec    router.Merge
	types   string
	shards  [][]string
	opt     Options
	want    []string
	wantErr error
}

func runCases(t *testing.T, cases []mergeCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srcs, _ := shards(c.shards)
			m, err := New(&c.spec, typesOf(c.types), srcs, c.opt)
			if err == nil {
				var got []string
				got, err = drain(m)
				if c.wantErr == nil {
					equalRows(t, got, c.want)
				}
			}
			switch {
			case c.wantErr == nil && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case c.wantErr != nil && !errors.Is(err, c.wantErr):
				t.Fatalf("error = %v, want %v", err, c.wantErr)
			}
		})
	}
}

// spec shorthands.
func plain() router.Merge { return router.Merge{Limit: -1} }

func limited(limit, offset int64) router.Merge {
	return router.Merge{Limit: limit, Offset: offset}
}

func ordered(keys ...router.SortKey) router.Merge {
	return router.Merge{Limit: -1, OrderBy: keys}
}

func asc(col int) router.SortKey  { return router.SortKey{Column: col} }
func desc(col int) router.SortKey { return router.SortKey{Column: col, Desc: true, NullsFirst: true} }

func TestConcat(t *testing.T) {
	three := [][]string{{"1", "2"}, {"3", "4"}, {"5"}}
	runCases(t, []mergeCase{
		{name: "all rows in source order", spec: plain(), types: "i", shards: three, want: []string{"1", "2", "3", "4", "5"}},
		{name: "limit across sources", spec: limited(3, 0), types: "i", shards: three, want: []string{"1", "2", "3"}},
		{name: "offset and limit across sources", spec: limited(3, 1), types: "i", shards: three, want: []string{"2", "3", "4"}},
		{name: "offset only", spec: limited(-1, 3), types: "i", shards: three, want: []string{"4", "5"}},
		{name: "limit 0", spec: limited(0, 0), types: "i", shards: three, want: nil},
		{name: "offset past the end", spec: limited(10, 7), types: "i", shards: three, want: nil},
		{name: "offset exactly the end", spec: limited(10, 5), types: "i", shards: three, want: nil},
		{name: "empty sources", spec: plain(), types: "i", shards: [][]string{{}, {"1"}, {}}, want: []string{"1"}},
		{name: "no sources", spec: plain(), types: "i", shards: nil, want: nil},
		{name: "hidden column dropped", spec: router.Merge{Limit: -1, Hidden: 1}, types: "bi", shards: [][]string{{"a|1"}, {"b|2"}}, want: []string{"a", "b"}},
		{name: "nulls and empty strings kept apart", spec: plain(), types: "b", shards: [][]string{{"~", ""}}, want: []string{"~", ""}},
	})
}

func TestOrderBy(t *testing.T) {
	nullsFirst := router.SortKey{Column: 0, NullsFirst: true}
	descNullsLast := router.SortKey{Column: 0, Desc: true}
	withNulls := func(asc bool, nullsFirst bool) [][]string {
		// Each shard sorted as the server would have sorted it.
		a, b := []string{"1", "4"}, []string{"2", "3"}
		if !asc {
			a, b = []string{"4", "1"}, []string{"3", "2"}
		}
		if nullsFirst {
			return [][]string{append([]string{"~"}, a...), append([]string{"~"}, b...)}
		}
		return [][]string{append(a, "~"), append(b, "~")}
	}
	runCases(t, []mergeCase{
		{name: "int ascending", spec: ordered(asc(0)), types: "i",
			shards: [][]string{{"1", "5", "9"}, {"2", "3", "10"}, {}},
			want:   []string{"1", "2", "3", "5", "9", "10"}},
		{name: "int is numeric: 9 before 10", spec: ordered(asc(0)), types: "i",
			shards: [][]string{{"9", "10"}, {"2", "11"}},
			want:   []string{"2", "9", "10", "11"}},
		{name: "bytes is bytewise: 10 before 9", spec: ordered(asc(0)), types: "b",
			shards: [][]string{{"10", "9"}, {"11", "2"}},
			want:   []string{"10", "11", "2", "9"}},
		{name: "int descending", spec: ordered(desc(0)), types: "i",
			shards: [][]string{{"9", "5", "-1"}, {"10", "3", "-20"}},
			want:   []string{"10", "9", "5", "3", "-1", "-20"}},
		{name: "mixed signs and decimals", spec: ordered(asc(0)), types: "d",
			shards: [][]string{{"-1.5", "0", "3.25"}, {"-1", "0.5", "2e1"}},
			want:   []string{"-1.5", "-1", "0", "0.5", "3.25", "2e1"}},
		{name: "float NaN after Infinity", spec: ordered(asc(0)), types: "f",
			shards: [][]string{{"-Infinity", "1.5", "NaN"}, {"-2e3", "Infinity"}},
			want:   []string{"-Infinity", "-2e3", "1.5", "Infinity", "NaN"}},
		{name: "float descending puts NaN first", spec: ordered(desc(0)), types: "f",
			shards: [][]string{{"NaN", "1"}, {"Infinity", "-Infinity"}},
			want:   []string{"NaN", "Infinity", "1", "-Infinity"}},
		{name: "bool", spec: ordered(asc(0)), types: "t",
			shards: [][]string{{"f", "t"}, {"f"}},
			want:   []string{"f", "f", "t"}},
		{name: "big integers", spec: ordered(asc(0)), types: "i",
			shards: [][]string{{"-99999999999999999999", "9223372036854775808"}, {"-9223372036854775808", "5"}},
			want:   []string{"-99999999999999999999", "-9223372036854775808", "5", "9223372036854775808"}},
		{name: "asc nulls last", spec: ordered(asc(0)), types: "i", shards: withNulls(true, false),
			want: []string{"1", "2", "3", "4", "~", "~"}},
		{name: "asc nulls first", spec: ordered(nullsFirst), types: "i", shards: withNulls(true, true),
			want: []string{"~", "~", "1", "2", "3", "4"}},
		{name: "desc nulls first", spec: ordered(desc(0)), types: "i", shards: withNulls(false, true),
			want: []string{"~", "~", "4", "3", "2", "1"}},
		{name: "desc nulls last", spec: ordered(descNullsLast), types: "i", shards: withNulls(false, false),
			want: []string{"4", "3", "2", "1", "~", "~"}},
		{name: "ties keep source order", spec: ordered(asc(0)), types: "ib",
			shards: [][]string{{"1|s0a", "2|s0b"}, {"1|s1a", "1|s1b", "2|s1c"}, {"1|s2a"}},
			want:   []string{"1|s0a", "1|s1a", "1|s1b", "1|s2a", "2|s0b", "2|s1c"}},
		{name: "decimal ties across spellings are stable", spec: ordered(asc(0)), types: "db",
			shards: [][]string{{"1.0|s0"}, {"1|s1"}, {"1.00|s2"}},
			want:   []string{"1.0|s0", "1|s1", "1.00|s2"}},
		{name: "two keys: asc then desc", spec: ordered(asc(0), desc(1)), types: "bi",
			shards: [][]string{{"a|3", "a|1", "b|2"}, {"a|2", "b|5", "c|0"}},
			want:   []string{"a|3", "a|2", "a|1", "b|5", "b|2", "c|0"}},
		{name: "negative column counts from the end, hidden dropped",
			spec:   router.Merge{Limit: -1, OrderBy: []router.SortKey{{Column: -1}}, Hidden: 1},
			types:  "bbi",
			shards: [][]string{{"x|p|1", "y|q|4"}, {"z|r|2"}},
			want:   []string{"x|p", "z|r", "y|q"}},
		{name: "hidden sort key", spec: router.Merge{Limit: -1, OrderBy: []router.SortKey{desc(1)}, Hidden: 1}, types: "ib",
			shards: [][]string{{"1|2024-03-01 10:00:00", "2|2024-01-01 00:00:00"}, {"3|2024-02-01 12:30:00.5"}},
			want:   []string{"1", "3", "2"}},
		{name: "limit", spec: router.Merge{Limit: 3, OrderBy: []router.SortKey{asc(0)}}, types: "i",
			shards: [][]string{{"1", "4", "7"}, {"2", "5", "8"}, {"3", "6", "9"}},
			want:   []string{"1", "2", "3"}},
		{name: "offset and limit", spec: router.Merge{Limit: 3, Offset: 2, OrderBy: []router.SortKey{asc(0)}}, types: "i",
			shards: [][]string{{"1", "4", "7"}, {"2", "5", "8"}, {"3", "6", "9"}},
			want:   []string{"3", "4", "5"}},
		{name: "limit 0", spec: router.Merge{Limit: 0, OrderBy: []router.SortKey{asc(0)}}, types: "i",
			shards: [][]string{{"1"}, {"2"}}, want: nil},
		{name: "offset past the end", spec: router.Merge{Limit: 5, Offset: 10, OrderBy: []router.SortKey{asc(0)}}, types: "i",
			shards: [][]string{{"1"}, {"2"}}, want: nil},
		{name: "unsorted shard is an error, not a wrong order", spec: ordered(asc(0)), types: "b",
			shards: [][]string{{"a", "c"}, {"b", "B"}}, wantErr: ErrUnsorted},
		{name: "bad key value", spec: ordered(asc(0)), types: "i",
			shards: [][]string{{"1"}, {"x"}}, wantErr: ErrBadValue},
		{name: "null placement the shard disagrees with", spec: ordered(asc(0)), types: "i",
			shards: [][]string{{"~", "1"}}, wantErr: ErrUnsorted},
	})
}

func TestDistinct(t *testing.T) {
	runCases(t, []mergeCase{
		{name: "unordered keeps first occurrences", spec: router.Merge{Limit: -1, Distinct: true}, types: "b",
			shards: [][]string{{"a", "b", "a"}, {"b", "c", "~"}, {"~", ""}},
			want:   []string{"a", "b", "c", "~", ""}},
		{name: "over several columns", spec: router.Merge{Limit: -1, Distinct: true}, types: "bi",
			shards: [][]string{{"a|1", "a|2"}, {"a|1", "b|1", "~|~"}, {"~|~", "~|1"}},
			want:   []string{"a|1", "a|2", "b|1", "~|~", "~|1"}},
		{name: "only visible columns count", spec: router.Merge{Limit: -1, Distinct: true, Hidden: 1}, types: "bi",
			shards: [][]string{{"a|1"}, {"a|2", "b|3"}},
			want:   []string{"a", "b"}},
		{name: "numbers by value", spec: router.Merge{Limit: -1, Distinct: true}, types: "idfu",
			shards: [][]string{{"1|1.50|0|7", "01|1.5|-0|007"}, {"+1|15e-1|0.0|7", "-0|0|1|0"}, {"0|0.0|1|00"}},
			want:   []string{"1|1.50|0|7", "-0|0|1|0"}},
		{name: "column boundaries are part of the key", spec: router.Merge{Limit: -1, Distinct: true}, types: "bb",
			shards: [][]string{{"ab|c", "a|bc"}},
			want:   []string{"ab|c", "a|bc"}},
		{name: "ordered (UNION ... ORDER BY)", spec: router.Merge{Limit: -1, Distinct: true, OrderBy: []router.SortKey{asc(1)}}, types: "ib",
			shards: [][]string{{"1|a", "2|b", "3|c"}, {"2|b", "1|c", "3|c"}, {"1|a"}},
			want:   []string{"1|a", "2|b", "3|c", "1|c"}},
		{name: "ordered with limit and offset", spec: router.Merge{Limit: 2, Offset: 1, Distinct: true, OrderBy: []router.SortKey{asc(0)}}, types: "i",
			shards: [][]string{{"1", "2", "3"}, {"1", "2", "4"}},
			want:   []string{"2", "3"}},
		{name: "unordered with limit", spec: router.Merge{Limit: 2, Distinct: true}, types: "i",
			shards: [][]string{{"1", "1", "1"}, {"1", "2", "3"}},
			want:   []string{"1", "2"}},
		{name: "too many distinct rows", spec: router.Merge{Limit: -1, Distinct: true}, types: "i", opt: Options{MaxRows: 3},
			shards: [][]string{{"1", "2"}, {"3", "4"}}, wantErr: ErrTooManyRows},
		{name: "ordered distinct holds one run, not the result", spec: router.Merge{Limit: -1, Distinct: true, OrderBy: []router.SortKey{asc(0)}},
			types: "ib", opt: Options{MaxRows: 2},
			shards: [][]string{{"1|a", "1|b", "2|a", "3|a"}, {"1|b", "2|a", "2|b", "4|a"}},
			want:   []string{"1|a", "1|b", "2|a", "2|b", "3|a", "4|a"}},
		{name: "a long run, then short ones", spec: router.Merge{Limit: -1, Distinct: true, OrderBy: []router.SortKey{asc(0)}},
			types: "ii", opt: Options{MaxRows: 100},
			shards: [][]string{longRun(1, 100, "2|0", "3|0"), longRun(1, 100, "2|0", "2|1", "3|0")},
			want:   longRun(1, 100, "2|0", "2|1", "3|0")},
		{name: "ordered by a hidden key needs the whole set", spec: router.Merge{Limit: -1, Distinct: true, OrderBy: []router.SortKey{asc(1)}, Hidden: 1},
			types: "bi", opt: Options{MaxRows: 2},
			shards: [][]string{{"a|1", "b|2", "c|3"}}, wantErr: ErrTooManyRows},
	})
}

// longRun is n rows "key|0" .. "key|n-1", then more.
func longRun(key, n int, more ...string) []string {
	var out []string
	for i := range n {
		out = append(out, fmt.Sprintf("%d|%d", key, i))
	}
	return append(out, more...)
}

func TestSourceErrors(t *testing.T) {
	boom := errors.New("connection reset")
	for _, spec := range []router.Merge{
		plain(),
		ordered(asc(0)),
		{Limit: -1, Aggregates: []router.AggColumn{{Column: 0, Func: router.AggCount}}},
		{Limit: -1, Distinct: true},
	} {
		t.Run(fmt.Sprintf("%+v", spec), func(t *testing.T) {
			srcs := []Source{
				&sliceSource{rows: rows("1", "2")},
				&sliceSource{rows: rows("3"), err: boom, errAt: 1},
			}
			m, err := New(&spec, typesOf("i"), srcs, Options{})
			if err != nil {
				t.Fatal(err)
			}
			_, err = drain(m)
			var se *SourceError
			if !errors.Is(err, boom) || !errors.As(err, &se) || se.Source != 1 {
				t.Fatalf("error = %v, want source 1's error", err)
			}
			if want := "merge: source 1: connection reset"; err.Error() != want {
				t.Errorf("message %q, want %q", err, want)
			}
			// Sticky: the same error again, and no further pulls.
			if _, again := m.Next(); again != err {
				t.Fatalf("second Next = %v", again)
			}
		})
	}
}

func TestBadInput(t *testing.T) {
	runCases(t, []mergeCase{
		{name: "short row", spec: plain(), types: "ii", shards: [][]string{{"1|2"}, {"3"}}, wantErr: ErrBadRow},
		{name: "long row in an ordered merge", spec: ordered(asc(0)), types: "i", shards: [][]string{{"1"}, {"1|2"}}, wantErr: ErrBadRow},
		{name: "short row while grouping", spec: router.Merge{Limit: -1, GroupBy: []int{1}, Aggregates: []router.AggColumn{{Column: 0, Func: router.AggCount}}},
			types: "ib", shards: [][]string{{"1"}}, wantErr: ErrBadRow},
		{name: "bad number in a sum", spec: router.Merge{Limit: -1, Aggregates: []router.AggColumn{{Column: 0, Func: router.AggSum}}},
			types: "d", shards: [][]string{{"1.5"}, {"x"}}, wantErr: ErrBadValue},
	})
}

func TestBadSpec(t *testing.T) {
	cases := []struct {
		name  string
		spec  router.Merge
		types string
	}{
		{"order column out of range", ordered(asc(2)), "ii"},
		{"negative order column out of range", ordered(asc(-3)), "ii"},
		{"group column out of range", router.Merge{Limit: -1, GroupBy: []int{5}}, "i"},
		{"too many hidden", router.Merge{Limit: -1, Hidden: 3}, "ii"},
		{"negative offset", router.Merge{Limit: -1, Offset: -1}, "i"},
		{"sum of text", router.Merge{Limit: -1, Aggregates: []router.AggColumn{{Column: 0, Func: router.AggSum}}}, "b"},
		{"avg count out of range", router.Merge{Limit: -1, Aggregates: []router.AggColumn{{Column: 0, Func: router.AggAvg, CountColumn: 4}}}, "ii"},
		{"unmergeable aggregate", router.Merge{Limit: -1, Aggregates: []router.AggColumn{{Column: 0, Func: router.AggOther}}}, "i"},
	}
	for _, c := range cases {
		if _, err := New(&c.spec, typesOf(c.types), nil, Options{}); !errors.Is(err, ErrBadSpec) {
			t.Errorf("%s: err = %v, want ErrBadSpec", c.name, err)
		}
	}
	if _, err := New(nil, []Type{Type(200)}, nil, Options{}); !errors.Is(err, ErrBadSpec) {
		t.Errorf("unknown type: err = %v", err)
	}
}

// TestStopsPulling: once LIMIT is reached no source is read further,
// and LIMIT 0 reads nothing at all.
func TestStopsPulling(t *testing.T) {
	many := func(start, step int) []string {
		var out []string
		for i := range 1000 {
			out = append(out, fmt.Sprint(start+i*step))
		}
		return out
	}
	cases := []struct {
		name      string
		spec      router.Merge
		maxPulls  []int
		wantCount int
	}{
		{"ordered limit 3", router.Merge{Limit: 3, OrderBy: []router.SortKey{asc(0)}}, []int{2, 2}, 3},
		{"concat limit 3", router.Merge{Limit: 3}, []int{3, 0}, 3},
		{"limit 0", router.Merge{Limit: 0, OrderBy: []router.SortKey{asc(0)}}, []int{0, 0}, 0},
		{"distinct limit 2", router.Merge{Limit: 2, Distinct: true}, []int{2, 0}, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srcs, fakes := shards([][]string{many(0, 2), many(1, 2)})
			m, err := New(&c.spec, typesOf("i"), srcs, Options{})
			if err != nil {
				t.Fatal(err)
			}
			got, err := drain(m)
			if err != nil || len(got) != c.wantCount {
				t.Fatalf("got %v, %v", got, err)
			}
			for i, f := range fakes {
				if f.pulls > c.maxPulls[i] {
					t.Errorf("source %d pulled %d times, want at most %d", i, f.pulls, c.maxPulls[i])
				}
			}
		})
	}
}

// TestManySources merges 100 sources, each holding every 100th number.
func TestManySources(t *testing.T) {
	const n, per = 100, 50
	data := make([][]string, n)
	for s := range n {
		for i := range per {
			data[s] = append(data[s], fmt.Sprint(i*n+(n-1-s)))
		}
	}
	srcs, _ := shards(data)
	spec := router.Merge{Limit: 7, Offset: 4000, OrderBy: []router.SortKey{asc(0)}}
	m, err := New(&spec, typesOf("i"), srcs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := drain(m)
	if err != nil {
		t.Fatal(err)
	}
	equalRows(t, got, []string{"4000", "4001", "4002", "4003", "4004", "4005", "4006"})

	all := ordered(desc(0))
	data2 := make([][]string, n)
	for s := range n {
		for i := per - 1; i >= 0; i-- {
			data2[s] = append(data2[s], fmt.Sprint(i*n+s))
		}
	}
	srcs, _ = shards(data2)
	m, _ = New(&all, typesOf("i"), srcs, Options{})
	got, err = drain(m)
	if err != nil || len(got) != n*per {
		t.Fatalf("got %d rows, %v", len(got), err)
	}
	for i, v := range got {
		if v != fmt.Sprint(n*per-1-i) {
			t.Fatalf("row %d = %s", i, v)
		}
	}
}

func TestNilSpecConcatenates(t *testing.T) {
	srcs, _ := shards([][]string{{"b|1"}, {"a|2"}})
	m, err := New(nil, typesOf("bi"), srcs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := drain(m)
	if err != nil {
		t.Fatal(err)
	}
	equalRows(t, got, []string{"b|1", "a|2"})
	if r, err := m.Next(); r != nil || err != io.EOF {
		t.Fatalf("after the end: %v, %v", r, err)
	}
}

// TestOrderedMergeMatchesSort: for random sorted shards, with NULLs and
// duplicate keys, every mix of directions and NULL placements, the k-way
// merge equals a stable sort of the shards' rows concatenated in source
// order.
func TestOrderedMergeMatchesSort(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for trial := range 300 {
		k := 1 + r.Intn(20)
		order := []router.SortKey{
			{Column: 0, Desc: r.Intn(2) == 0, NullsFirst: r.Intn(2) == 0},
			{Column: 1, Desc: r.Intn(2) == 0, NullsFirst: r.Intn(2) == 0},
		}
		p, err := compile(&router.Merge{Limit: -1, OrderBy: order}, typesOf("idi"), nil)
		if err != nil {
			t.Fatal(err)
		}
		less := func(a, b Row) int {
			ka, kb := make([]keyVal, 2), make([]keyVal, 2)
			if err := parseKeys(p.order, a, ka); err != nil {
				t.Fatal(err)
			}
			if err := parseKeys(p.order, b, kb); err != nil {
				t.Fatal(err)
			}
			return cmpKeys(p.order, ka, kb)
		}
		value := func(n int) []byte {
			if r.Intn(6) == 0 {
				return nil
			}
			return []byte(strconv.Itoa(r.Intn(n) - n/2))
		}
		var all []Row
		data := make([][]Row, k)
		seq := 0
		for s := range k {
			for range r.Intn(30) {
				data[s] = append(data[s], Row{value(10), value(4), []byte(strconv.Itoa(seq))})
				seq++
			}
			slices.SortStableFunc(data[s], less)
			all = append(all, data[s]...)
		}
		slices.SortStableFunc(all, less)
		spec := router.Merge{Limit: -1, OrderBy: order}
		m, err := New(&spec, typesOf("idi"), benchSources(data), Options{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := drain(m)
		if err != nil {
			t.Fatal(err)
		}
		want := make([]string, len(all))
		for i, row := range all {
			want[i] = format(row)
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("trial %d (%d sources, %+v):\n got %v\nwant %v", trial, k, order, got, want)
		}
	}
}
