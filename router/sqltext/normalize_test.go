package sqltext

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// normCase is one Normalize expectation. text "" means "same as sql".
// slots are written compactly: "p1" a parameter, "n:42" a number, "s:x" a
// string (see slotDesc). Every case is also round-tripped through
// Denormalize, which checks each slot's Raw.
type normCase struct {
	name  string
	sql   string
	text  string
	slots []string
	off   bool // Normalized == false
}

func slotDesc(s Slot) string {
	switch {
	case s.Param > 0:
		return fmt.Sprintf("p%d", s.Param)
	case s.Lit.String:
		return "s:" + s.Lit.Text
	}
	return "n:" + s.Lit.Text
}

func postgresCases() []normCase {
	return []normCase{
		{name: "point select", sql: "SELECT id, name FROM users WHERE id = 42",
			text: "SELECT id, name FROM users WHERE id = $1", slots: []string{"n:42"}},
		{name: "literals numbered after params", sql: "SELECT * FROM t WHERE a = $1 AND b = 5",
			text: "SELECT * FROM t WHERE a = $1 AND b = $2", slots: []string{"p1", "n:5"}},
		{name: "param gap", sql: "SELECT $2, 'x'", text: "SELECT $2, $3", slots: []string{"p1", "p2", "s:x"}},
		{name: "zero-padded param kept", sql: "SELECT $01, 1", text: "SELECT $01, $2", slots: []string{"p1", "n:1"}},
		{name: "negative numbers", sql: "SELECT * FROM t WHERE id = -5 AND x=-5 AND y = - 5 AND z = -0.5e-3",
			text: "SELECT * FROM t WHERE id = $1 AND x=$2 AND y = - $3 AND z = $4", slots: []string{"n:-5", "n:-5", "n:5", "n:-0.5e-3"}},
		{name: "binary minus", sql: "SELECT a-5, a - 5, a -5, (a)-5, f(x)-1, $1-1, 'a'-1, a[1]-1",
			text:  "SELECT a-$2, a - $3, a -$4, (a)-$5, f(x)-$6, $1-$7, $8-$9, a[$10]-$11",
			slots: []string{"p1", "n:5", "n:5", "n:5", "n:5", "n:1", "n:1", "s:a", "n:1", "n:1", "n:1"}},
		{name: "unary after keywords", sql: "SELECT -1, CASE WHEN a THEN -2 ELSE -3 END FROM t WHERE b BETWEEN -4 AND -5 LIMIT -1 OFFSET -0",
			text:  "SELECT $1, CASE WHEN a THEN $2 ELSE $3 END FROM t WHERE b BETWEEN $4 AND $5 LIMIT $6 OFFSET $7",
			slots: []string{"n:-1", "n:-2", "n:-3", "n:-4", "n:-5", "n:-1", "n:-0"}},
		{name: "unreserved word is an operand", sql: "SELECT first -1, next -2 FROM t",
			text: "SELECT first -$1, next -$2 FROM t", slots: []string{"n:1", "n:2"}},
		{name: "operator trimming", sql: "SELECT a<-5, a@-5, a*-5",
			text: "SELECT a<$1, a@-$2, a*$3", slots: []string{"n:-5", "n:5", "n:-5"}},
		{name: "number forms", sql: "SELECT 42, 4.2, .5, 4., 1e10, 1.5E-3, 0x1F, 0o17, 0b101, 1_000, 0x_ff",
			text:  "SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11",
			slots: []string{"n:42", "n:4.2", "n:.5", "n:4.", "n:1e10", "n:1.5E-3", "n:0x1F", "n:0o17", "n:0b101", "n:1_000", "n:0x_ff"}},
		{name: "string forms", sql: `SELECT 'it''s', E'\'a\n\\', e'\x41\101\u00e9', U&'d\0061t\+000061', u&'\\', B'0101', X'1F', N'nat', ''`,
			text:  "SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9",
			slots: []string{"s:it's", "s:'a\n\\", "s:AAé", "s:data", `s:\`, "s:0101", "s:1F", "s:nat", "s:"}},
		{name: "backslash is literal in standard strings", sql: `SELECT 'a\', 'b'`,
			text: "SELECT $1, $2", slots: []string{`s:a\`, "s:b"}},
		{name: "surrogate pairs", sql: `SELECT E'\uD83D\uDE00', U&'\D83D\DE00'`,
			text: "SELECT $1, $2", slots: []string{"s:😀", "s:😀"}},
		{name: "dollar quotes", sql: "SELECT $$it's; -- not a comment$$, $tag$ $$ nested $tag$, $a$x$b$y$a$, $_$;$_$",
			text:  "SELECT $1, $2, $3, $4",
			slots: []string{"s:it's; -- not a comment", "s: $$ nested ", "s:x$b$y", "s:;"}},
		{name: "params inside quotes are not params", sql: `SELECT "col$1", '$2', "a""b", "'" FROM t WHERE x = $1`,
			text: `SELECT "col$1", $2, "a""b", "'" FROM t WHERE x = $1`, slots: []string{"p1", "s:$2"}},
		{name: "comments", sql: "SELECT /* it's a 'comment' */ a -- it's\nFROM t /* outer /* nested ' */ still */ WHERE b = 'x' -- $1 'y'",
			text: "SELECT /* it's a 'comment' */ a -- it's\nFROM t /* outer /* nested ' */ still */ WHERE b = $1 -- $1 'y'", slots: []string{"s:x"}},
		{name: "casts", sql: "SELECT '42'::int, 42::text, x::numeric(10,2), CAST('1' AS varchar(10)), x::varchar(255)[], x::character varying(3), x :: pg_catalog.bit(8)",
			text:  "SELECT $1::int, $2::text, x::numeric(10,2), CAST($3 AS varchar(10)), x::varchar(255)[], x::character varying(3), x :: pg_catalog.bit(8)",
			slots: []string{"s:42", "n:42", "s:1"}},
		{name: "typed literals stay", sql: "SELECT DATE '2024-01-01', TIMESTAMP '2024-01-01 00:00', TIMESTAMPTZ 'x', TIME '10:00', INTERVAL '1 day', INTERVAL '1' DAY, interval 5, int4 '5', now() - interval '2 hours'"},
		{name: "time zones", sql: "SELECT ts AT TIME ZONE 'UTC', TIMESTAMP WITH TIME ZONE '2024-01-01 00:00+00', TIME WITHOUT TIME ZONE '10:00'",
			text: "SELECT ts AT TIME ZONE $1, TIMESTAMP WITH TIME ZONE '2024-01-01 00:00+00', TIME WITHOUT TIME ZONE '10:00'", slots: []string{"s:UTC"}},
		{name: "precisions stay", sql: "SELECT now(), current_timestamp(3), x::timestamp(6), localtime(2), interval '1.5' second(3)"},
		{name: "order and group by positions", sql: "SELECT a, b, count(*) FROM t WHERE c = 1 GROUP BY 1, 2 HAVING count(*) > 5 ORDER BY 3 DESC, 1 LIMIT 10 OFFSET 20",
			text:  "SELECT a, b, count(*) FROM t WHERE c = $1 GROUP BY 1, 2 HAVING count(*) > $2 ORDER BY 3 DESC, 1 LIMIT $3 OFFSET $4",
			slots: []string{"n:1", "n:5", "n:10", "n:20"}},
		{name: "order by list continues after a subquery", sql: "SELECT a FROM t ORDER BY (SELECT b FROM u WHERE u.x = 3 ORDER BY 1 LIMIT 1), 2",
			text: "SELECT a FROM t ORDER BY (SELECT b FROM u WHERE u.x = $1 ORDER BY 1 LIMIT $2), 2", slots: []string{"n:3", "n:1"}},
		{name: "order by in a subquery ends with it", sql: "SELECT * FROM (SELECT a FROM t ORDER BY 1) s WHERE a IN (1, 2)",
			text: "SELECT * FROM (SELECT a FROM t ORDER BY 1) s WHERE a IN ($1, $2)", slots: []string{"n:1", "n:2"}},
		{name: "signed position", sql: "SELECT a FROM t ORDER BY -1"},
		{name: "grouping sets", sql: "SELECT a, b, sum(c) FROM t GROUP BY ROLLUP (1, 2)"},
		{name: "distinct on", sql: "SELECT DISTINCT ON (1) a, b FROM t WHERE c = 2 ORDER BY 1, b",
			text: "SELECT DISTINCT ON (1) a, b FROM t WHERE c = $1 ORDER BY 1, b", slots: []string{"n:2"}},
		{name: "window frame", sql: "SELECT sum(a) OVER (PARTITION BY b ORDER BY c ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) FROM t WHERE d = 1",
			text:  "SELECT sum(a) OVER (PARTITION BY b ORDER BY c ROWS BETWEEN $1 PRECEDING AND CURRENT ROW) FROM t WHERE d = $2",
			slots: []string{"n:1", "n:1"}},
		{name: "recursive cte", sql: "WITH RECURSIVE r(n) AS (VALUES (1) UNION ALL SELECT n + 1 FROM r WHERE n < 100) SELECT n FROM r",
			text:  "WITH RECURSIVE r(n) AS (VALUES ($1) UNION ALL SELECT n + $2 FROM r WHERE n < $3) SELECT n FROM r",
			slots: []string{"n:1", "n:1", "n:100"}},
		{name: "insert upsert returning", sql: "INSERT INTO t (id, v) VALUES (1, 'a'), (2, DEFAULT) ON CONFLICT (id) DO UPDATE SET v = EXCLUDED.v || '!' RETURNING id",
			text:  "INSERT INTO t (id, v) VALUES ($1, $2), ($3, DEFAULT) ON CONFLICT (id) DO UPDATE SET v = EXCLUDED.v || $4 RETURNING id",
			slots: []string{"n:1", "s:a", "n:2", "s:!"}},
		{name: "update", sql: "UPDATE t SET a = a + 1, b = 'x' WHERE id IN (1, 2, 3)",
			text: "UPDATE t SET a = a + $1, b = $2 WHERE id IN ($3, $4, $5)", slots: []string{"n:1", "s:x", "n:1", "n:2", "n:3"}},
		{name: "delete with subquery", sql: "DELETE FROM t WHERE id IN (SELECT id FROM u WHERE flag = true AND n > 10 AND m IS NOT NULL)",
			text: "DELETE FROM t WHERE id IN (SELECT id FROM u WHERE flag = true AND n > $1 AND m IS NOT NULL)", slots: []string{"n:10"}},
		{name: "keywords stay", sql: "SELECT NULL, TRUE, FALSE, DEFAULT"},
		{name: "explain options skipped", sql: "EXPLAIN (ANALYZE, FORMAT JSON) SELECT * FROM t WHERE id = 7",
			text: "EXPLAIN (ANALYZE, FORMAT JSON) SELECT * FROM t WHERE id = $1", slots: []string{"n:7"}},
		{name: "explain analyze delete", sql: "explain analyze verbose delete from t where id = 7",
			text: "explain analyze verbose delete from t where id = $1", slots: []string{"n:7"}},
		{name: "parenthesized start", sql: "(SELECT 1) UNION (SELECT 2)", text: "(SELECT $1) UNION (SELECT $2)", slots: []string{"n:1", "n:2"}},
		{name: "table and values", sql: "VALUES (1, 'a'), (2, 'b')", text: "VALUES ($1, $2), ($3, $4)", slots: []string{"n:1", "s:a", "n:2", "s:b"}},
		{name: "string continuation", sql: "SELECT 'a'\n  'b' AS x, 'c' -- note\n\t'd', E'\\n'\n'\\t'",
			text: "SELECT $1 AS x, $2, $3", slots: []string{"s:ab", "s:cd", "s:\n\t"}},
		{name: "no continuation without newline", sql: "SELECT 'a' 'b'", text: "SELECT $1 'b'", slots: []string{"s:a"}},
		{name: "glued to a word", sql: "SELECT * FROM t WHERE'a'=x AND y=5 AND z='b'OR w=2",
			text: "SELECT * FROM t WHERE'a'=x AND y=$1 AND z='b'OR w=$2", slots: []string{"n:5", "n:2"}},
		{name: "uescape", sql: "SELECT U&'d!0061t' UESCAPE '!', U&'x'", text: "SELECT U&'d!0061t' UESCAPE '!', $1", slots: []string{"s:x"}},
		{name: "statements judged one by one", sql: "SELECT 1; SET x = 5; SELECT 'a';",
			text: "SELECT $1; SET x = 5; SELECT $2;", slots: []string{"n:1", "s:a"}},
		{name: "begin atomic body is not a statement", sql: "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN true THEN 2 END; END; SELECT 3",
			text: "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN true THEN 2 END; END; SELECT $1", slots: []string{"n:3"}},
		{name: "unicode", sql: `SELECT * FROM "ユーザー" WHERE name = 'Zoë 😀' AND ñ = 'ü' AND 名前 = 1`,
			text: `SELECT * FROM "ユーザー" WHERE name = $1 AND ñ = $2 AND 名前 = $3`, slots: []string{"s:Zoë 😀", "s:ü", "n:1"}},
		{name: "arrays", sql: "SELECT ARRAY[1, 2], a[3], a[1:2], '{1,2}'::int[]",
			text: "SELECT ARRAY[$1, $2], a[$3], a[$4:$5], $6::int[]", slots: []string{"n:1", "n:2", "n:3", "n:1", "n:2", "s:{1,2}"}},
		{name: "json operators", sql: `SELECT data->'a'->>'b', data #> '{a,b}', data ? 'k', data @> '{"a":1}'`,
			text: "SELECT data->$1->>$2, data #> $3, data ? $4, data @> $5", slots: []string{"s:a", "s:b", "s:{a,b}", "s:k", `s:{"a":1}`}},
		{name: "like escape", sql: "SELECT * FROM t WHERE a LIKE 'x!%' ESCAPE '!' AND b ILIKE 'y' AND c SIMILAR TO 'z'",
			text: "SELECT * FROM t WHERE a LIKE $1 ESCAPE '!' AND b ILIKE $2 AND c SIMILAR TO $3", slots: []string{"s:x!%", "s:y", "s:z"}},
		{name: "fetch first", sql: "SELECT * FROM t ORDER BY a FETCH FIRST 10 ROWS ONLY",
			text: "SELECT * FROM t ORDER BY a FETCH FIRST $1 ROWS ONLY", slots: []string{"n:10"}},
		{name: "hint comment", sql: "/* shard=80- */ SELECT 1", text: "/* shard=80- */ SELECT $1", slots: []string{"n:1"}},
		{name: "lower case", sql: "select * from t where a = 1 order by 1", text: "select * from t where a = $1 order by 1", slots: []string{"n:1"}},
		{name: "collate", sql: `SELECT 'a' COLLATE "C"`, text: `SELECT $1 COLLATE "C"`, slots: []string{"s:a"}},
		{name: "special functions", sql: "SELECT substring('abc' FROM 2 FOR 1), trim(BOTH 'x' FROM 'xax'), position('a' IN 'bab'), extract(year FROM ts)",
			text:  "SELECT substring($1 FROM $2 FOR $3), trim(BOTH $4 FROM $5), position($6 IN $7), extract(year FROM ts)",
			slots: []string{"s:abc", "n:2", "n:1", "s:x", "s:xax", "s:a", "s:bab"}},
		{name: "limit all", sql: "SELECT * FROM t LIMIT ALL OFFSET 5", text: "SELECT * FROM t LIMIT ALL OFFSET $1", slots: []string{"n:5"}},
		{name: "set is not normalized", sql: "SET search_path = 'a', 'b'", off: true},
		{name: "show", sql: "SHOW work_mem", off: true},
		{name: "ddl", sql: "CREATE TABLE t (id int DEFAULT 5, v numeric(10,2))", off: true},
		{name: "copy", sql: "COPY t FROM STDIN WITH (FORMAT csv, DELIMITER ';')", off: true},
		{name: "do block", sql: "DO $$BEGIN RAISE NOTICE 'x'; END$$", off: true},
		{name: "prepare lists its params", sql: "PREPARE q (int) AS SELECT $1 + 1", off: true, slots: []string{"p1"}},
		{name: "empty", sql: "", off: true},
		{name: "comment only", sql: "-- nothing\n/* here */", off: true},
	}
}

func mysqlCases() []normCase {
	return []normCase{
		{name: "point select", sql: "SELECT id, name FROM users WHERE id = 42",
			text: "SELECT id, name FROM users WHERE id = ?", slots: []string{"n:42"}},
		{name: "params and literals share the order", sql: "SELECT * FROM t WHERE a = ? AND b = 5 AND c = ?",
			text: "SELECT * FROM t WHERE a = ? AND b = ? AND c = ?", slots: []string{"p1", "n:5", "p2"}},
		{name: "string escapes", sql: `SELECT 'it\'s', 'a''b', "dq", "d""q", 'x\\y', '\0\b\n\r\t\Z\%\_\q', "it's", 'say "hi"'`,
			text:  "SELECT ?, ?, ?, ?, ?, ?, ?, ?",
			slots: []string{"s:it's", "s:a'b", "s:dq", `s:d"q`, `s:x\y`, "s:\x00\b\n\r\t\x1a\\%\\_q", "s:it's", `s:say "hi"`}},
		{name: "introducers", sql: `SELECT _utf8mb4'abc', N'nat', n'x', _binary 'raw', _latin1"d"`,
			text: "SELECT ?, ?, ?, _binary 'raw', ?", slots: []string{"s:abc", "s:nat", "s:x", "s:d"}},
		{name: "hex and bit values", sql: "SELECT 0x1F, X'1F', x'ab', b'101', B'1', 0b101",
			text: "SELECT ?, ?, ?, ?, ?, ?", slots: []string{"n:0x1F", "n:X'1F'", "n:x'ab'", "n:b'101'", "n:B'1'", "n:0b101"}},
		{name: "names that start with digits", sql: "SELECT 1abc, 123, t.1x, 0x1G, 1e5 FROM t1",
			text: "SELECT 1abc, ?, t.1x, 0x1G, ? FROM t1", slots: []string{"n:123", "n:1e5"}},
		{name: "comments", sql: "SELECT 1 -- c 'x'\n, 2 # c 'y'\n, 3 /* c 'z' */ FROM t WHERE a = 1--1",
			text: "SELECT ? -- c 'x'\n, ? # c 'y'\n, ? /* c 'z' */ FROM t WHERE a = ?-?", slots: []string{"n:1", "n:2", "n:3", "n:1", "n:-1"}},
		{name: "double dash needs a space", sql: "SELECT 5 --x\nFROM t WHERE a = 1 --\n",
			text: "SELECT ? --x\nFROM t WHERE a = ? --\n", slots: []string{"n:5", "n:1"}},
		{name: "executable comment statement", sql: "/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */", off: true},
		{name: "executable comment inside", sql: "SELECT /*!40001 SQL_NO_CACHE */ a FROM t WHERE b = 1 /*!50000 AND c = 'x' */",
			text: "SELECT /*!40001 SQL_NO_CACHE */ a FROM t WHERE b = ? /*!50000 AND c = ? */", slots: []string{"n:1", "s:x"}},
		{name: "mariadb executable comment", sql: "/*M!100100 SELECT 1 */", text: "/*M!100100 SELECT ? */", slots: []string{"n:1"}},
		{name: "optimizer hint", sql: "SELECT /*+ MAX_EXECUTION_TIME(1000) */ * FROM t WHERE id = 7",
			text: "SELECT /*+ MAX_EXECUTION_TIME(1000) */ * FROM t WHERE id = ?", slots: []string{"n:7"}},
		{name: "positions", sql: "SELECT a, count(*) FROM t GROUP BY 1 WITH ROLLUP ORDER BY 2 DESC LIMIT 5",
			text: "SELECT a, count(*) FROM t GROUP BY 1 WITH ROLLUP ORDER BY 2 DESC LIMIT ?", slots: []string{"n:5"}},
		{name: "casts", sql: "SELECT CAST(a AS DECIMAL(10,2)), CONVERT(b, CHAR(20)), CAST('5' AS SIGNED), CAST(c AS DATETIME(6))",
			text: "SELECT CAST(a AS DECIMAL(10,2)), CONVERT(b, CHAR(20)), CAST(? AS SIGNED), CAST(c AS DATETIME(6))", slots: []string{"s:5"}},
		{name: "interval takes a value, typed literals stay", sql: "SELECT DATE_ADD(d, INTERVAL 1 DAY), d - INTERVAL '1:30' HOUR_MINUTE, DATE '2024-01-01', TIMESTAMP '2024-01-01 10:00:00', TIME '10:00'",
			text:  "SELECT DATE_ADD(d, INTERVAL ? DAY), d - INTERVAL ? HOUR_MINUTE, DATE '2024-01-01', TIMESTAMP '2024-01-01 10:00:00', TIME '10:00'",
			slots: []string{"n:1", "s:1:30"}},
		{name: "string aliases stay", sql: `SELECT a 'x', b AS 'y', c "z", 1 'one', offset 'o' FROM t`,
			text: `SELECT a 'x', b AS 'y', c "z", ? 'one', offset 'o' FROM t`, slots: []string{"n:1"}},
		{name: "json paths stay", sql: "SELECT j->'$.a', j->>'$.b', JSON_EXTRACT(j, '$.c') FROM t WHERE j->'$.id' = 5",
			text: "SELECT j->'$.a', j->>'$.b', JSON_EXTRACT(j, ?) FROM t WHERE j->'$.id' = ?", slots: []string{"s:$.c", "n:5"}},
		{name: "adjacent strings are one value", sql: `SELECT 'a' 'b' "c", 'x' /* key=1 */ 'y', _utf8mb4'p' 'q' FROM t`,
			text: "SELECT ?, ?, ? FROM t", slots: []string{"s:abc", "s:xy", "s:pq"}},
		{name: "replace", sql: "REPLACE INTO t (a, b) VALUES (1, 'x')", text: "REPLACE INTO t (a, b) VALUES (?, ?)", slots: []string{"n:1", "s:x"}},
		{name: "on duplicate key", sql: "INSERT INTO t (a) VALUES (1) ON DUPLICATE KEY UPDATE a = a + 1, b = VALUES(b)",
			text: "INSERT INTO t (a) VALUES (?) ON DUPLICATE KEY UPDATE a = a + ?, b = VALUES(b)", slots: []string{"n:1", "n:1"}},
		{name: "limit forms", sql: "SELECT * FROM t LIMIT 10, 20; SELECT * FROM t LIMIT 10 OFFSET 20",
			text: "SELECT * FROM t LIMIT ?, ?; SELECT * FROM t LIMIT ? OFFSET ?", slots: []string{"n:10", "n:20", "n:10", "n:20"}},
		{name: "variables", sql: "SELECT @a := 5, @'b', @@session.sql_mode, @x FROM t WHERE y = @z",
			text: "SELECT @a := ?, @'b', @@session.sql_mode, @x FROM t WHERE y = @z", slots: []string{"n:5"}},
		{name: "set names", sql: "SET NAMES 'utf8mb4'", off: true},
		{name: "show like", sql: "SHOW VARIABLES LIKE 'x%'", off: true},
		{name: "use", sql: "USE db", off: true},
		{name: "call", sql: "CALL p(1, 'a')", off: true},
		{name: "set with param", sql: "SET @x = ?", off: true, slots: []string{"p1"}},
		{name: "describe select", sql: "DESCRIBE SELECT * FROM t WHERE a = 1", text: "DESCRIBE SELECT * FROM t WHERE a = ?", slots: []string{"n:1"}},
		{name: "desc table", sql: "DESC t", off: true},
		{name: "explain format", sql: "EXPLAIN FORMAT=JSON SELECT 1", text: "EXPLAIN FORMAT=JSON SELECT ?", slots: []string{"n:1"}},
		{name: "div and mod", sql: "SELECT a DIV 2, a MOD -3, -a, b XOR 1", text: "SELECT a DIV ?, a MOD ?, -a, b XOR ?", slots: []string{"n:2", "n:-3", "n:1"}},
		{name: "escape and separator stay", sql: "SELECT GROUP_CONCAT(a ORDER BY b SEPARATOR ', ') FROM t WHERE a LIKE 'x|%' ESCAPE '|'",
			text: "SELECT GROUP_CONCAT(a ORDER BY b SEPARATOR ', ') FROM t WHERE a LIKE ? ESCAPE '|'", slots: []string{"s:x|%"}},
		{name: "unicode", sql: "SELECT * FROM `ユーザー` WHERE name = 'Zoë 😀' AND `ñ` = \"ü\"",
			text: "SELECT * FROM `ユーザー` WHERE name = ? AND `ñ` = ?", slots: []string{"s:Zoë 😀", "s:ü"}},
		{name: "backticks", sql: "SELECT `a``b`, `?`, `'` FROM t WHERE x = ?", slots: []string{"p1"}},
		{name: "question marks in strings", sql: `SELECT '?', "?" FROM t WHERE a = ?`, text: "SELECT ?, ? FROM t WHERE a = ?", slots: []string{"s:?", "s:?", "p1"}},
		{name: "precisions stay", sql: "SELECT NOW(6), CURRENT_TIMESTAMP(3), UTC_TIMESTAMP(), SYSDATE(6)"},
		{name: "against", sql: "SELECT * FROM t WHERE MATCH(a) AGAINST ('word' IN BOOLEAN MODE)",
			text: "SELECT * FROM t WHERE MATCH(a) AGAINST (? IN BOOLEAN MODE)", slots: []string{"s:word"}},
		{name: "collate", sql: "SELECT * FROM t WHERE a = 'x' COLLATE utf8mb4_bin AND b = 'y' COLLATE 'utf8mb4_bin'",
			text: "SELECT * FROM t WHERE a = ? COLLATE utf8mb4_bin AND b = ? COLLATE 'utf8mb4_bin'", slots: []string{"s:x", "s:y"}},
		{name: "routine body is not a statement", sql: "CREATE PROCEDURE p() BEGIN SELECT 1; IF 2 THEN SELECT 3; END IF; END; SELECT 4",
			text: "CREATE PROCEDURE p() BEGIN SELECT 1; IF 2 THEN SELECT 3; END IF; END; SELECT ?", slots: []string{"n:4"}},
		{name: "dollar in names", sql: "SELECT $a, a$b FROM t WHERE c = 1", text: "SELECT $a, a$b FROM t WHERE c = ?", slots: []string{"n:1"}},
	}
}

func TestNormalize(t *testing.T) {
	for _, d := range []Dialect{Postgres, MySQL} {
		cases := postgresCases()
		if d == MySQL {
			cases = mysqlCases()
		}
		for _, c := range cases {
			t.Run(d.String()+"/"+c.name, func(t *testing.T) {
				n, err := Normalize(d, c.sql)
				if err != nil {
					t.Fatalf("Normalize(%q): %v", c.sql, err)
				}
				want := c.text
				if want == "" {
					want = c.sql
				}
				if n.Text != want {
					t.Errorf("Normalize(%q).Text\n got %q\nwant %q", c.sql, n.Text, want)
				}
				var got []string
				for _, s := range n.Slots {
					got = append(got, slotDesc(s))
				}
				if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", c.slots) {
					t.Errorf("Normalize(%q).Slots\n got %q\nwant %q", c.sql, got, c.slots)
				}
				if n.Normalized == c.off {
					t.Errorf("Normalize(%q).Normalized = %v", c.sql, n.Normalized)
				}
				if back := Denormalize(d, n.Text, n.Slots, nil); back != c.sql {
					t.Errorf("Denormalize(Normalize(%q)) = %q", c.sql, back)
				}
			})
		}
	}
}

// TestSameShape: statements that differ only in literal values share a
// normalized text.
func TestSameShape(t *testing.T) {
	for _, c := range []struct {
		d    Dialect
		a, b string
	}{
		{Postgres, "SELECT * FROM t WHERE id = 1", "SELECT * FROM t WHERE id = 123456789"},
		{Postgres, "SELECT * FROM t WHERE id = 1", "SELECT * FROM t WHERE id = -1"},
		{Postgres, "SELECT * FROM t WHERE s = 'a'", "SELECT * FROM t WHERE s = E'it\\'s'"},
		{Postgres, "SELECT * FROM t WHERE s = 'a'", "SELECT * FROM t WHERE s = $$x$$"},
		{Postgres, "SELECT * FROM t WHERE s = 'a' LIMIT 1", "SELECT * FROM t WHERE s = 'ü😀' LIMIT 1000"},
		{Postgres, "SELECT a FROM t WHERE b IN (1, 2) ORDER BY 1", "SELECT a FROM t WHERE b IN (3, 4) ORDER BY 1"},
		{MySQL, "SELECT * FROM t WHERE id = 1", "SELECT * FROM t WHERE id = -2.5e3"},
		{MySQL, "SELECT * FROM t WHERE s = 'a'", `SELECT * FROM t WHERE s = "it\"s"`},
		{MySQL, "SELECT * FROM t WHERE s = 'a'", `SELECT * FROM t WHERE s = _utf8mb4'x' 'y'`},
		{MySQL, "INSERT INTO t VALUES (1, 'a'), (2, 'b')", "INSERT INTO t VALUES (3, 'c'), (0x10, 'd')"},
	} {
		na, err := Normalize(c.d, c.a)
		if err != nil {
			t.Fatal(err)
		}
		nb, err := Normalize(c.d, c.b)
		if err != nil {
			t.Fatal(err)
		}
		if na.Text != nb.Text {
			t.Errorf("%s: %q and %q normalize apart: %q vs %q", c.d, c.a, c.b, na.Text, nb.Text)
		}
	}
}

// TestDistinctShape: what looks like a literal but is part of the
// statement's meaning keeps statements apart.
func TestDistinctShape(t *testing.T) {
	for _, c := range []struct {
		d    Dialect
		a, b string
	}{
		{Postgres, "SELECT a, b FROM t ORDER BY 1", "SELECT a, b FROM t ORDER BY 2"},
		{Postgres, "SELECT a, b FROM t GROUP BY 1, 2", "SELECT a, b FROM t GROUP BY 2, 1"},
		{Postgres, "SELECT DISTINCT ON (1) a, b FROM t", "SELECT DISTINCT ON (2) a, b FROM t"},
		{Postgres, "SELECT x::numeric(10,2)", "SELECT x::numeric(12,2)"},
		{Postgres, "SELECT now() - interval '1 day'", "SELECT now() - interval '2 days'"},
		{MySQL, "SELECT a, b FROM t ORDER BY 1", "SELECT a, b FROM t ORDER BY 2"},
		{MySQL, "SELECT a 'x' FROM t", "SELECT a 'y' FROM t"},
	} {
		na, _ := Normalize(c.d, c.a)
		nb, _ := Normalize(c.d, c.b)
		if na.Text == nb.Text {
			t.Errorf("%s: %q and %q share the shape %q", c.d, c.a, c.b, na.Text)
		}
	}
}

func TestHugeInList(t *testing.T) {
	for _, d := range []Dialect{Postgres, MySQL} {
		var b strings.Builder
		b.WriteString("SELECT * FROM t WHERE id IN (")
		for i := range 1000 {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%d", i*7-3)
		}
		b.WriteString(") AND name = 'x'")
		sql := b.String()
		n, err := Normalize(d, sql)
		if err != nil {
			t.Fatal(err)
		}
		if len(n.Slots) != 1001 {
			t.Fatalf("%s: %d slots, want 1001", d, len(n.Slots))
		}
		if n.Slots[0].Lit.Text != "-3" || n.Slots[1000].Lit.Text != "x" {
			t.Errorf("%s: slots %+v ... %+v", d, n.Slots[0], n.Slots[1000])
		}
		if d == Postgres && !strings.HasSuffix(n.Text, ", $1000) AND name = $1001") {
			t.Errorf("text ends %q", n.Text[len(n.Text)-40:])
		}
		if back := Denormalize(d, n.Text, n.Slots, nil); back != sql {
			t.Errorf("%s: round trip differs", d)
		}
	}
}

// TestTooManyLiterals: past 65535 placeholders the text stays as it is.
func TestTooManyLiterals(t *testing.T) {
	for _, d := range []Dialect{Postgres, MySQL} {
		param := "$1"
		if d == MySQL {
			param = "?"
		}
		sql := "INSERT INTO t VALUES (" + param + ")" + strings.Repeat(", (1)", maxParam)
		n, err := Normalize(d, sql)
		if err != nil || n.Normalized || n.Text != sql || len(n.Slots) != 1 || n.Slots[0].Param != 1 {
			t.Errorf("%s: Normalized=%v, %d slots, err %v", d, n.Normalized, len(n.Slots), err)
		}
		sql = "INSERT INTO t VALUES (" + param + ")" + strings.Repeat(", (1)", maxParam-1)
		if n, err := Normalize(d, sql); err != nil || !n.Normalized || len(n.Slots) != maxParam {
			t.Errorf("%s: Normalized=%v, %d slots, err %v", d, n.Normalized, len(n.Slots), err)
		}
	}
}

func TestNormalizeErrors(t *testing.T) {
	for _, c := range []struct {
		d   Dialect
		sql string
		err error
	}{
		{Postgres, "SELECT 'abc", ErrUnterminated},
		{Postgres, "SELECT 'abc''", ErrUnterminated},
		{Postgres, `SELECT E'abc\'`, ErrUnterminated},
		{Postgres, `SELECT E'abc\`, ErrUnterminated},
		{Postgres, `SELECT "abc`, ErrUnterminated},
		{Postgres, `SELECT U&"abc`, ErrUnterminated},
		{Postgres, "SELECT $$abc", ErrUnterminated},
		{Postgres, "SELECT $a$abc$b$", ErrUnterminated},
		{Postgres, "SELECT /* a /* b */", ErrUnterminated},
		{Postgres, "SELECT /*", ErrUnterminated},
		{Postgres, "SELECT 'a'\n'b", ErrUnterminated},
		{Postgres, "SELECT $0", ErrParamNumber},
		{Postgres, "SELECT $65536", ErrParamNumber},
		{Postgres, "SELECT $99999999999999999999999", ErrParamNumber},
		{MySQL, "SELECT 'abc", ErrUnterminated},
		{MySQL, `SELECT 'abc\'`, ErrUnterminated},
		{MySQL, `SELECT "abc""`, ErrUnterminated},
		{MySQL, "SELECT `abc", ErrUnterminated},
		{MySQL, "SELECT X'1F", ErrUnterminated},
		{MySQL, "SELECT /* a", ErrUnterminated},
		{MySQL, "SELECT /*! a", ErrUnterminated},
		{MySQL, "SELECT /*!50000 a /* b */", ErrUnterminated},
		{MySQL, "SELECT @'a", ErrUnterminated},
		{MySQL, "SELECT _utf8'a", ErrUnterminated},
		{Dialect(0), "SELECT 1", ErrDialect},
	} {
		n, err := Normalize(c.d, c.sql)
		if !errors.Is(err, c.err) {
			t.Errorf("%s: Normalize(%q) error %v, want %v", c.d, c.sql, err, c.err)
		}
		if n.Text != c.sql {
			t.Errorf("%s: Normalize(%q) on error returned Text %q", c.d, c.sql, n.Text)
		}
		if _, err := Split(c.d, c.sql); c.err == ErrUnterminated && !errors.Is(err, c.err) {
			t.Errorf("%s: Split(%q) error %v, want %v", c.d, c.sql, err, c.err)
		}
	}
}

// TestParamLimit checks that slots cover the highest $n even when lower
// numbers are missing, up to the protocol's limit.
func TestParamLimit(t *testing.T) {
	n, err := Normalize(Postgres, "SELECT $65534, 1")
	if err != nil {
		t.Fatal(err)
	}
	if len(n.Slots) != 65535 || n.Slots[65534].Lit.Text != "1" || n.Slots[65533].Raw != "$65534" || n.Slots[0].Raw != "" ||
		n.Text != "SELECT $65534, $65535" {
		t.Errorf("got %d slots, text %q", len(n.Slots), n.Text)
	}
	n, err = Normalize(Postgres, "SELECT $65535, 1")
	if err != nil || n.Normalized || len(n.Slots) != 65535 || n.Text != "SELECT $65535, 1" {
		t.Errorf("got %d slots, text %q, err %v", len(n.Slots), n.Text, err)
	}
}
