package mysql

import "testing"

// dropReturning blanks exactly MariaDB's trailing RETURNING clause,
// keeping every offset.
func TestDropReturning(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"INSERT INTO t (id) VALUES (1) RETURNING id", "INSERT INTO t (id) VALUES (1)             "},
		{"insert into t values (1) returning id, name;", "insert into t values (1)                   ;"},
		{"REPLACE INTO t VALUES (1) RETURNING *", "REPLACE INTO t VALUES (1)            "},
		{"DELETE FROM t WHERE id = 1 RETURNING name", "DELETE FROM t WHERE id = 1               "},
		{"INSERT INTO t VALUES ('returning')", "INSERT INTO t VALUES ('returning')"},
		{"INSERT INTO t VALUES (1) /* RETURNING id */", "INSERT INTO t VALUES (1) /* RETURNING id */"},
		{"INSERT INTO t SELECT (SELECT returning FROM u) FROM v", "INSERT INTO t SELECT (SELECT returning FROM u) FROM v"},
		{"SELECT 1 AS returning", "SELECT 1 AS returning"},
		{"UPDATE t SET a = 1 RETURNING a", "UPDATE t SET a = 1 RETURNING a"}, // not MariaDB syntax: left to the parser
	} {
		got := dropReturning(c.in)
		if got != c.want {
			t.Errorf("%q:\n got %q\nwant %q", c.in, got, c.want)
		}
		if len(got) != len(c.in) {
			t.Errorf("%q: length changed", c.in)
		}
	}
}
