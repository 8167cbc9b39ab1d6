-- Statements as applications, ORMs and tools send them to PostgreSQL.
-- Statements are separated by lines of four dashes.
SELECT "users"."id", "users"."email" FROM "users" WHERE "users"."id" = 42 LIMIT 1
----
SELECT "users".* FROM "users" WHERE "users"."email" = 'o''brien@example.com' AND "users"."deleted_at" IS NULL ORDER BY "users"."id" ASC LIMIT $1
----
UPDATE pgbench_accounts SET abalance = abalance + -4171 WHERE aid = 88451;
----
SELECT abalance FROM pgbench_accounts WHERE aid = 88451;
----
INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (7, 1, 88451, -4171, CURRENT_TIMESTAMP);
----
SELECT "a$1"."x""y" AS "we""ird $2", '$3' FROM "t$1" "a$1" WHERE "a$1".id = $1 AND "a$1".v = 'z'
----
/* controller='orders',action='show',
   it's a 'sqlcommenter' comment */
SELECT o.* FROM orders o /* join /* nested ' */ comment */ WHERE o.user_id = 7 -- it's 'done'
----
DO $body$
BEGIN
  PERFORM 1; -- ';' inside
  RAISE NOTICE 'it''s %', $$quoted$$;
END
$body$;
----
SELECT $fn$it's; a 'test'$fn$ AS body, $$;$$ AS semi, E'\'' AS quote, E'tab\there\\' AS esc
----
SELECT * FROM "ユーザー" WHERE "名前" = 'Zoë 😀 ü' AND bio LIKE '%日本%'
----
SELECT id FROM t WHERE a = -5 AND b = - 5 AND c-5 > 0 AND d - 5 > 0 AND e = -1.5e-3 AND f IN (-1, +2)
----
WITH recent AS (
  SELECT user_id, sum(total) AS s FROM orders WHERE created_at > now() - interval '30 days' GROUP BY 1
), top AS (SELECT user_id FROM recent WHERE s > 1000 ORDER BY s DESC LIMIT 10)
SELECT u.name, r.s FROM users u JOIN recent r USING (user_id) WHERE u.id IN (SELECT user_id FROM top) ORDER BY 2 DESC, 1
----
SELECT date_trunc('day', created_at) AS d, count(*) FROM events WHERE kind = 'click' AND created_at >= DATE '2024-01-01' AND created_at < TIMESTAMP '2024-02-01 00:00:00' GROUP BY 1 ORDER BY 1
----
SELECT '42'::int, '{1,2,3}'::int[], 42::bigint::text, x::numeric(12,2), CAST('7' AS varchar(20)), '2024-01-01'::date
----
SELECT to_char(ts AT TIME ZONE 'Europe/Berlin', 'YYYY-MM-DD'), ts::timestamp(3) with time zone, extract(epoch FROM ts) FROM t
----
INSERT INTO orders (id, user_id, note, total, tags, meta) VALUES
  (1, 42, 'first', 9.99, ARRAY['a','b'], '{"k": "v"}'::jsonb),
  (2, 42, E'line\nbreak', 19.5, '{}', NULL),
  (3, 7, 'it''s', -3, DEFAULT, '{}')
ON CONFLICT (id) DO UPDATE SET total = EXCLUDED.total + 1, note = orders.note || ' (updated)'
RETURNING id, (xmax = 0) AS inserted
----
DELETE FROM sessions WHERE expires_at < now() - INTERVAL '1 hour' AND user_id = ANY('{1,2,3}'::int[])
----
SELECT DISTINCT ON (1) user_id, created_at FROM logins WHERE ok = true ORDER BY 1, 2 DESC
----
SELECT name, rank() OVER (PARTITION BY dept ORDER BY salary DESC ROWS BETWEEN UNBOUNDED PRECEDING AND 2 FOLLOWING) FROM emp WHERE salary > 5e4
----
SELECT data->>'name', data#>>'{a,0}', data @> '{"active": true}', data ? 'k', tags && ARRAY['x'] FROM docs WHERE id = 99
----
EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) SELECT * FROM t WHERE id = 5
----
SET search_path TO app, public
----
SET statement_timeout = 5000
----
SHOW server_version
----
BEGIN ISOLATION LEVEL REPEATABLE READ
----
COPY (SELECT * FROM t WHERE id > 100) TO STDOUT WITH (FORMAT csv)
----
CREATE TABLE items (id bigint PRIMARY KEY, price numeric(10,2) DEFAULT 0.00, name text DEFAULT 'n/a')
----
PREPARE get_user (int) AS SELECT * FROM users WHERE id = $1 AND active = true
----
SELECT 'multi'
  'line' AS joined, U&'\0441\043B\043E\043D' AS slon, B'1010' AS bits, X'FF' AS hex
----
SELECT count(*) FROM t WHERE a = 1 UNION ALL SELECT count(*) FROM u WHERE b = 'x' ORDER BY 1 LIMIT 5 OFFSET 10
----
SELECT * FROM t FOR UPDATE SKIP LOCKED
----
/* shard=80-, role=primary */ SELECT * FROM accounts WHERE id = 12345 FOR UPDATE
----
SELECT 0x1F, 0o17, 0b1010, 1_000_000, .5, 5., 1e10
----
TABLE users
----
VALUES (1, 'one'), (2, 'two') ORDER BY 1 DESC

