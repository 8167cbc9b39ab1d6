package twophase

import (
	"reflect"
	"strings"
	"testing"
)

func TestPlan(t *testing.T) {
	tests := []struct {
		name  string
		found [][]string
		want  []Resolution
	}{
		{"nothing", [][]string{nil, nil}, []Resolution{}},
		{"participant 0 still prepared: roll back, 0 last",
			[][]string{{"shardgate_aa_0"}, {"shardgate_aa_1"}, {"shardgate_aa_2"}},
			[]Resolution{{Commit: false, Parts: []Leftover{{2, "shardgate_aa_2"}, {1, "shardgate_aa_1"}, {0, "shardgate_aa_0"}}}}},
		{"participant 0 gone: commit the rest",
			[][]string{nil, {"shardgate_bb_1"}, {"shardgate_bb_2"}},
			[]Resolution{{Commit: true, Parts: []Leftover{{2, "shardgate_bb_2"}, {1, "shardgate_bb_1"}}}}},
		{"two transactions, others ignored",
			[][]string{{"shardgate_cc_0", "pgbouncer_x", "shardgate_bad", "shardgate_dd_x"}, {"shardgate_cc_1", "shardgate_bb_3"}},
			[]Resolution{
				{Commit: true, Parts: []Leftover{{1, "shardgate_bb_3"}}},
				{Commit: false, Parts: []Leftover{{1, "shardgate_cc_1"}, {0, "shardgate_cc_0"}}},
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Plan(tc.found); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Plan(%v) = %+v, want %+v", tc.found, got, tc.want)
			}
		})
	}
}

func TestNames(t *testing.T) {
	gid := Names("shop")
	id, part, ok := Parse(gid(3))
	if !ok || part != 3 || !strings.HasPrefix(gid(3), DBPrefix("shop")) || len(gid(12)) > 64 {
		t.Fatalf("Parse(%q) = %q %d %v", gid(3), id, part, ok)
	}
	if id2, _, _ := Parse(Names("shop")(0)); id2 == id {
		t.Fatal("two transactions got the same id")
	}
	if DBPrefix("shop") == DBPrefix("shop2") || strings.Contains(DBPrefix("a"), "%") {
		t.Fatal("database prefixes collide")
	}
	for _, bad := range []string{"", "shardgate_", "shardgate_x", "other_aa_0", "shardgate_aa_-1"} {
		if _, _, ok := Parse(bad); ok {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}
