package merge

import (
	"errors"
	"io"
	"testing"

	"github.com/shardgate/shardgate/router"
)

// FuzzMerge: whatever the spec, types and rows (malformed values, short
// rows, out-of-range columns), New and Next return errors, never panic,
// and a merge always ends.
func FuzzMerge(f *testing.F) {
	f.Add([]byte{2, 1, 3, 0, 5, 9}, "1|x;2|y;~|z/3|q;a|b")
	f.Add([]byte{1, 3, 0, 1, 4, 2, 7}, "1.5;-2;NaN/1e3;~")
	f.Add([]byte{3, 2, 0, 6, 1, 3, 8}, "a|1|2;a|3|1/b|~|0;a|2")
	f.Fuzz(func(t *testing.T, cfg []byte, text string) {
		at := func(i int) int {
			if i < len(cfg) {
				return int(cfg[i])
			}
			return 0
		}
		width := 1 + at(0)%4
		types := make([]Type, width)
		for i := range types {
			types[i] = Type(at(1+i) % 7)
		}
		spec := router.Merge{Limit: int64(at(5)%6) - 1, Offset: int64(at(6) % 3), Distinct: at(7)%2 == 1, Hidden: at(8) % 3}
		if n := at(9) % 3; n > 0 {
			spec.OrderBy = append(spec.OrderBy, router.SortKey{Column: at(10)%7 - 3, Desc: at(11)%2 == 1, NullsFirst: at(12)%2 == 1})
		}
		switch at(13) % 4 {
		case 1:
			spec.GroupBy = []int{at(14)%5 - 1}
		case 2:
			spec.Aggregates = []router.AggColumn{{Column: at(14)%5 - 1, Func: router.Aggregate(at(15) % 7), CountColumn: at(16)%5 - 1}}
		case 3:
			spec.GroupBy = []int{0}
			spec.Aggregates = []router.AggColumn{{Column: width - 1, Func: router.Aggregate(1 + at(15)%5), CountColumn: 0}}
		}
		var data [][]string
		for _, shard := range splitOn(text, '/') {
			data = append(data, splitOn(shard, ';'))
		}
		srcs, _ := shards(data)
		m, err := New(&spec, types, srcs, Options{MaxRows: 50})
		if err != nil {
			if !errors.Is(err, ErrBadSpec) {
				t.Fatalf("New: %v", err)
			}
			return
		}
		for range 10000 {
			if _, err := m.Next(); err != nil {
				if err != io.EOF && !errors.Is(err, ErrBadValue) && !errors.Is(err, ErrBadRow) &&
					!errors.Is(err, ErrUnsorted) && !errors.Is(err, ErrTooManyRows) {
					t.Fatalf("Next: %v", err)
				}
				return
			}
		}
		t.Fatal("the merge did not end")
	})
}

func splitOn(s string, sep byte) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == sep {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}
