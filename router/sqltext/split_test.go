package sqltext

import (
	"fmt"
	"testing"
)

func splitCases() []struct {
	d    Dialect
	sql  string
	want []string
} {
	return []struct {
		d    Dialect
		sql  string
		want []string
	}{
		{Postgres, "SELECT 1", []string{"SELECT 1"}},
		{Postgres, "  SELECT 1 ;  SELECT 2;\n", []string{"SELECT 1", "SELECT 2"}},
		{Postgres, "SELECT ';'; SELECT \";\"", []string{"SELECT ';'", `SELECT ";"`}},
		{Postgres, "SELECT $$;$$; SELECT $a$ $$; $a$", []string{"SELECT $$;$$", "SELECT $a$ $$; $a$"}},
		{Postgres, "SELECT 1 -- ;\n; /* ; /* ; */ */ SELECT 2", []string{"SELECT 1 -- ;", "/* ; /* ; */ */ SELECT 2"}},
		{Postgres, ";;; ;", nil},
		{Postgres, "", nil},
		{Postgres, "  \n\t ", nil},
		{Postgres, "SELECT 1; -- trailing comment\n", []string{"SELECT 1"}},
		{Postgres, "/* shard=-80 */ INSERT INTO t VALUES (1); /* only a comment */;", []string{"/* shard=-80 */ INSERT INTO t VALUES (1)"}},
		{Postgres, "SELECT E'\\';'; SELECT 2", []string{"SELECT E'\\';'", "SELECT 2"}},
		{Postgres, "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN x THEN 1 END; END; SELECT 2",
			[]string{"CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN x THEN 1 END; END", "SELECT 2"}},
		{Postgres, "BEGIN; SELECT 1; END;", []string{"BEGIN", "SELECT 1", "END"}},
		{Postgres, "SELECT 1\u00a0; SELECT 2", []string{"SELECT 1\u00a0", "SELECT 2"}}, // NBSP is not SQL whitespace
		{Postgres, "SELECT 1 AS begin; SELECT 2 AS atomic; SELECT CASE WHEN true THEN 1 END; SELECT 3",
			[]string{"SELECT 1 AS begin", "SELECT 2 AS atomic", "SELECT CASE WHEN true THEN 1 END", "SELECT 3"}},
		{Postgres, "CREATE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC INSERT INTO t VALUES (1); END; CALL p()",
			[]string{"CREATE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC INSERT INTO t VALUES (1); END", "CALL p()"}},
		{MySQL, "CREATE PROCEDURE p() BEGIN DECLARE x INT DEFAULT 0; IF x > 0 THEN SELECT 1; END IF; " +
			"lbl: WHILE x < 3 DO SET x = x + 1; END WHILE lbl; REPEAT SET x = x - 1; UNTIL x = 0 END REPEAT; " +
			"CASE x WHEN 1 THEN SELECT 'a'; ELSE BEGIN END; END CASE; SELECT CASE WHEN x THEN 1 END; END; SELECT 1",
			[]string{"CREATE PROCEDURE p() BEGIN DECLARE x INT DEFAULT 0; IF x > 0 THEN SELECT 1; END IF; " +
				"lbl: WHILE x < 3 DO SET x = x + 1; END WHILE lbl; REPEAT SET x = x - 1; UNTIL x = 0 END REPEAT; " +
				"CASE x WHEN 1 THEN SELECT 'a'; ELSE BEGIN END; END CASE; SELECT CASE WHEN x THEN 1 END; END", "SELECT 1"}},
		{MySQL, "CREATE TRIGGER tr BEFORE INSERT ON x FOR EACH ROW BEGIN SET NEW.a = 1; END; INSERT INTO x VALUES (1)",
			[]string{"CREATE TRIGGER tr BEFORE INSERT ON x FOR EACH ROW BEGIN SET NEW.a = 1; END", "INSERT INTO x VALUES (1)"}},
		{MySQL, "XA BEGIN 'x'; SELECT 1; BEGIN; COMMIT", []string{"XA BEGIN 'x'", "SELECT 1", "BEGIN", "COMMIT"}},
		{MySQL, "SELECT 1; SELECT 'a;b'; SELECT \"c;d\"; SELECT `e;f`", []string{"SELECT 1", "SELECT 'a;b'", `SELECT "c;d"`, "SELECT `e;f`"}},
		{MySQL, "SELECT 'it\\';s'; SELECT 2", []string{"SELECT 'it\\';s'", "SELECT 2"}},
		{MySQL, "SELECT 1 # ;\n; SELECT 2 -- ;\n; SELECT 3 --;\n", []string{"SELECT 1 # ;", "SELECT 2 -- ;", "SELECT 3 --"}},
		{MySQL, "/*!40101 SET a=1; SET b=2 */; SELECT 1", []string{"/*!40101 SET a=1; SET b=2 */", "SELECT 1"}},
		{MySQL, "SELECT 1 /* ; */; /*+ only a hint */", []string{"SELECT 1 /* ; */"}},
	}
}

func TestSplit(t *testing.T) {
	for _, c := range splitCases() {
		got, err := Split(c.d, c.sql)
		if err != nil {
			t.Errorf("%s: Split(%q): %v", c.d, c.sql, err)
			continue
		}
		if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", c.want) {
			t.Errorf("%s: Split(%q)\n got %q\nwant %q", c.d, c.sql, got, c.want)
		}
	}
}
