// knex probe: migrations (lock table, transactions), query builder. DIALECT=pg|mysql2
const knexLib = require('knex');
const fs = require('fs');
const path = require('path');
const dialect = process.env.DIALECT || 'pg';
const conn = dialect === 'pg'
  ? { host: '127.0.0.1', port: 6432, user: 'app', password: 'app-secret', database: 'shop' }
  : { host: '127.0.0.1', port: 6033, user: 'app', password: 'app-secret', database: 'shop' };
const dir = fs.mkdtempSync('/tmp/knexmig-');
fs.writeFileSync(path.join(dir, '001_accounts.js'), `
exports.up = async (knex) => {
  await knex.schema.dropTableIfExists('payments');
  await knex.schema.dropTableIfExists('accounts');
  await knex.schema.createTable('accounts', (t) => { t.bigInteger('id').primary(); t.string('name'); t.decimal('balance', 12, 2).defaultTo(0); t.timestamps(true, true); });
  await knex.schema.createTable('payments', (t) => { t.bigIncrements('id').primary(); t.bigInteger('account_id').notNullable(); t.decimal('amount', 12, 2); });
};
exports.down = async (knex) => { await knex.schema.dropTable('payments'); await knex.schema.dropTable('accounts'); };
`);
fs.writeFileSync(path.join(dir, '002_index.js'), `
exports.up = (knex) => knex.schema.alterTable('accounts', (t) => { t.index(['name']); });
exports.down = (knex) => knex.schema.alterTable('accounts', (t) => { t.dropIndex(['name']); });
`);
const knex = knexLib({ client: dialect, connection: conn, pool: { min: 0, max: 4 }, migrations: { directory: dir, tableName: 'knex_migrations' } });
const { check, eq, done } = require('./probe');
(async () => {
  await check('reset migrations tables', async () => { await knex.schema.dropTableIfExists('knex_migrations'); await knex.schema.dropTableIfExists('knex_migrations_lock'); });
  await check('migrate.latest', async () => { const [batch, log] = await knex.migrate.latest(); eq(log.length, 2, 'migrations run'); });
  await check('migrate.latest again: nothing', async () => { const [, log] = await knex.migrate.latest(); eq(log.length, 0, 'migrations run'); });
  await check('insert across shards', async () => {
    await knex('accounts').insert(Array.from({ length: 10 }, (_, i) => ({ id: i + 1, name: 'a' + (i + 1), balance: (i + 1) * 10 })));
    const [{ n }] = await knex('accounts').count('* as n');
    eq(Number(n), 10, 'count');
  });
  await check('where/first', async () => { const a = await knex('accounts').where({ id: 4 }).first(); eq(a.name, 'a4', 'name'); });
  await check('whereIn order limit', async () => { const r = await knex('accounts').whereIn('id', [2, 7, 9]).orderBy('id', 'desc').limit(2); eq(r.map(x => Number(x.id)), [9, 7], 'ids'); });
  await check('groupBy having', async () => {
    const r = await knex('accounts').select(knex.raw('id % 2 as m')).count('* as n').groupByRaw('id % 2').havingRaw('count(*) > ?', [4]).orderBy('m');
    eq(r.length, 2, 'groups');
  });
  await check('transaction', async () => {
    await knex.transaction(async (trx) => {
      await trx('accounts').where({ id: 3 }).decrement('balance', 5);
      await trx('payments').insert({ account_id: 3, amount: 5 });
    });
    const a = await knex('accounts').where({ id: 3 }).first();
    eq(Number(a.balance), 25, 'balance');
  });
  await check('upsert onConflict merge', async () => {
    await knex('accounts').insert({ id: 5, name: 'u5', balance: 1 }).onConflict('id').merge();
    eq((await knex('accounts').where({ id: 5 }).first()).name, 'u5', 'name');
  });
  await check('returning (pg) / insert id', async () => {
    const r = await knex('payments').insert({ account_id: 6, amount: 1 }, dialect === 'pg' ? ['id'] : undefined);
    if (!r || !r.length) throw new Error('no id');
  });
  await check('migrate.rollback all', async () => { const [, log] = await knex.migrate.rollback(undefined, true); eq(log.length, 2, 'rolled back'); });
  await knex.destroy();
  done();
})().catch(e => { console.error('crash', e); process.exit(2); });
