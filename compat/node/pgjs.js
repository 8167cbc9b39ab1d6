// postgres.js probe (pipelined extended protocol, named statements).
const postgres = require('postgres');
const url = process.env.URL || 'postgres://app:app-secret@127.0.0.1:6432/shop';
const { check, eq, done } = require('./probe');

(async () => {
  const sql = postgres(url, { max: 4, prepare: process.env.NOPREP ? false : true, onnotice: () => {} });
  await check('setup', async () => {
    await sql`DROP TABLE IF EXISTS payments`;
    await sql`DROP TABLE IF EXISTS accounts`;
    await sql`CREATE TABLE accounts (id bigint PRIMARY KEY, name text, balance numeric(12,2), tags int[], meta json, created timestamptz DEFAULT now())`;
    await sql`CREATE TABLE payments (id bigserial, account_id bigint NOT NULL, amount numeric(12,2), PRIMARY KEY (account_id, id))`;
  });
  await check('insert helper (multi-row across shards)', async () => {
    const rows = Array.from({ length: 20 }, (_, i) => ({ id: i + 1, name: 'a' + (i + 1), balance: (i + 1) * 10.5, tags: [i, i + 1], meta: { n: i + 1 } }));
    const r = await sql`INSERT INTO accounts ${sql(rows, 'id', 'name', 'balance', 'tags', 'meta')} RETURNING id`;
    eq(r.length, 20, 'returned');
  });
  await check('point select', async () => {
    const [a] = await sql`SELECT id, name, balance, tags, meta FROM accounts WHERE id = ${7}`;
    eq(a, { id: '7', name: 'a7', balance: '73.50', tags: [6, 7], meta: { n: 7 } }, 'row');
  });
  await check('pipelined concurrent point selects', async () => {
    const rs = await Promise.all(Array.from({ length: 200 }, (_, i) => sql`SELECT name FROM accounts WHERE id = ${i % 20 + 1}`));
    rs.forEach((r, i) => eq(r[0].name, 'a' + (i % 20 + 1), 'name'));
  });
  await check('scatter order/limit', async () => {
    const r = await sql`SELECT id FROM accounts ORDER BY balance DESC LIMIT ${5}`;
    eq(r.map(x => x.id), ['20', '19', '18', '17', '16'], 'ids');
  });
  await check('scatter count', async () => {
    const [r] = await sql`SELECT count(*)::int AS n, sum(balance) AS s FROM accounts WHERE balance > ${50}`;
    eq(r, { n: 16, s: '2100.00' }, 'agg');
  });
  await check('in list helper', async () => {
    const r = await sql`SELECT id FROM accounts WHERE id IN ${sql([2, 9, 15])} ORDER BY id`;
    eq(r.map(x => x.id), ['2', '9', '15'], 'ids');
  });
  await check('sql.begin transaction', async () => {
    await sql.begin(async tx => {
      await tx`UPDATE accounts SET balance = balance - 5 WHERE id = ${3}`;
      await tx`INSERT INTO payments (account_id, amount) VALUES (${3}, ${5})`;
    });
    const [r] = await sql`SELECT balance FROM accounts WHERE id = ${3}`;
    eq(r.balance, '26.50', 'balance');
  });
  await check('sql.begin rollback by throw', async () => {
    try {
      await sql.begin(async tx => {
        await tx`UPDATE accounts SET name = 'zzz' WHERE id = ${4}`;
        throw new Error('boom');
      });
    } catch (e) { if (e.message !== 'boom') throw e; }
    const [r] = await sql`SELECT name FROM accounts WHERE id = ${4}`;
    eq(r.name, 'a4', 'name');
  });
  await check('savepoint', async () => {
    await sql.begin(async tx => {
      await tx`UPDATE accounts SET name = 'b5' WHERE id = ${5}`;
      try { await tx.savepoint(async sp => { await sp`UPDATE accounts SET name = 'c5' WHERE id = ${5}`; throw new Error('sp'); }); } catch (e) { if (e.message !== 'sp') throw e; }
    });
    const [r] = await sql`SELECT name FROM accounts WHERE id = ${5}`;
    eq(r.name, 'b5', 'name');
  });
  await check('error then continue', async () => {
    try { await sql`SELECT nosuch FROM accounts WHERE id = ${1}`; throw new Error('no error'); } catch (e) { if (e.code !== '42703') throw e; }
    const [r] = await sql`SELECT name FROM accounts WHERE id = ${1}`;
    eq(r.name, 'a1', 'name');
  });
  await check('unsafe simple multi-statement', async () => {
    const r = await sql.unsafe("SELECT 1 AS a; SELECT name FROM accounts WHERE id = 2");
    eq(r[1][0].name, 'a2', 'name');
  });
  await check('cursor', async () => {
    let n = 0;
    await sql`SELECT id FROM accounts WHERE id = ${6}`.cursor(1, rows => { n += rows.length; });
    eq(n, 1, 'rows');
  });
  await check('forEach scatter', async () => {
    let n = 0;
    await sql`SELECT id FROM accounts`.forEach(() => { n++; });
    eq(n, 20, 'rows');
  });
  await check('describe', async () => {
    const d = await sql`SELECT name FROM accounts WHERE id = ${1}`.describe();
    eq(d.types.length, 1, 'param types');
  });
  await sql.end();
  done();
})().catch(e => { console.error('crash', e); process.exit(2); });
