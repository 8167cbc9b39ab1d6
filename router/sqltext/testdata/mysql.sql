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