----
SELECT overlay('abcdef' PLACING 'x' FROM 2 FOR 3), 'a' IS DISTINCT FROM 'b', 1 IS NOT DISTINCT FROM 2
----
SELECT * FROM generate_series(1, 10, 2) AS g(i) WHERE i BETWEEN SYMMETRIC 8 AND 2
----
SELECT a, count(*) FILTER (WHERE b > 5) FROM t GROUP BY GROUPING SETS ((a), ()) HAVING count(*) > 1
----
SELECT ROW(1, 'a'), (1, 2) < (3, 4), interval '1' year to month, interval '1-2' year to month
----
SELECT * FROM t WHERE a SIMILAR TO 'x%' ESCAPE '#' AND b ~ '^a' AND c !~* 'b'
----
SELECT * FROM t TABLESAMPLE bernoulli (10) REPEATABLE (42)
----
WITH moved AS (DELETE FROM a WHERE x < 5 RETURNING *) INSERT INTO b SELECT * FROM moved WHERE y = 'z'
----
INSERT INTO t (a, b) SELECT x, 'k' FROM u WHERE y > 3 ON CONFLICT (a) WHERE b <> 'q' DO NOTHING
----
SELECT * FROM t ORDER BY a OFFSET 1 ROW FETCH NEXT 2 ROWS WITH TIES
----
SELECT * FROM t LIMIT 1 FOR UPDATE OF t NOWAIT
----
SELECT timestamp '2024-01-01 00:00' at time zone 'utc', float8 '1.5', '1 day'::interval, x::character varying(10), x::bit varying(5), x::double precision
----
SELECT 'a' || 'b' || 3, -x, - -1, 2 ^ -3, @ -4, |/ 25.0, 5 ! , 1 << 2
----
SELECT CASE x WHEN 1 THEN 'one' WHEN -2 THEN 'minus two' ELSE NULL END FROM t
----
SELECT coalesce(a, 0), nullif(b, ''), greatest(1, 2, 3), least(-1, -2)
----
SELECT a FROM t WHERE (a, b) IN ((1, 'x'), (2, 'y')) AND c = ANY (ARRAY[1, 2, 3]) AND d <> ALL ('{4,5}')
----
SELECT a FROM t WHERE b IN (SELECT c FROM u WHERE d = 1 ORDER BY 1 LIMIT 1) ORDER BY 1
----
SELECT array_agg(a ORDER BY b DESC) FILTER (WHERE c > 0), string_agg(d, ', ' ORDER BY 1) FROM t
----
SELECT * FROM t1 JOIN t2 ON t1.a = t2.a AND t2.b = 'x' LEFT JOIN LATERAL (SELECT * FROM t3 WHERE t3.c = t1.c LIMIT 2) s ON true
----
SELECT x FROM t WHERE y = E'\\x41' AND z = U&'\0041' AND w = B'101' AND v = X'1F'
----
SELECT xmlelement(name foo, 'bar'), json_build_object('a', 1, 'b', 'c')
----
SELECT current_date, current_time(2), localtimestamp, now() AT TIME ZONE 'UTC', CURRENT_TIMESTAMP - INTERVAL '5 minutes'
----
SELECT cast(now() as date), cast('5' as numeric(10, 2)), cast('a' as text), 5::numeric(4,1)
----
SELECT a FROM t WHERE b LIKE ANY (ARRAY['a%', 'b%']) OR c ILIKE 'x'
----
UPDATE t SET (a, b) = (1, 'x'), c = DEFAULT WHERE id = 5 RETURNING *
----
DELETE FROM t USING u WHERE t.id = u.id AND u.flag = 'gone'
----
SELECT * FROM (VALUES (1, 'a'), (2, 'b')) AS v(n, s) WHERE n > 1
----
SELECT $1::int + 5, $2 || 'x'
----
SELECT 1 FROM t WHERE a = 1 INTERSECT SELECT 2 EXCEPT SELECT 3 ORDER BY 1
----
SELECT extract(epoch FROM interval '5 days'), date_part('hour', ts), to_timestamp(1700000000)
----
SELECT a FROM t WHERE ts > '2024-01-01'::timestamptz - '1 hour'::interval AND d = date '2024-01-01'
----
SELECT t.* FROM t WHERE t.a = 1 ORDER BY t.b NULLS FIRST, 2 NULLS LAST LIMIT 5
----
SELECT jsonb_path_query(j, '$.a[*] ? (@ > 1)'), j #- '{a}', j -> 0 -> 'b'
----
SELECT a, sum(b) OVER w FROM t WINDOW w AS (PARTITION BY a ORDER BY 1 RANGE BETWEEN INTERVAL '1 day' PRECEDING AND CURRENT ROW)
----
SELECT 1 AS "order", 2 AS "group" FROM t ORDER BY "order"
----
SELECT position('b' in 'abc'), substring('abc' from 2), trim(leading 'a' from 'aab'), trim('  x  ')
