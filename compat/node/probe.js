// The probes' shared checks: check runs one named step and reports it,
// eq compares as JSON, done prints the tally and exits with it.
let fails = 0;

async function check(name, fn) {
  try {
    await fn();
    console.log('ok  ', name);
  } catch (e) {
    fails++;
    const code = e.code || e.errno || (e.parent && (e.parent.code || e.parent.errno)) || '';
    console.log('FAIL', name, '-', e.message, code);
    if (process.env.V && e.sql) console.log(e.sql);
  }
}

function eq(a, b, what) {
  if (JSON.stringify(a) !== JSON.stringify(b)) throw new Error(`${what}: got ${JSON.stringify(a)}, want ${JSON.stringify(b)}`);
}

function done() {
  console.log(fails ? `${fails} FAILED` : 'all ok');
  process.exit(fails ? 1 : 0);
}

module.exports = { check, eq, done };
