package merge

import (
	"testing"

	"github.com/shardgate/shardgate/router"
)

// TestHaving: the shards ran the query without its HAVING; the merge
// keeps the groups whose combined values pass it.
func TestHaving(t *testing.T) {
	having := func(spec router.Merge, h ...router.HavingFilter) router.Merge {
		spec.Having = h
		return spec
	}
	countBy := router.Merge{Limit: -1, GroupBy: []int{0}, Aggregates: []router.AggColumn{agg(1, router.AggCount)}}
	shards := [][]string{{"a|1", "b|2", "c|5"}, {"a|1", "b|2", "~|3"}, {"c|1"}}
	runCases(t, []mergeCase{
		{name: "count > 2 judged on the merged group (each shard's part is 2 or less)", types: "bi", shards: shards,
			spec: having(countBy, router.HavingFilter{Column: 1, Op: ">", Value: "2"}), want: []string{"b|4", "c|6", "~|3"}},
		{name: "numbers by value: count >= 2.5, <> 6", types: "bi", shards: shards,
			spec: having(countBy, router.HavingFilter{Column: 1, Op: ">=", Value: "2.5"}, router.HavingFilter{Column: 1, Op: "<>", Value: "6"}),
			want: []string{"b|4", "~|3"}},
		{name: "= and <=", types: "bi", shards: shards,
			spec: having(countBy, router.HavingFilter{Column: 1, Op: "<=", Value: "4"}, router.HavingFilter{Column: 1, Op: "=", Value: "4"}),
			want: []string{"b|4"}},
		{name: "NULL constant keeps nothing", types: "bi", shards: shards,
			spec: having(countBy, router.HavingFilter{Column: 1, Op: "=", Null: true}), want: nil},
		{name: "NULL value fails the comparison", types: "bi",
			spec:   having(router.Merge{Limit: -1, GroupBy: []int{0}, Aggregates: []router.AggColumn{agg(1, router.AggSum)}}, router.HavingFilter{Column: 1, Op: "<", Value: "100"}),
			shards: [][]string{{"a|~", "b|1"}, {"a|~"}}, want: []string{"b|1"}},
		{name: "hidden aggregate, then order and limit over what passed", types: "bii",
			spec: having(router.Merge{Limit: 1, GroupBy: []int{0}, OrderBy: []router.SortKey{desc(1)},
				Aggregates: []router.AggColumn{agg(1, router.AggMax), agg(2, router.AggSum)}, Hidden: 1},
				router.HavingFilter{Column: -1, Op: ">", Value: "10"}),
			shards: [][]string{{"a|9|6", "b|7|6"}, {"a|1|6", "b|3|6", "c|99|1"}}, want: []string{"a|9"}},
		{name: "avg of the merged sum and count", types: "dii",
			spec: having(router.Merge{Limit: -1, GroupBy: []int{1}, Aggregates: []router.AggColumn{avg(0, 2)}, Hidden: 1},
				router.HavingFilter{Column: 0, Op: ">", Value: "2.6"}),
			shards: [][]string{{"3|1|1", "10|2|4"}, {"3|1|1"}}, want: []string{"3.0000000000000000|1"}},
		{name: "text column compared for equality", types: "bi", shards: shards,
			spec: having(countBy, router.HavingFilter{Column: 0, Op: "<>", Value: "b"}), want: []string{"a|2", "c|6"}},
		{name: "text column ordered: refused", types: "bi", shards: shards,
			spec: having(countBy, router.HavingFilter{Column: 0, Op: ">=", Value: "b"}), wantErr: ErrBadSpec},
		{name: "without GROUP BY: the one row, or none", types: "i",
			spec:   having(aggs(agg(0, router.AggCount)), router.HavingFilter{Column: 0, Op: ">", Value: "100"}),
			shards: [][]string{{"3"}, {"4"}}, want: nil},
	})
	if _, err := New(&router.Merge{Limit: -1, GroupBy: []int{0}, Having: []router.HavingFilter{{Column: 1, Op: ">", Value: "x"}},
		Aggregates: []router.AggColumn{agg(1, router.AggCount)}}, []Type{Bytes, Int}, nil, Options{}); err == nil {
		t.Error("a number compared with 'x' was accepted")
	}
}
