// Sequelize probe: DIALECT=postgres|mysql
const { Sequelize, DataTypes, Op } = require('sequelize');
const dialect = process.env.DIALECT || 'postgres';
const port = dialect === 'postgres' ? 6432 : 6033;
const sq = new Sequelize('shop', 'app', 'app-secret', { host: '127.0.0.1', port, dialect, logging: process.env.V ? console.log : false, pool: { max: 5 } });
const { check, eq, done } = require('./probe');

const Account = sq.define('Account', {
  id: { type: DataTypes.BIGINT, primaryKey: true },
  name: DataTypes.STRING,
  balance: { type: DataTypes.DECIMAL(12, 2), defaultValue: 0 },
  meta: DataTypes.JSON,
}, { tableName: 'accounts' });
const Payment = sq.define('Payment', {
  id: { type: DataTypes.BIGINT, autoIncrement: true, primaryKey: true },
  account_id: { type: DataTypes.BIGINT, primaryKey: true },
  amount: DataTypes.DECIMAL(12, 2),
}, { tableName: 'payments' });
const Currency = sq.define('Currency', { code: { type: DataTypes.STRING(3), primaryKey: true }, rate: DataTypes.DOUBLE }, { tableName: 'currencies', timestamps: false });

(async () => {
  await check('authenticate', () => sq.authenticate());
  await check('sync force', async () => { await Payment.drop(); await Account.drop(); await Currency.drop(); await sq.sync(); });
  await check('bulkCreate across shards', async () => {
    await Account.bulkCreate(Array.from({ length: 20 }, (_, i) => ({ id: i + 1, name: 'a' + (i + 1), balance: (i + 1) * 10.5, meta: { n: i + 1 } })));
    eq(await Account.count(), 20, 'count');
  });
  await check('reference bulkCreate', async () => { await Currency.bulkCreate([{ code: 'EUR', rate: 1.1 }, { code: 'USD', rate: 1 }]); eq(await Currency.count(), 2, 'count'); });
  await check('findByPk', async () => {
    const a = await Account.findByPk(7); eq(a.name, 'a7', 'name');
    eq(typeof a.meta === 'string' ? JSON.parse(a.meta) : a.meta, { n: 7 }, 'meta'); // MariaDB JSON: a string through the proxy
  });
  await check('findAll where order limit', async () => {
    const rows = await Account.findAll({ where: { balance: { [Op.gt]: 100 } }, order: [['balance', 'DESC']], limit: 3, offset: 1 });
    eq(rows.map(r => String(r.id)), ['19', '18', '17'], 'ids');
  });
  await check('findAndCountAll', async () => {
    const { count, rows } = await Account.findAndCountAll({ where: { id: { [Op.lte]: 10 } }, order: [['id', 'ASC']], limit: 4 });
    eq(count, 10, 'count'); eq(rows.length, 4, 'rows');
  });
  await check('aggregates', async () => {
    eq(Number(await Account.sum('balance')), 2205, 'sum');
    eq(Number(await Account.max('id')), 20, 'max');
  });
  await check('update by pk and instance save', async () => {
    const a = await Account.findByPk(3); a.name = 'x3'; await a.save();
    const [n] = await Account.update({ name: 'a3' }, { where: { id: 3 } });
    eq(n, 1, 'updated');
  });
  await check('managed transaction one shard', async () => {
    await sq.transaction(async (t) => {
      const a = await Account.findByPk(4, { transaction: t, lock: true });
      await a.update({ balance: Number(a.balance) - 5 }, { transaction: t });
      await Payment.create({ account_id: 4, amount: 5 }, { transaction: t });
    });
    eq(await Payment.count({ where: { account_id: 4 } }), 1, 'payments');
  });
  await check('transaction rollback', async () => {
    try { await sq.transaction(async (t) => { await Account.update({ name: 'zz' }, { where: { id: 5 }, transaction: t }); throw new Error('boom'); }); } catch (e) { if (e.message !== 'boom') throw e; }
    eq((await Account.findByPk(5)).name, 'a5', 'name');
  });
  await check('upsert', async () => { await Account.upsert({ id: 6, name: 'u6', balance: 1 }); eq((await Account.findByPk(6)).name, 'u6', 'name'); });
  await check('destroy', async () => { eq(await Account.destroy({ where: { id: 20 } }), 1, 'destroyed'); });
  await check('increment', async () => { await Account.increment('balance', { by: 2, where: { id: 1 } }); eq(Number((await Account.findByPk(1)).balance), 12.5, 'balance'); });
  await check('raw query with replacements', async () => {
    const rows = await sq.query('SELECT name FROM accounts WHERE id = :id', { replacements: { id: 2 }, type: Sequelize.QueryTypes.SELECT });
    eq(rows, [{ name: 'a2' }], 'rows');
  });
  await check('raw query with bind', async () => {
    const ph = dialect === 'postgres' ? '$1' : '$1';
    const rows = await sq.query('SELECT name FROM accounts WHERE id = ' + ph, { bind: [8], type: Sequelize.QueryTypes.SELECT });
    eq(rows, [{ name: 'a8' }], 'rows');
  });
  await check('describeTable', async () => { const d = await sq.getQueryInterface().describeTable('accounts'); if (!d.balance) throw new Error('no balance column'); });
  await sq.close();
  done();
})().catch(e => { console.error('crash', e); process.exit(2); });
