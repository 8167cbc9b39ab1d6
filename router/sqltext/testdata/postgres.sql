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
