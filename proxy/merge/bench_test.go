package merge

import (
	"errors"
	"io"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/shardgate/shardgate/router"
)

// benchSources builds fresh sources over prebuilt rows (the merger does
// not modify the rows of an ordered merge, so they can be reused).
func benchSources(data [][]Row) []Source {
	srcs := make([]Source, len(data))
	for i, d := range data {
		srcs[i] = &sliceSource{rows: d}
	}
	return srcs
}

func runBench(b *testing.B, spec *router.Merge, types []Type, data [][]Row, wantOut int) {
	in := 0
	for _, d := range data {
		in += len(d)
	}
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		m, err := New(spec, types, benchSources(data), Options{MaxRows: -1})
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			_, err := m.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != wantOut {
			b.Fatalf("%d rows out, want %d", n, wantOut)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(in), "ns/row")
	// CPU time is steadier than wall time on a shared machine; it
	// includes the garbage collector's work on other threads.
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N)/float64(in), "cpu-ns/row")
}

// cpuTime is the process's user plus system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkKWayMerge: 8 shards × 100k rows sorted on one Int key, the
// shards' key ranges interleaved (the merge's worst case).
func BenchmarkKWayMerge(b *testing.B) {
	const shards, per = 8, 100000
	data := make([][]Row, shards)
	for s := range shards {
		data[s] = make([]Row, per)
		for i := range per {
			k := strconv.Itoa(i*shards + s)
			data[s][i] = Row{[]byte(k), []byte("payload-" + k)}
		}
	}
	spec := &router.Merge{Limit: -1, OrderBy: []router.SortKey{{Column: 0}}}
	runBench(b, spec, []Type{Int, Bytes}, data, shards*per)
}

// BenchmarkConcat: the same rows, no ORDER BY (the floor).
func BenchmarkConcat(b *testing.B) {
	const shards, per = 8, 100000
	data := make([][]Row, shards)
	for s := range shards {
		data[s] = make([]Row, per)
		for i := range per {
			data[s][i] = Row{[]byte(strconv.Itoa(i)), []byte("payload")}
		}
	}
	runBench(b, &router.Merge{Limit: -1, Offset: 1}, []Type{Int, Bytes}, data, shards*per-1)
}

// BenchmarkGroupBy: 1000 groups; each of 8 shards returns one row per
// group, as it does for GROUP BY: key, COUNT, SUM(decimal), MAX, and an
// AVG as SUM plus hidden COUNT. The output is sorted by the key.
func BenchmarkGroupBy(b *testing.B) {
	const shards, groups = 8, 1000
	data := make([][]Row, shards)
	for s := range shards {
		for g := range groups {
			k := "group-" + strconv.Itoa(g)
			n := strconv.Itoa(g + s)
			data[s] = append(data[s], Row{[]byte(k), []byte(n), []byte(n + ".25"), []byte(n), []byte(n), []byte("3")})
		}
	}
	spec := &router.Merge{
		Limit:   -1,
		OrderBy: []router.SortKey{{Column: 0}},
		GroupBy: []int{0},
		Aggregates: []router.AggColumn{
			{Column: 1, Func: router.AggCount},
			{Column: 2, Func: router.AggSum},
			{Column: 3, Func: router.AggMax},
			{Column: 4, Func: router.AggAvg, CountColumn: 5},
		},
		Hidden: 1,
	}
	runBench(b, spec, []Type{Bytes, Int, Decimal, Int, Int, Int}, data, groups)
}
