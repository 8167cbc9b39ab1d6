# Statements as applications, ORMs and tools send them to MySQL / MariaDB.
# Statements are separated by lines of four dashes.
SELECT `users`.`id`, `users`.`email` FROM `users` WHERE `users`.`id` = 42 LIMIT 1
----
SELECT `users`.* FROM `users` WHERE `users`.`email` = 'o\'brien@example.com' AND `users`.`name` = "say ""hi""" ORDER BY `users`.`id` ASC LIMIT ?
----
SELECT c FROM sbtest1 WHERE id=5023
----
SELECT c FROM sbtest1 WHERE id BETWEEN 5023 AND 5122 ORDER BY c
----
UPDATE sbtest1 SET k=k+1 WHERE id=5023
----
INSERT INTO sbtest1 (id, k, c, pad) VALUES (5023, 4992, '83868641912-28773972837-60736120486', '67847967377-48000963322-62604785301')
----
/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */
----
/*!40014 SET @OLD_UNIQUE_CHECKS=@@UNIQUE_CHECKS, UNIQUE_CHECKS=0 */
----
INSERT INTO `t` VALUES (1,'a\'b',NULL,0x1F),(2,'c\\d',-3.5,X'00FF'),(3,'',b'101',_binary 'raw')
----
SELECT /*!40001 SQL_NO_CACHE */ * FROM `t` WHERE a = 1 /*!50000 AND b = 'x' */
----
SELECT /*+ MAX_EXECUTION_TIME(1000) */ id FROM t WHERE name = _utf8mb4'Zoë 😀' COLLATE utf8mb4_bin AND n = N'ü'
----
SELECT 1 -- a comment with 'quotes'
, 2 --x
, 3 # hash comment 'q'
FROM dual
----
SELECT a, COUNT(*) AS n FROM t WHERE b IN (1, 2, 3) AND c <> -1 GROUP BY 1 HAVING n > 5 ORDER BY 2 DESC LIMIT 10, 20
----
SELECT DATE_ADD(created, INTERVAL 7 DAY), created - INTERVAL '1:30' HOUR_MINUTE, DATE '2024-01-01', TIMESTAMP '2024-01-01 10:00:00' FROM t
----
SELECT CAST(price AS DECIMAL(10,2)), CONVERT(name USING utf8mb4), CAST('42' AS SIGNED), NOW(6) FROM t
----
SELECT doc->'$.name', doc->>'$.tags[0]', JSON_EXTRACT(doc, '$.a') FROM docs WHERE doc->'$.id' = 7
----
SELECT name 'alias1', name AS 'alias2', 'v' "alias3" FROM t
----
REPLACE INTO kv (k, v) VALUES ('a', 'b')
----
INSERT INTO counters (id, n) VALUES (1, 1) ON DUPLICATE KEY UPDATE n = n + 1
----
SELECT @rank := @rank + 1 AS r, @@session.sql_mode, @`quoted var` FROM t, (SELECT @rank := 0) init
----
SET NAMES 'utf8mb4' COLLATE 'utf8mb4_unicode_ci'
----
SHOW FULL COLUMNS FROM `t` LIKE 'x%'
----
USE shop
----
START TRANSACTION READ ONLY
----
DESCRIBE SELECT * FROM t WHERE id = 3
----
EXPLAIN FORMAT=TREE SELECT * FROM t WHERE id = 3
----
/* key=42 */ DELETE FROM carts WHERE user_id = 42 AND updated < NOW() - INTERVAL 30 DAY
----
SELECT 'con' 'cat' "enated", a DIV 2, a MOD -3 FROM t
----
SELECT * FROM t WHERE MATCH(title) AGAINST ('+go -java' IN BOOLEAN MODE) AND title LIKE 'x\_%' ESCAPE '\\'
----
CREATE TABLE t (id INT(11) NOT NULL AUTO_INCREMENT, name VARCHAR(255) DEFAULT 'n/a', PRIMARY KEY (id)) ENGINE=InnoDB

