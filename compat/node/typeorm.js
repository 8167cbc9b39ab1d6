// TypeORM 0.3 probe with EntitySchema: DIALECT=postgres|mysql
require('reflect-metadata');
const { DataSource, EntitySchema, MoreThan, In } = require('typeorm');
const dialect = process.env.DIALECT || 'postgres';
const Account = new EntitySchema({
  name: 'Account', tableName: 'accounts',
  columns: {
    id: { type: 'bigint', primary: true },
    name: { type: 'varchar', length: 64 },
    balance: { type: 'decimal', precision: 12, scale: 2, default: 0 },
    createdAt: { type: dialect === 'postgres' ? 'timestamptz' : 'datetime', createDate: true },
  },
  relations: { payments: { type: 'one-to-many', target: 'Payment', inverseSide: 'account' } },
});
const Payment = new EntitySchema({
  name: 'Payment', tableName: 'payments',
  columns: {
    id: { type: 'bigint', primary: true, generated: 'increment' },
    account_id: { type: 'bigint' },
    amount: { type: 'decimal', precision: 12, scale: 2 },
  },
  relations: { account: { type: 'many-to-one', target: 'Account', joinColumn: { name: 'account_id' }, createForeignKeyConstraints: false } },
});
const ds = new DataSource({
  type: dialect, host: '127.0.0.1', port: dialect === 'postgres' ? 6432 : 6033,
  username: 'app', password: 'app-secret', database: 'shop',
  entities: [Account, Payment], synchronize: false, logging: !!process.env.V,
});
const { check, eq, done } = require('./probe');
(async () => {
  await ds.initialize();
  await check('drop and synchronize', async () => {
    await ds.query('DROP TABLE IF EXISTS payments'); await ds.query('DROP TABLE IF EXISTS accounts');
    await ds.synchronize();
  });
  const repo = ds.getRepository('Account');
  const pay = ds.getRepository('Payment');
  await check('insert across shards', async () => {
    await repo.insert(Array.from({ length: 20 }, (_, i) => ({ id: i + 1, name: 'a' + (i + 1), balance: (i + 1) * 10 })));
    eq(await repo.count(), 20, 'count');
  });
  await check('findOneBy / find with order, take, skip', async () => {
    eq((await repo.findOneBy({ id: 7 })).name, 'a7', 'name');
    const r = await repo.find({ where: { balance: MoreThan(100) }, order: { balance: 'DESC' }, take: 3, skip: 1 });
    eq(r.map(x => String(x.id)), ['19', '18', '17'], 'ids');
  });
  await check('findBy In', async () => { eq((await repo.findBy({ id: In([2, 9, 15]) })).length, 3, 'rows'); });
  await check('save update', async () => { const a = await repo.findOneBy({ id: 3 }); a.name = 'x3'; await repo.save(a); eq((await repo.findOneBy({ id: 3 })).name, 'x3', 'name'); });
  await check('transaction', async () => {
    await ds.transaction(async (m) => {
      await m.getRepository('Account').decrement({ id: 4 }, 'balance', 5);
      await m.getRepository('Payment').insert({ account_id: 4, amount: 5 });
    });
    eq(Number((await repo.findOneBy({ id: 4 })).balance), 35, 'balance');
  });
  await check('query builder group by having', async () => {
    const r = await repo.createQueryBuilder('a').select('a.id % 2', 'm').addSelect('COUNT(*)', 'n').groupBy('a.id % 2').having('COUNT(*) > :n', { n: 5 }).orderBy('m').getRawMany();
    eq(r.length, 2, 'groups');
  });
  await check('relations join (one shard)', async () => {
    const a = await repo.findOne({ where: { id: 4 }, relations: { payments: true } });
    eq(a.payments.length, 1, 'payments');
  });
  await check('upsert', async () => { await repo.upsert([{ id: 6, name: 'u6', balance: 1 }], ['id']); eq((await repo.findOneBy({ id: 6 })).name, 'u6', 'name'); });
  await check('delete', async () => { await repo.delete({ id: 20 }); eq(await repo.count(), 19, 'count'); });
  await check('pagination findAndCount', async () => { const [rows, n] = await repo.findAndCount({ order: { id: 'ASC' }, take: 5 }); eq(n, 19, 'count'); eq(rows.length, 5, 'rows'); });
  await ds.destroy();
  done();
})().catch(e => { console.error('crash', e); process.exit(2); });
