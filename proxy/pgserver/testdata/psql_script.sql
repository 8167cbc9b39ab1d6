-- Run through shardgate and against one plain PostgreSQL database; the
-- outputs must be identical. Every multi-row SELECT has a total ORDER BY.
CREATE TABLE items (user_id bigint, id bigint, price numeric(10,2), qty int, tag text, PRIMARY KEY (user_id, id));
CREATE TABLE kinds (code text PRIMARY KEY, label text);
INSERT INTO kinds (code, label) VALUES ('a', 'Alpha'), ('b', 'Beta'), ('c', 'Gamma');
INSERT INTO items (user_id, id, price, qty, tag) VALUES
  (1, 1, 9.99, 1, 'a'), (2, 1, 19.50, 2, 'b'), (3, 1, 5.00, 10, 'a'), (4, 1, 100.00, 1, 'c'),
  (5, 1, 0.10, 7, 'b'), (6, 1, 42.42, 3, NULL), (7, 1, 3.33, 3, 'a'), (8, 1, 12.00, 4, 'c');
INSERT INTO items (user_id, id, price, qty, tag) VALUES (1, 2, 1.25, 5, 'b'), (2, 2, 2.50, 1, 'a'), (9, 1, 7.77, 2, 'a');
SELECT * FROM items WHERE user_id = 2 ORDER BY id;
SELECT price, qty FROM items WHERE user_id = 1 AND id = 2;
SELECT user_id, id, price FROM items ORDER BY price DESC, user_id, id;
SELECT user_id, id FROM items ORDER BY user_id DESC, id LIMIT 4 OFFSET 2;
SELECT count(*), sum(qty), min(price), max(price) FROM items;
SELECT avg(price) FROM items;
SELECT coalesce(sum(price), 0), coalesce(max(qty), -1), coalesce(avg(price), 0), coalesce(min(tag), 'none') FROM items;
SELECT coalesce(sum(price), 0) AS total, coalesce(max(qty), -1), coalesce(avg(qty), 0), coalesce(min(tag), 'none') FROM items WHERE qty > 1000;
SELECT tag, coalesce(max(CASE WHEN qty > 5 THEN price END), 99) AS best FROM items GROUP BY tag ORDER BY tag NULLS FIRST;
SELECT tag, count(*), sum(price) FROM items GROUP BY tag ORDER BY tag NULLS FIRST;
SELECT tag, count(*)::int AS n, CAST(count(price) AS numeric(10,2)) AS priced, count(*)::float8 AS f FROM items GROUP BY tag ORDER BY tag NULLS FIRST;
SELECT count(*)::int, count(qty)::bigint FROM items WHERE qty > 1000;
SELECT tag, count(*) FROM items GROUP BY tag HAVING count(*) > 2 ORDER BY tag NULLS FIRST;
SELECT tag, sum(price) FROM items GROUP BY tag HAVING avg(qty) >= 3 AND 50 > max(price) ORDER BY 1 NULLS FIRST;
SELECT count(*) FROM items HAVING count(*) > 100;
SELECT tag, avg(qty) FROM items GROUP BY tag ORDER BY 2 DESC, 1;
SELECT DISTINCT tag FROM items ORDER BY tag;
SELECT i.user_id, i.id, k.label FROM items i JOIN kinds k ON k.code = i.tag WHERE i.user_id = 3 ORDER BY i.id;
SELECT label FROM kinds ORDER BY code;
BEGIN;
DECLARE cur CURSOR FOR SELECT id, price FROM items WHERE user_id = 2 ORDER BY id;
FETCH 1 FROM cur;
FETCH ALL FROM cur;
CLOSE cur;
COMMIT;
UPDATE items SET qty = qty + 1 WHERE tag = 'a';
DELETE FROM items WHERE price < 1;
SELECT user_id, id, qty FROM items ORDER BY user_id, id;
SELECT count(*) FROM items WHERE user_id IN (1, 2, 3, 9);