----
INSERT INTO t SET a = 1, b = 'x'
----
INSERT IGNORE INTO t (a) VALUES (1), (2)
----
SELECT a INTO @x FROM t WHERE b = 5 LIMIT 1
----
SELECT IF(a > 1, 'big', 'small'), IFNULL(b, 0), CONCAT('a', b, 'c'), CHAR(65, 66), CONVERT('x', CHAR) FROM t
----
SELECT CAST(x AS CHAR(10) CHARACTER SET utf8mb4), DATE_FORMAT(d, '%Y-%m-%d'), STR_TO_DATE('01,5,2013', '%d,%m,%Y') FROM t
----
SELECT TIMESTAMPADD(MINUTE, 5, d), EXTRACT(YEAR FROM d), INTERVAL 1 DAY + d FROM t
----
SELECT * FROM t WHERE a LIKE BINARY 'x%' AND b REGEXP 'a.*' AND c <=> NULL AND d RLIKE 'q'
----
SELECT j->>'$.a' = 'b', JSON_CONTAINS(j, '1'), JSON_OBJECT('k', 1) FROM t
----
SELECT * FROM t WHERE (a, b) = ROW(1, 2)
----
SELECT 1 FROM dual WHERE 1 = 1
----
SELECT * FROM t WHERE id = 5 LOCK IN SHARE MODE
----
SELECT * FROM t WHERE id = 5 FOR UPDATE SKIP LOCKED
----
SELECT a, SUM(b) OVER (PARTITION BY a ORDER BY c ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) FROM t
----
SELECT SQL_CALC_FOUND_ROWS * FROM t LIMIT 10
----
SELECT HIGH_PRIORITY 1, DISTINCTROW 2
----
UPDATE t SET a = a + 1 WHERE b = 'x' ORDER BY id LIMIT 10
----
DELETE FROM t WHERE a < 5 ORDER BY a LIMIT 5
----
SELECT 'a' LIKE 'b' ESCAPE '!', -(-1), 1 - -1, ~1, !0, 1 AS `x`
----
SELECT _utf8mb4'a' COLLATE utf8mb4_bin, N'x', X'41', 0x41, b'1'
----
SELECT GROUP_CONCAT(DISTINCT a ORDER BY a DESC SEPARATOR ';'), WEIGHT_STRING('x' AS CHAR(3)) FROM t
----
SELECT SUBSTRING('abc' FROM 2 FOR 1), SUBSTRING('abc', 2, 1), TRIM(LEADING 'x' FROM 'xxa'), POSITION('a' IN 'bab')
----
SELECT CONVERT(x USING latin1), CHAR(77 USING utf8mb4), DATE_SUB(NOW(), INTERVAL '1' MONTH) FROM t
----
SELECT * FROM t PARTITION (p0) FORCE INDEX (idx) WHERE a = 1 LIMIT 1 OFFSET 2
----
SELECT 1 UNION SELECT 2 ORDER BY 1 LIMIT 1
----
INSERT INTO t VALUES (1) AS new ON DUPLICATE KEY UPDATE a = new.a + 1
----
SELECT * FROM t WHERE a = -1 AND b = 1e-3 AND c = .5 AND d = -.5e+2
----
SELECT CASE WHEN a = 1 THEN 'x' ELSE -1 END, COALESCE(a, 'n/a') FROM t
----
SELECT a FROM t WHERE b IN (SELECT c FROM u WHERE d = 1) AND EXISTS (SELECT 1 FROM v WHERE v.x = t.x)
----
SELECT * FROM t1 JOIN t2 ON t1.a = t2.a AND t2.b = 'x' LEFT JOIN t3 USING (c) WHERE t1.d BETWEEN 1 AND 10
----
SELECT a FROM t GROUP BY a HAVING COUNT(*) > 1 ORDER BY COUNT(*) DESC, 1
----
SELECT NOW() - INTERVAL 1 HOUR, CURDATE(), UNIX_TIMESTAMP('2024-01-01'), FROM_UNIXTIME(1700000000)
----
SELECT * FROM t WHERE a = 1 AND b = "two" AND c = 'three' 'continued'
----
SELECT MATCH(a, b) AGAINST ('x' WITH QUERY EXPANSION) FROM t
----
SELECT ROUND(a, 2), TRUNCATE(b, 1), MOD(c, 3), c % 3, c DIV 3 FROM t
----
SELECT LAST_INSERT_ID(), ROW_COUNT(), FOUND_ROWS(), DATABASE(), USER(), VERSION()
----
VALUES ROW(1, 'a'), ROW(2, 'b')
----
TABLE t ORDER BY a LIMIT 2
----
WITH RECURSIVE cte (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM cte WHERE n < 5) SELECT * FROM cte
