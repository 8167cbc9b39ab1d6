package pgserver

import (
	"reflect"
	"testing"
)

func TestPlanResolution(t *testing.T) {
	tests := []struct {
		name  string
		found [][]string
		want  []resolution
	}{
		{"nothing", [][]string{nil, nil}, []resolution{}},
		{"participant 0 still prepared: roll back, 0 last",
			[][]string{{"shardgate_aa_0"}, {"shardgate_aa_1"}, {"shardgate_aa_2"}},
			[]resolution{{commit: false, parts: []leftover{{2, "shardgate_aa_2"}, {1, "shardgate_aa_1"}, {0, "shardgate_aa_0"}}}}},
		{"participant 0 gone: commit the rest",
			[][]string{nil, {"shardgate_bb_1"}, {"shardgate_bb_2"}},
			[]resolution{{commit: true, parts: []leftover{{2, "shardgate_bb_2"}, {1, "shardgate_bb_1"}}}}},
		{"two transactions, others ignored",
			[][]string{{"shardgate_cc_0", "pgbouncer_x", "shardgate_bad", "shardgate_dd_x"}, {"shardgate_cc_1", "shardgate_bb_3"}},
			[]resolution{
				{commit: true, parts: []leftover{{1, "shardgate_bb_3"}}},
				{commit: false, parts: []leftover{{1, "shardgate_cc_1"}, {0, "shardgate_cc_0"}}},
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := planResolution(tc.found); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("planResolution(%v) = %+v, want %+v", tc.found, got, tc.want)
			}
		})
	}
}

func TestParseGID(t *testing.T) {
	gid := newGID()
	id, part, ok := parseGID(gid(3))
	if !ok || part != 3 || len(id) != 16 {
		t.Fatalf("parseGID(%q) = %q %d %v", gid(3), id, part, ok)
	}
	if id2, _, _ := parseGID(newGID()(0)); id2 == id {
		t.Fatal("two transactions got the same id")
	}
}
