<?php
// PDO probe: php probe.php pgsql|mysql [emulate]
$driver = $argv[1] ?? 'pgsql';
$emulate = ($argv[2] ?? '') === 'emulate';
$dsn = $driver === 'pgsql' ? 'pgsql:host=127.0.0.1;port=6432;dbname=shop' : 'mysql:host=127.0.0.1;port=6033;dbname=shop';
$fails = 0;
function check($name, $fn) {
    global $fails;
    try { $fn(); echo "ok   $name\n"; }
    catch (Throwable $e) { $fails++; echo "FAIL $name - " . get_class($e) . ": " . substr($e->getMessage(), 0, 300) . "\n"; }
}
function eq($a, $b, $what) { if ($a != $b) throw new Exception("$what: got " . var_export($a, true) . ", want " . var_export($b, true)); }
$db = new PDO($dsn, 'app', 'app-secret', [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION, PDO::ATTR_EMULATE_PREPARES => $emulate]);
check('ddl', function () use ($db) {
    $db->exec('DROP TABLE IF EXISTS payments');
    $db->exec('DROP TABLE IF EXISTS accounts');
    $db->exec('CREATE TABLE accounts (id BIGINT PRIMARY KEY, name VARCHAR(32), balance DECIMAL(12,2))');
    $db->exec('CREATE TABLE payments (id BIGINT NOT NULL, account_id BIGINT NOT NULL, amount DECIMAL(12,2), PRIMARY KEY (account_id, id))');
});
check('prepared insert across shards (int binding)', function () use ($db) {
    $st = $db->prepare('INSERT INTO accounts (id, name, balance) VALUES (?, ?, ?)');
    for ($i = 1; $i <= 20; $i++) { $st->bindValue(1, $i, PDO::PARAM_INT); $st->bindValue(2, "a$i"); $st->bindValue(3, $i * 10); $st->execute(); }
    eq($db->query('SELECT COUNT(*) FROM accounts')->fetchColumn(), 20, 'count');
});
check('prepared point select, string-bound key', function () use ($db) {
    $st = $db->prepare('SELECT name FROM accounts WHERE id = :id');
    for ($i = 1; $i <= 6; $i++) { $st->execute([':id' => (string)$i]); eq($st->fetchColumn(), "a$i", 'name'); }
});
check('scatter order by limit', function () use ($db) {
    $st = $db->prepare('SELECT id FROM accounts WHERE balance > ? ORDER BY balance DESC LIMIT 3');
    $st->execute([100]);
    eq(array_map('intval', $st->fetchAll(PDO::FETCH_COLUMN)), [20, 19, 18], 'ids');
});
check('group by having', function () use ($db) {
    $rows = $db->query('SELECT id % 2 AS m, COUNT(*) AS n FROM accounts GROUP BY id % 2 HAVING COUNT(*) > 5 ORDER BY m')->fetchAll();
    eq(count($rows), 2, 'groups');
});
check('transaction', function () use ($db) {
    $db->beginTransaction();
    $db->prepare('UPDATE accounts SET balance = balance - 5 WHERE id = ?')->execute([3]);
    $db->prepare('INSERT INTO payments (id, account_id, amount) VALUES (?, ?, ?)')->execute([1, 3, 5]);
    $db->commit();
    eq((float)$db->query('SELECT balance FROM accounts WHERE id = 3')->fetchColumn(), 25.0, 'balance');
});
check('rollback', function () use ($db) {
    $db->beginTransaction();
    $db->prepare('UPDATE accounts SET name = ? WHERE id = ?')->execute(['zz', 4]);
    $db->rollBack();
    eq($db->query('SELECT name FROM accounts WHERE id = 4')->fetchColumn(), 'a4', 'name');
});
check('error then reuse', function () use ($db) {
    try { $db->query('SELECT nosuch FROM accounts WHERE id = 1'); throw new Exception('no error'); } catch (PDOException $e) {}
    eq($db->query('SELECT name FROM accounts WHERE id = 1')->fetchColumn(), 'a1', 'name');
});
check('many prepared statements closed and reopened', function () use ($db) {
    for ($i = 1; $i <= 50; $i++) { $st = $db->prepare("SELECT name FROM accounts WHERE id = ? AND $i = $i"); $st->execute([($i % 20) + 1]); $st->fetchAll(); $st = null; }
});
echo $fails ? "$fails FAILED\n" : "all ok\n";
exit($fails ? 1 : 0);
