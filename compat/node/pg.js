// node-postgres probe through shardgate (PG on 6432).
const { Client, Pool, types } = require('pg');
const url = process.env.URL || 'postgres://app:app-secret@127.0.0.1:6432/shop';
const { check, eq, done } = require('./probe');

(async () => {
  const c = new Client(url);
  await c.connect();
  await check('ddl', async () => {
    await c.query('DROP TABLE IF EXISTS payments');
    await c.query('DROP TABLE IF EXISTS accounts');
    await c.query('DROP TABLE IF EXISTS currencies');
    await c.query('DROP TABLE IF EXISTS notes');
    await c.query(`CREATE TABLE accounts (id bigint PRIMARY KEY, name text NOT NULL, balance numeric(12,2) DEFAULT 0, tags text[], meta jsonb, created timestamptz DEFAULT now(), avatar bytea)`);
    await c.query(`CREATE TABLE payments (id bigserial, account_id bigint NOT NULL, amount numeric(12,2), note text, PRIMARY KEY (account_id, id))`);
    await c.query(`CREATE TABLE currencies (code text PRIMARY KEY, rate double precision)`);
    await c.query(`CREATE TABLE notes (id serial PRIMARY KEY, body text)`);
  });
  await check('insert params (extended, unnamed)', async () => {
    for (let i = 1; i <= 20; i++) {
      const r = await c.query('INSERT INTO accounts (id, name, balance, tags, meta, avatar) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, created', [i, 'a' + i, i * 10.5, ['x', 'y' + i], { n: i, s: 'q"\'' }, Buffer.from([0, 1, 2, i])]);
      eq(r.rows[0].id, String(i), 'returned id');
      if (!(r.rows[0].created instanceof Date)) throw new Error('created not a Date');
    }
  });
  await check('reference insert multi-row', async () => {
    const r = await c.query("INSERT INTO currencies VALUES ('EUR', 1.1), ('USD', 1.0), ('JPY', 0.0067)");
    eq(r.rowCount, 3, 'rowCount');
  });
  await check('point select types', async () => {
    const r = await c.query('SELECT id, name, balance, tags, meta, avatar FROM accounts WHERE id = $1', [7]);
    eq(r.rows[0].tags, ['x', 'y7'], 'tags');
    eq(r.rows[0].meta, { n: 7, s: 'q"\'' }, 'meta');
    eq(r.rows[0].balance, '73.50', 'balance');
    eq([...r.rows[0].avatar], [0, 1, 2, 7], 'avatar');
  });
  await check('scatter order by limit offset', async () => {
    const r = await c.query('SELECT id, name FROM accounts ORDER BY balance DESC LIMIT 5 OFFSET 2');
    eq(r.rows.map(x => x.id), ['18', '17', '16', '15', '14'], 'ids');
  });
  await check('scatter aggregates', async () => {
    const r = await c.query('SELECT count(*)::int AS n, sum(balance) AS s, avg(balance) AS a, min(name) AS mn, max(id) AS mx FROM accounts');
    if (Math.abs(parseFloat(r.rows[0].a) - 110.25) > 1e-9) throw new Error('avg ' + r.rows[0].a);
    delete r.rows[0].a;
    eq(r.rows[0], { n: 20, s: '2205.00', mn: 'a1', mx: '20' }, 'aggs');
  });
  await check('scatter group by having', async () => {
    const r = await c.query('SELECT id % 3 AS m, count(*) AS n FROM accounts GROUP BY id % 3 HAVING count(*) > 6 ORDER BY m');
    eq(r.rows, [{ m: '1', n: '7' }, { m: '2', n: '7' }], 'groups');
  });
  await check('rowMode array', async () => {
    const r = await c.query({ text: 'SELECT id, name FROM accounts WHERE id IN (1, 2, 3) ORDER BY id', rowMode: 'array' });
    eq(r.rows, [['1', 'a1'], ['2', 'a2'], ['3', 'a3']], 'rows');
  });
  await check('named prepared statement reused', async () => {
    for (let i = 1; i <= 5; i++) {
      const r = await c.query({ name: 'get-acct', text: 'SELECT name FROM accounts WHERE id = $1', values: [i] });
      eq(r.rows[0].name, 'a' + i, 'name');
    }
  });
  await check('transaction commit on one shard', async () => {
    await c.query('BEGIN');
    await c.query('UPDATE accounts SET balance = balance - 5 WHERE id = $1', [3]);
    await c.query('INSERT INTO payments (account_id, amount, note) VALUES ($1, $2, $3)', [3, 5, 'tx']);
    await c.query('COMMIT');
    const r = await c.query('SELECT balance FROM accounts WHERE id = 3');
    eq(r.rows[0].balance, '26.50', 'balance');
  });
  await check('transaction rollback', async () => {
    await c.query('BEGIN');
    await c.query('UPDATE accounts SET name = $2 WHERE id = $1', [4, 'zzz']);
    await c.query('ROLLBACK');
    const r = await c.query('SELECT name FROM accounts WHERE id = 4');
    eq(r.rows[0].name, 'a4', 'name');
  });
  await check('error passes through, session usable', async () => {
    try { await c.query('SELECT * FROM accounts WHERE id = $1 AND nosuch = 1', [1]); throw new Error('no error'); }
    catch (e) { if (e.code !== '42703') throw e; }
    try { await c.query('INSERT INTO accounts (id, name) VALUES (1, $1)', ['dup']); throw new Error('no error'); }
    catch (e) { if (e.code !== '23505') throw e; }
    const r = await c.query('SELECT 1 AS one');
    eq(r.rows[0].one, 1, 'one');
  });
  await check('error inside tx aborts it', async () => {
    await c.query('BEGIN');
    await c.query('SELECT name FROM accounts WHERE id = 1');
    try { await c.query('SELECT 1/0 FROM accounts WHERE id = 1'); } catch (e) { if (e.code !== '22012') throw e; }
    try { await c.query('SELECT name FROM accounts WHERE id = 1'); throw new Error('no error'); } catch (e) { if (e.code !== '25P02') throw e; }
    await c.query('ROLLBACK');
  });
  await check('multi-statement simple query', async () => {
    const r = await c.query("SELECT 1 AS a; SELECT name FROM accounts WHERE id = 2; UPDATE accounts SET name = 'a2' WHERE id = 2");
    eq(r.length, 3, 'results');
    eq(r[1].rows[0].name, 'a2', 'name');
    eq(r[2].rowCount, 1, 'update count');
  });
  await check('unsharded serial table', async () => {
    const r = await c.query("INSERT INTO notes (body) VALUES ($1), ($2) RETURNING id", ['n1', 'n2']);
    eq(r.rows.length, 2, 'rows');
    const s = await c.query('SELECT count(*)::int AS n FROM notes');
    eq(s.rows[0].n, 2, 'count');
  });
  await check('scatter update and delete counts', async () => {
    const r = await c.query("UPDATE accounts SET meta = meta || '{\"touched\": true}' WHERE balance > $1", [100]);
    eq(r.rowCount, 11, 'updated');
    const d = await c.query('DELETE FROM payments WHERE amount < $1', [0]);
    eq(d.rowCount, 0, 'deleted');
  });
  await check('join with reference table on a shard', async () => {
    const r = await c.query("SELECT a.name, c.rate FROM accounts a JOIN currencies c ON c.code = 'EUR' WHERE a.id = $1", [5]);
    eq(r.rows, [{ name: 'a5', rate: 1.1 }], 'join');
  });
  await check('IN list across shards with params', async () => {
    const r = await c.query('SELECT id FROM accounts WHERE id = ANY($1) ORDER BY id', [[2, 9, 15]]);
    eq(r.rows.map(x => x.id), ['2', '9', '15'], 'ids');
  });
  await check('pool concurrency', async () => {
    const p = new Pool({ connectionString: url, max: 10 });
    const jobs = [];
    for (let i = 0; i < 200; i++) jobs.push(p.query('SELECT name FROM accounts WHERE id = $1', [i % 20 + 1]).then(r => eq(r.rows[0].name, 'a' + (i % 20 + 1), 'name')));
    await Promise.all(jobs);
    const tx = async (k) => { const cl = await p.connect(); try { await cl.query('BEGIN'); await cl.query('UPDATE accounts SET balance = balance + 1 WHERE id = $1', [k]); await cl.query('COMMIT'); } finally { cl.release(); } };
    await Promise.all([1, 2, 3, 4, 5, 6, 7, 8].map(tx));
    await p.end();
  });
  await check('query_timeout / statement_timeout', async () => {
    await c.query("SET statement_timeout = '200ms'");
    try { await c.query('SELECT pg_sleep(2) FROM accounts WHERE id = 1'); throw new Error('no timeout'); } catch (e) { if (e.code !== '57014') throw e; }
    await c.query('RESET statement_timeout');
  });
  await check('cancel via Client with query_timeout', async () => {
    const c2 = new Client({ connectionString: url, query_timeout: 300 });
    await c2.connect();
    try { await c2.query('SELECT pg_sleep(3)'); throw new Error('no timeout'); } catch (e) { if (!/timeout/i.test(e.message)) throw e; }
    await c2.end().catch(() => {});
  });
  await check('application_name and server_version', async () => {
    const c2 = new Client({ connectionString: url, application_name: 'probe-app' });
    await c2.connect();
    const r = await c2.query('SHOW application_name');
    eq(r.rows[0].application_name, 'probe-app', 'application_name');
    await c2.end();
  });
  await c.end();
  done();
})().catch(e => { console.error('crash', e); process.exit(2); });
