package postgres

import (
	"fmt"
	"strings"
)

type testCase struct {
	name string
	sql  string
}

// inList500 is SELECT ... WHERE id IN ($1, ..., $500).
func inList500() string {
	ps := make([]string, 500)
	for i := range ps {
		ps[i] = fmt.Sprintf("$%d", i+1)
	}
	return "SELECT * FROM users WHERE id IN (" + strings.Join(ps, ", ") + ")"
}

// cases are the golden cases (testdata/analyze.golden), in order.
var cases = []testCase{
	// Point selects.
	{"point select", "SELECT * FROM users WHERE id = $1"},
	{"point select reversed", "SELECT name FROM users WHERE $1 = id"},
	{"point select two params", "SELECT * FROM users WHERE id = $1 AND name = $2"},
	{"alias", "SELECT u.name FROM users u WHERE u.id = $1"},
	{"alias with AS and schema", "SELECT u.name FROM public.users AS u WHERE u.id = $1"},
	{"schema qualified column", "SELECT * FROM public.users WHERE public.users.id = $1"},
	{"quoted identifiers", `SELECT "Name" FROM "Sales"."Users" "U" WHERE "U"."ID" = $1`},
	{"unquoted folds to lower case", `SELECT * FROM Users WHERE ID = $1`},
	{"raw literals", "SELECT * FROM users WHERE id = 42 AND name = 'bob' AND score = -5 AND ratio = -1.5"},
	{"raw literal null and bool", "SELECT * FROM users WHERE id = NULL OR active = true"},
	{"big integer literal", "SELECT * FROM users WHERE id = 9223372036854775807"},
	{"in list", "SELECT * FROM users WHERE id IN ($1, $2, $3)"},
	{"in list 500", inList500()},
	{"not in is opaque", "SELECT * FROM users WHERE id NOT IN ($1, $2)"},
	{"in list with expression is opaque", "SELECT * FROM users WHERE id IN ($1, $2 + 1)"},
	{"or of keys", "SELECT * FROM users WHERE id = $1 OR id = $2"},
	{"and inside or", "SELECT * FROM users WHERE (id = $1 AND a = $2) OR (id = $3 AND a = $4) OR b > $5"},
	{"nested and flattened", "SELECT * FROM users WHERE id = $1 AND (a = $2 AND b = $3)"},
	{"not is opaque", "SELECT * FROM users WHERE NOT (id = $1)"},
	{"any array param is opaque", "SELECT * FROM users WHERE id = ANY($1)"},
	{"any array literal is in", "SELECT * FROM users WHERE id = ANY(ARRAY[$1, $2])"},
	{"row equality", "SELECT * FROM t WHERE (a, b) = ($1, $2)"},
	{"row in list", "SELECT * FROM t WHERE (a, b) IN (($1, $2), ($3, $4))"},
	{"casts on values", "SELECT * FROM users WHERE id = $1::bigint AND name = CAST($2 AS text) AND uid = $3::uuid"},
	{"cast on column to text", "SELECT * FROM users WHERE id::text = $1"},
	{"lossy casts are opaque", "SELECT * FROM users WHERE name = $1::char(3) OR id::int4 = $2 OR id = 4.5::int8"},
	{"typed literal", "SELECT * FROM users WHERE id = bigint '42'"},
	{"collate is opaque", `SELECT * FROM users WHERE name COLLATE "C" = $1`},
	{"function of column is opaque", "SELECT * FROM users WHERE lower(name) = $1"},
	{"between and is null opaque", "SELECT * FROM users WHERE id BETWEEN $1 AND $2 AND name IS NULL"},
	{"explicit pg_catalog equals", "SELECT * FROM users WHERE id OPERATOR(pg_catalog.=) $1"},

	// Joins.
	{"inner join", "SELECT o.id, u.name FROM orders o JOIN users u ON u.id = o.user_id WHERE o.user_id = $1"},
	{"left join keeps on out", "SELECT * FROM users u LEFT JOIN orders o ON o.user_id = u.id AND o.state = $2 WHERE u.id = $1"},
	{"right join", "SELECT * FROM users u RIGHT JOIN orders o ON o.user_id = u.id AND u.id = $1"},
	{"inner join under left preserved side", "SELECT * FROM (a JOIN b ON a.k = b.k) LEFT JOIN c ON c.k = a.k"},
	{"inner join under nullable side", "SELECT * FROM a LEFT JOIN (b JOIN c ON b.k = $1) ON c.k = a.k"},
	{"using join", "SELECT * FROM users JOIN orders USING (user_id) WHERE users.user_id = $1"},
	{"using join chain", "SELECT * FROM a JOIN b AS bb USING (k) JOIN c USING (k, j)"},
	{"natural and cross join", "SELECT * FROM a NATURAL JOIN b CROSS JOIN c"},
	{"comma join", "SELECT * FROM users u, orders o WHERE u.id = o.user_id AND u.id = $1"},
	{"table function and values are not tables", "SELECT * FROM generate_series(1, $1) g, (VALUES ($2), ($3)) v(x), users"},
	{"lateral subquery", "SELECT * FROM users u, LATERAL (SELECT * FROM orders o WHERE o.user_id = u.id) x WHERE u.id = $1"},

	// CTEs and subqueries.
	{"cte", "WITH recent AS (SELECT * FROM orders WHERE user_id = $1) SELECT * FROM recent WHERE id = $2"},
	{"cte shadowing a real table", "WITH users AS (SELECT * FROM users WHERE id = $1) SELECT * FROM users"},
	{"cte referencing earlier cte", "WITH a AS (SELECT * FROM t1), b AS (SELECT * FROM a JOIN t2 ON t2.x = a.x) SELECT * FROM b"},
	{"recursive cte", "WITH RECURSIVE tree AS (SELECT id, parent FROM nodes WHERE id = $1 UNION ALL SELECT n.id, n.parent FROM nodes n JOIN tree ON n.parent = tree.id) SELECT * FROM tree"},
	{"cte name in subquery scope", "WITH x AS (SELECT 1) SELECT * FROM t WHERE EXISTS (SELECT * FROM x) AND a IN (SELECT b FROM x, y)"},
	{"schema-qualified name is not the cte", "WITH users AS (SELECT 1) SELECT * FROM public.users"},
	{"data-modifying cte", "WITH d AS (DELETE FROM users WHERE id = $1 RETURNING *) SELECT * FROM d"},
	{"subquery in where", "SELECT * FROM users WHERE id = $1 AND EXISTS (SELECT 1 FROM orders o WHERE o.user_id = users.id AND o.id = $2)"},
	{"in subquery", "SELECT * FROM users WHERE id IN (SELECT user_id FROM orders WHERE state = $1)"},
	{"subquery in from", "SELECT s.n FROM (SELECT count(*) AS n FROM orders WHERE user_id = $1) s"},
	{"scalar subquery in select list", "SELECT id, (SELECT max(total) FROM orders o WHERE o.user_id = u.id) AS top FROM users u WHERE u.id = $1"},
	{"nested subqueries", "SELECT * FROM a WHERE x IN (SELECT y FROM b WHERE z IN (SELECT z FROM c WHERE k = $1))"},
	{"column of a subquery alias is opaque", "SELECT * FROM (SELECT user_id AS id FROM orders) s WHERE s.id = $1"},
	{"join to subquery", "SELECT * FROM users u JOIN (SELECT * FROM orders) o ON o.user_id = u.id WHERE u.id = $1"},
	{"cte alias shadowing a table", "WITH users AS (SELECT * FROM accounts) SELECT * FROM users u WHERE u.id = $1"},
	{"unqualified column over a cte in a subquery", "WITH x AS (SELECT user_id AS id FROM orders) SELECT * FROM users WHERE EXISTS (SELECT 1 FROM x WHERE id = $1)"},
	{"correlated subquery without from", "SELECT * FROM users WHERE EXISTS (SELECT 1 WHERE id = $1)"},
	{"update where in subquery", "UPDATE orders SET state = $1 WHERE id IN (SELECT order_id FROM items WHERE sku = $2)"},
	{"data-modifying cte into insert", "WITH moved AS (DELETE FROM inbox WHERE user_id = $1 RETURNING *) INSERT INTO archive SELECT * FROM moved"},
	{"select for update in subquery", "SELECT * FROM (SELECT * FROM users WHERE id = $1 FOR UPDATE) s"},

	// INSERT.
	{"insert single row", "INSERT INTO users (id, name) VALUES ($1, $2)"},
	{"insert multi row", "INSERT INTO users (id, name) VALUES ($1, $2), ($3, $4), ($5, $6)"},
	{"insert default and expressions", "INSERT INTO users (id, name, created) VALUES ($1, DEFAULT, now()), ($2::bigint, $3 || $4, NULL)"},
	{"insert raw literals", "INSERT INTO users VALUES (42, 'it''s', -7, 1.5e3, E'a\\nb', U&'\\00e9t\\00e9')"},
	{"insert on conflict do update returning", "INSERT INTO users AS u (id, name) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, seen = u.seen + 1 RETURNING id"},
	{"insert on conflict do nothing", "INSERT INTO users (id) VALUES ($1) ON CONFLICT DO NOTHING"},
	{"insert select", "INSERT INTO archive (id, name) SELECT id, name FROM users WHERE id = $1"},
	{"insert default values", "INSERT INTO events DEFAULT VALUES"},
	{"insert with cte", "WITH src AS (SELECT * FROM staging) INSERT INTO users SELECT * FROM src"},
	{"insert values with subquery", "INSERT INTO orders (id, user_id) VALUES ($1, (SELECT id FROM users WHERE email = $2))"},

	// UPDATE / DELETE.
	{"update by key", "UPDATE users SET name = $1, updated = now() WHERE id = $2"},
	{"update sets the key", "UPDATE users SET id = $1 WHERE id = $2"},
	{"update multi-assign", "UPDATE users SET (a, b) = ($1, $2) WHERE id = $3 RETURNING *"},
	{"update from join", "UPDATE orders o SET state = $1 FROM users u WHERE u.id = o.user_id AND u.id = $2"},
	{"update without where", "UPDATE users SET active = false"},
	{"delete by key", "DELETE FROM users WHERE id = $1"},
	{"delete using", "DELETE FROM orders o USING users u WHERE o.user_id = u.id AND u.email = $1 RETURNING o.id"},
	{"delete where current of", "DELETE FROM users WHERE CURRENT OF c"},

	// SELECT shapes for merging.
	{"select for update", "SELECT * FROM users WHERE id = $1 FOR UPDATE"},
	{"select for no key update of", "SELECT * FROM users u JOIN orders o ON o.user_id = u.id WHERE u.id = $1 FOR NO KEY UPDATE OF u"},
	{"select for share skip locked", "SELECT * FROM jobs FOR SHARE SKIP LOCKED"},
	{"select for key share", "SELECT * FROM jobs WHERE id = $1 FOR KEY SHARE"},
	{"aggregates", "SELECT count(*), count(DISTINCT user_id), sum(total), avg(total), min(total), max(total) FROM orders"},
	{"cast counts", "SELECT count(*)::int AS n, CAST(count(id) AS bigint), count(*)::numeric(10,2), count(*)::text, sum(total)::int, max(id)::int4 FROM orders"},
	{"other aggregates", "SELECT string_agg(name, $1), array_agg(id ORDER BY id), stddev(x), bool_and(ok), percentile_cont($2) WITHIN GROUP (ORDER BY x), count(*) FILTER (WHERE x > $3), pg_catalog.sum(x), myagg(DISTINCT x) FROM t"},
	{"quoted function names are exact", `SELECT "count"(x), "Sum"(x), "MAX"(DISTINCT x) FROM t`},
	{"nested aggregates", "SELECT sum(a) + 1, coalesce(max(a), 0), round(avg(a)::numeric, 2) AS r, upper(name) FROM t GROUP BY name"},
	{"coalesced aggregates", "SELECT COALESCE(sum(a), 0), coalesce(avg(a), $1), coalesce(sum(DISTINCT a), 0), coalesce(sum(a), max(b)), coalesce(sum(a), 0, 1), coalesce(a, 0), coalesce(string_agg(b, ','), '') FROM t"},
	{"count star group by key with having", "SELECT user_id, count(*) FROM orders GROUP BY user_id HAVING count(*) > $1"},
	{"group by position alias expr", "SELECT date_trunc('day', created) AS day, state AS s, count(*) FROM orders GROUP BY 1, s, date_trunc('day', created), lower(state)"},
	{"group by qualified matches unqualified", "SELECT o.user_id, sum(o.total) FROM orders o GROUP BY user_id"},
	{"group by bare name prefers input column", "SELECT b AS a, a AS b FROM t GROUP BY a"},
	{"grouping sets", "SELECT a, b, count(*) FROM t GROUP BY ROLLUP (a, b)"},
	{"order by position alias expr", "SELECT id, name AS n, total * 2 FROM orders ORDER BY 1, n DESC, total * 2 DESC NULLS FIRST, created NULLS LAST"},
	{"order by output name before input column", "SELECT b AS a, a AS b FROM t ORDER BY a, t.a"},
	{"order by derived name", "SELECT count(*), u.name FROM users u GROUP BY u.name ORDER BY count DESC, name"},
	{"order by after star", "SELECT *, id FROM users ORDER BY 2, 1"},
	{"order by using", "SELECT x FROM t ORDER BY x USING >, y USING <"},
	{"limit offset", "SELECT * FROM users ORDER BY id LIMIT $1 OFFSET $2"},
	{"limit all and raw limit", "SELECT * FROM users LIMIT ALL OFFSET 10"},
	{"fetch first", "SELECT * FROM users ORDER BY id OFFSET $1 ROWS FETCH FIRST $2 ROWS ONLY"},
	{"fetch first with ties", "SELECT * FROM users ORDER BY id FETCH FIRST 3 ROWS WITH TIES"},
	{"limit expression", "SELECT * FROM users LIMIT $1 + 1"},
	{"union all", "SELECT id, name FROM users WHERE id = $1 UNION ALL SELECT id, name FROM admins WHERE id = $2 ORDER BY name LIMIT $3"},
	{"union three arms", "SELECT a FROM x UNION SELECT a FROM y UNION SELECT a FROM z"},
	{"mixed set operations", "SELECT a FROM x UNION ALL SELECT a FROM y EXCEPT SELECT a FROM z"},
	{"intersect", "SELECT id FROM users INTERSECT SELECT user_id FROM orders"},
	{"window functions", "SELECT id, row_number() OVER (PARTITION BY user_id ORDER BY created), sum(total) OVER w FROM orders WINDOW w AS (PARTITION BY user_id)"},
	{"window over aggregate", "SELECT user_id, sum(sum(total)) OVER () FROM orders GROUP BY user_id"},
	{"top-level window count", "SELECT count(*) OVER (), id FROM users"},
	{"sql/json aggregate", "SELECT json_objectagg(k VALUE v), json_arrayagg(v) FROM t"},
	{"except all", "SELECT id FROM a EXCEPT ALL SELECT id FROM b"},
	{"tablesample and only", "SELECT * FROM users TABLESAMPLE SYSTEM (10), ONLY orders WHERE users.id = $1"},
	{"is not distinct from is opaque", "SELECT * FROM users WHERE id IS NOT DISTINCT FROM $1"},
	{"limit for update skip locked", "SELECT id FROM jobs WHERE state = $1 ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED"},
	{"distinct", "SELECT DISTINCT user_id FROM orders"},
	{"distinct on", "SELECT DISTINCT ON (user_id) user_id, created FROM orders ORDER BY user_id, created DESC"},
	{"select without from", "SELECT 1"},
	{"select version", "SELECT version()"},
	{"select param and now", "SELECT $1, now()"},
	{"values statement", "VALUES ($1, $2), ($3, $4) ORDER BY 1"},
	{"table statement", "TABLE users"},
	{"select into", "SELECT * INTO backup FROM users"},

	// Text forms.
	{"dollar quoted string", "SELECT * FROM users WHERE name = $$it's $1$$"},
	{"tagged dollar quote", "SELECT * FROM users WHERE bio = $tag$a $$ b$tag$ AND id = $1"},
	{"unicode", "SELECT * FROM \"ユーザー\" WHERE 名前 = 'Zoë 😀'"},
	{"comments", "/* shard=80- */ SELECT * -- trailing\nFROM users /* inline */ WHERE id = $1 -- end"},
	{"trailing semicolon", "SELECT * FROM users WHERE id = $1;"},

	// Transactions and session.
	{"begin", "BEGIN"},
	{"begin isolation", "BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY"},
	{"start transaction", "START TRANSACTION"},
	{"commit", "COMMIT"},
	{"end", "END"},
	{"commit and chain", "COMMIT AND CHAIN"},
	{"rollback", "ROLLBACK"},
	{"abort", "ABORT"},
	{"savepoint", "SAVEPOINT sp1"},
	{"release", "RELEASE SAVEPOINT sp1"},
	{"rollback to", "ROLLBACK TO SAVEPOINT sp1"},
	{"prepare transaction", "PREPARE TRANSACTION 'tx1'"},
	{"set", "SET search_path TO app, public"},
	{"set equals", "SET statement_timeout = $1"},
	{"set local", "SET LOCAL lock_timeout = '1s'"},
	{"set session", "SET SESSION DateStyle TO ISO"},
	{"set time zone", "SET TIME ZONE 'UTC'"},
	{"set names", "SET NAMES 'UTF8'"},
	{"set transaction", "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"},
	{"set session characteristics", "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY"},
	{"set constraints", "SET CONSTRAINTS ALL DEFERRED"},
	{"reset", "RESET search_path"},
	{"reset all", "RESET ALL"},
	{"show", "SHOW search_path"},
	{"show transaction isolation", "SHOW TRANSACTION ISOLATION LEVEL"},
	{"show all", "SHOW ALL"},

	// COPY.
	{"copy from stdin", "COPY users (id, name) FROM STDIN WITH (FORMAT csv)"},
	{"copy to stdout", "COPY public.users TO STDOUT"},
	{"copy query to stdout", "COPY (SELECT id FROM users WHERE id = $1) TO STDOUT"},
	{"copy from server file", "COPY users FROM '/tmp/users.csv'"},

	// Prepared statements in SQL.
	{"prepare", "PREPARE q (bigint) AS SELECT * FROM users WHERE id = $1"},
	{"prepare insert", "PREPARE ins AS INSERT INTO users (id) VALUES ($1)"},
	{"execute", "EXECUTE q (42)"},
	{"deallocate", "DEALLOCATE q"},
	{"deallocate all", "DEALLOCATE ALL"},

	// EXPLAIN.
	{"explain", "EXPLAIN SELECT * FROM users WHERE id = $1"},
	{"explain analyze select", "EXPLAIN ANALYZE SELECT * FROM users WHERE id = $1"},
	{"explain analyze delete", "EXPLAIN (ANALYZE, BUFFERS) DELETE FROM users WHERE id = $1"},
	{"explain analyze false", "EXPLAIN (ANALYZE false) UPDATE users SET a = $1 WHERE id = $2"},

	// DDL and maintenance.
	{"create table", "CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint REFERENCES users (id), total numeric)"},
	{"create table as", "CREATE TABLE top AS SELECT * FROM orders WHERE total > $1"},
	{"create index", "CREATE INDEX CONCURRENTLY orders_user_idx ON orders (user_id) WHERE total > 0"},
	{"create view", "CREATE VIEW v AS SELECT * FROM users"},
	{"alter table", "ALTER TABLE users ADD COLUMN age int"},
	{"alter table rename", "ALTER TABLE users RENAME TO people"},
	{"alter index is not a table", "ALTER INDEX users_pkey RENAME TO users_pk"},
	{"drop tables", "DROP TABLE IF EXISTS users, app.orders CASCADE"},
	{"drop index", "DROP INDEX orders_user_idx"},
	{"truncate", "TRUNCATE users, orders RESTART IDENTITY"},
	{"comment on table", "COMMENT ON TABLE users IS 'people'"},
	{"comment on column", "COMMENT ON COLUMN app.users.name IS 'full name'"},
	{"grant", "GRANT SELECT, INSERT ON users, orders TO app"},
	{"grant on sequence", "GRANT USAGE ON SEQUENCE users_id_seq TO app"},
	{"revoke", "REVOKE ALL ON users FROM app"},
	{"create sequence", "CREATE SEQUENCE users_id_seq"},
	{"create function", "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 FROM users $$"},
	{"reindex table", "REINDEX TABLE users"},
	{"reindex index", "REINDEX INDEX users_pkey"},
	{"vacuum", "VACUUM (ANALYZE) users, orders"},
	{"analyze", "ANALYZE users"},
	{"cluster", "CLUSTER users USING users_pkey"},
	{"create schema", "CREATE SCHEMA app"},

	// Other.
	{"merge", "MERGE INTO users u USING staging s ON s.id = u.id WHEN MATCHED THEN UPDATE SET name = s.name WHEN NOT MATCHED THEN INSERT (id, name) VALUES (s.id, s.name)"},
	{"lock table", "LOCK TABLE users IN ACCESS EXCLUSIVE MODE"},
	{"listen", "LISTEN events"},
	{"notify", "NOTIFY events, 'hello'"},
	{"discard all", "DISCARD ALL"},
	{"do block", "DO $$ BEGIN PERFORM 1; END $$"},
	{"call", "CALL do_things($1)"},
	{"declare cursor", "DECLARE c CURSOR FOR SELECT * FROM users WHERE id = $1"},
	{"declare cursor with hold", "DECLARE c NO SCROLL CURSOR WITH HOLD FOR SELECT id FROM users FOR UPDATE"},
	{"primary-only function", "SELECT nextval('s'), pg_try_advisory_lock(1)"},
	{"checkpoint", "CHECKPOINT"},

	// Errors.
	{"syntax error", "SELEC * FROM users"},
	{"incomplete", "SELECT * FROM"},
	{"two statements", "SELECT 1; SELECT 2"},
	{"empty", "  -- nothing\n"},
	{"only a semicolon", ";"},
}
