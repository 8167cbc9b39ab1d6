package pgserver

import "testing"

func TestDeallocated(t *testing.T) {
	for _, c := range []struct {
		sql  string
		name string
		all  bool
	}{
		{"DEALLOCATE a1", "a1", false},
		{"deallocate prepare Stmt_1", "stmt_1", false},
		{`DEALLOCATE "stmtcache_AB"`, "stmtcache_AB", false},
		{"DEALLOCATE ALL", "", true},
		{"deallocate prepare all", "", true},
		{"DEALLOCATE prepare", "prepare", false},
		{"DEALLOCATE", "", false},
	} {
		name, all := deallocated(c.sql)
		if name != c.name || all != c.all {
			t.Errorf("%s: %q %v, want %q %v", c.sql, name, all, c.name, c.all)
		}
	}
}

func TestIsStalePlan(t *testing.T) {
	body := func(fields ...string) []byte {
		var b []byte
		for _, f := range fields {
			b = append(append(b, f...), 0)
		}
		return append(b, 0)
	}
	for _, c := range []struct {
		body []byte
		want bool
	}{
		{body("SERROR", "C0A000", "Mcached plan must not change result type"), true},
		{body("SERROR", "Mcached plan must not change result type", "C0A000", "Ffile.c"), true},
		{body("SERROR", "C0A000", "Mnot supported by shardgate: cross-shard"), false},
		{body("SERROR", "C42P01", "Mcached plan must not change result type"), false},
		{[]byte("C0A000"), false}, // truncated: no terminator
	} {
		if got := isStalePlan(c.body); got != c.want {
			t.Errorf("%q: %v, want %v", c.body, got, c.want)
		}
	}
}
