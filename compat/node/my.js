// mysql2 probe through shardgate (MySQL on 6033).
const mysql = require('mysql2/promise');
const cfg = { host: '127.0.0.1', port: +(process.env.PORT || 6033), user: process.env.MYUSER || 'app', password: process.env.MYPASS || 'app-secret', database: 'shop' };
const { check, eq, done } = require('./probe');

(async () => {
  const c = await mysql.createConnection({ ...cfg, multipleStatements: true, supportBigNumbers: true, bigNumberStrings: true, dateStrings: true });
  await check('ddl', async () => {
    await c.query('DROP TABLE IF EXISTS payments');
    await c.query('DROP TABLE IF EXISTS accounts');
    await c.query('DROP TABLE IF EXISTS currencies');
    await c.query('DROP TABLE IF EXISTS notes');
    await c.query(`CREATE TABLE accounts (id BIGINT PRIMARY KEY, name VARCHAR(64) NOT NULL, balance DECIMAL(12,2) DEFAULT 0, meta JSON, created DATETIME(3) DEFAULT CURRENT_TIMESTAMP(3), avatar BLOB)`);
    await c.query(`CREATE TABLE payments (id BIGINT AUTO_INCREMENT, account_id BIGINT NOT NULL, amount DECIMAL(12,2), note TEXT, PRIMARY KEY (id, account_id))`);
    await c.query(`CREATE TABLE currencies (code VARCHAR(3) PRIMARY KEY, rate DOUBLE)`);
    await c.query(`CREATE TABLE notes (id INT AUTO_INCREMENT PRIMARY KEY, body TEXT)`);
  });
  await check('insert with execute (binary prepared)', async () => {
    for (let i = 1; i <= 20; i++) {
      const [r] = await c.execute('INSERT INTO accounts (id, name, balance, meta, avatar) VALUES (?, ?, ?, ?, ?)', [i, 'a' + i, (i * 10.5).toFixed(2), JSON.stringify({ n: i }), Buffer.from([0, 1, 2, i])]);
      eq(r.affectedRows, 1, 'affected');
    }
  });
  await check('insert with query (client-side interpolation), multi-row reference', async () => {
    const [r] = await c.query('INSERT INTO currencies VALUES ?', [[['EUR', 1.1], ['USD', 1.0], ['JPY', 0.0067]]]);
    eq(r.affectedRows, 3, 'affected');
  });
  await check('point select execute', async () => {
    const [rows] = await c.execute('SELECT id, name, balance, meta, avatar FROM accounts WHERE id = ?', [7]);
    eq(rows[0].name, 'a7', 'name');
    eq(rows[0].balance, '73.50', 'balance');
    // MariaDB JSON arrives as a string through the proxy (README: Limits).
    eq(typeof rows[0].meta === 'string' ? JSON.parse(rows[0].meta) : rows[0].meta, { n: 7 }, 'meta');
    eq([...rows[0].avatar], [0, 1, 2, 7], 'avatar');
  });
  await check('point select query', async () => {
    const [rows] = await c.query('SELECT id, name FROM accounts WHERE id = ?', [8]);
    eq(rows, [{ id: '8', name: 'a8' }], 'rows');
  });
  await check('scatter order by limit (execute)', async () => {
    const [rows] = await c.execute('SELECT id FROM accounts ORDER BY balance DESC LIMIT 5 OFFSET 2');
    eq(rows.map(r => r.id), ['18', '17', '16', '15', '14'], 'ids');
  });
  await check('scatter aggregates', async () => {
    const [rows] = await c.query('SELECT COUNT(*) AS n, SUM(balance) AS s, MIN(name) AS mn, MAX(id) AS mx FROM accounts');
    eq(rows[0], { n: '20', s: '2205.00', mn: 'a1', mx: '20' }, 'aggs');
  });
  await check('scatter aggregates execute', async () => {
    const [rows] = await c.execute('SELECT COUNT(*) AS n, AVG(balance) AS a FROM accounts WHERE id > ?', [10]);
    eq(rows[0].n, '10', 'n');
    if (Math.abs(parseFloat(rows[0].a) - 162.75) > 0.001) throw new Error('avg ' + rows[0].a);
  });
  await check('group by', async () => {
    const [rows] = await c.query('SELECT id % 3 AS m, COUNT(*) AS n FROM accounts GROUP BY id % 3 ORDER BY m');
    eq(rows, [{ m: '0', n: '6' }, { m: '1', n: '7' }, { m: '2', n: '7' }], 'groups');
  });
  await check('rowsAsArray', async () => {
    const [rows] = await c.query({ sql: 'SELECT id, name FROM accounts WHERE id IN (1,2,3) ORDER BY id', rowsAsArray: true });
    eq(rows, [['1', 'a1'], ['2', 'a2'], ['3', 'a3']], 'rows');
  });
  await check('transaction commit', async () => {
    await c.beginTransaction();
    await c.execute('UPDATE accounts SET balance = balance - 5 WHERE id = ?', [3]);
    const [r] = await c.execute('INSERT INTO payments (account_id, amount, note) VALUES (?, ?, ?)', [3, '5.00', 'tx']);
    if (!(r.insertId > 0)) throw new Error('insertId ' + r.insertId);
    await c.commit();
    const [rows] = await c.execute('SELECT balance FROM accounts WHERE id = 3');
    eq(rows[0].balance, '26.50', 'balance');
  });
  await check('transaction rollback', async () => {
    await c.beginTransaction();
    await c.execute('UPDATE accounts SET name = ? WHERE id = ?', ['zzz', 4]);
    await c.rollback();
    const [rows] = await c.execute('SELECT name FROM accounts WHERE id = 4');
    eq(rows[0].name, 'a4', 'name');
  });
  await check('errors pass through', async () => {
    try { await c.execute('SELECT nosuch FROM accounts WHERE id = ?', [1]); throw new Error('no error'); } catch (e) { if (e.errno !== 1054) throw e; }
    try { await c.execute('INSERT INTO accounts (id, name) VALUES (?, ?)', [1, 'dup']); throw new Error('no error'); } catch (e) { if (e.errno !== 1062) throw e; }
    const [rows] = await c.query('SELECT 1 AS one');
    eq(String(rows[0].one), '1', 'one');
  });
  await check('multiple statements', async () => {
    const [res] = await c.query("SELECT 1 AS a; SELECT name FROM accounts WHERE id = 2; UPDATE accounts SET name = 'a2' WHERE id = 2");
    eq(res.length, 3, 'results');
    eq(res[1][0].name, 'a2', 'name');
    eq(res[2].affectedRows, 1, 'affected');
  });
  await check('unsharded auto_increment insertId', async () => {
    const [r] = await c.execute('INSERT INTO notes (body) VALUES (?)', ['n1']);
    if (!(r.insertId >= 1)) throw new Error('insertId ' + r.insertId);
    const [rows] = await c.query('SELECT LAST_INSERT_ID() AS id');
    eq(String(rows[0].id), String(r.insertId), 'last_insert_id');
  });
  await check('scatter update counts', async () => {
    const [r] = await c.execute('UPDATE accounts SET note_count = 0 WHERE 1 = 0').catch(e => [{ affectedRows: e.errno }]);
    const [u] = await c.execute('UPDATE accounts SET meta = JSON_SET(meta, "$.t", true) WHERE balance > ?', ['100']);
    eq(u.affectedRows, 11, 'updated');
  });
  await check('IN list execute across shards', async () => {
    const [rows] = await c.execute('SELECT id FROM accounts WHERE id IN (?, ?, ?) ORDER BY id', [2, 9, 15]);
    eq(rows.map(r => r.id), ['2', '9', '15'], 'ids');
  });
  await check('date strings', async () => {
    const [rows] = await c.execute('SELECT created FROM accounts WHERE id = ?', [1]);
    if (!/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$/.test(rows[0].created)) throw new Error('created ' + rows[0].created);
  });
  await check('pool concurrency and prepared cache', async () => {
    const p = mysql.createPool({ ...cfg, connectionLimit: 10 });
    const jobs = [];
    for (let i = 0; i < 300; i++) jobs.push(p.execute('SELECT name FROM accounts WHERE id = ?', [i % 20 + 1]).then(([rows]) => eq(rows[0].name, 'a' + (i % 20 + 1), 'name')));
    await Promise.all(jobs);
    const tx = async (k) => { const cl = await p.getConnection(); try { await cl.beginTransaction(); await cl.execute('UPDATE accounts SET balance = balance + 1 WHERE id = ?', [k]); await cl.commit(); } finally { cl.release(); } };
    await Promise.all([1, 2, 3, 4, 5, 6, 7, 8].map(tx));
    await p.end();
  });
  await check('unprepare and re-execute', async () => {
    await c.execute('SELECT name FROM accounts WHERE id = ?', [5]);
    c.unprepare('SELECT name FROM accounts WHERE id = ?');
    const [rows] = await c.execute('SELECT name FROM accounts WHERE id = ?', [5]);
    eq(rows[0].name, 'a5', 'name');
  });
  await check('query timeout', async () => {
    try { await c.query({ sql: 'SELECT SLEEP(3) FROM accounts WHERE id = 1', timeout: 300 }); throw new Error('no timeout'); } catch (e) { if (e.code !== 'PROTOCOL_SEQUENCE_TIMEOUT') throw e; }
  });
  await c.end().catch(() => {});
  const c3 = await mysql.createConnection(cfg);
  await check('new connection after timeout', async () => {
    const [rows] = await c3.query('SELECT name FROM accounts WHERE id = 1');
    eq(rows[0].name, 'a1', 'name');
  });
  await c3.end();
  done();
})().catch(e => { console.error('crash', e); process.exit(2); });
