# psycopg 3, asyncpg and PyMySQL through shardgate.
import asyncio, decimal, datetime, json, sys, traceback
fails = 0
def check(name, fn):
    global fails
    try:
        fn(); print("ok  ", name)
    except Exception as e:
        fails += 1; print("FAIL", name, "-", type(e).__name__, e)
def eq(a, b, what):
    if a != b: raise AssertionError(f"{what}: got {a!r}, want {b!r}")

import psycopg
DSN = "host=127.0.0.1 port=6432 user=app password=app-secret dbname=shop"
c = psycopg.connect(DSN, autocommit=True)
def setup():
    c.execute("DROP TABLE IF EXISTS payments"); c.execute("DROP TABLE IF EXISTS accounts")
    c.execute("CREATE TABLE accounts (id bigint PRIMARY KEY, name text, balance numeric(12,2), meta jsonb, created timestamptz DEFAULT now())")
    c.execute("CREATE TABLE payments (id bigserial, account_id bigint NOT NULL, amount numeric(12,2), PRIMARY KEY (account_id, id))")
check("psycopg setup", setup)
def ins():
    with c.cursor() as cur:
        cur.executemany("INSERT INTO accounts (id, name, balance, meta) VALUES (%s, %s, %s, %s)",
                        [(i, f"a{i}", decimal.Decimal(i) * 10, psycopg.types.json.Jsonb({"n": i})) for i in range(1, 21)])
    eq(c.execute("SELECT count(*) FROM accounts").fetchone()[0], 20, "count")
check("psycopg executemany (pipeline) across shards", ins)
def prepared():
    for i in range(1, 11):  # prepare_threshold 5: server-side prepared after 5
        r = c.execute("SELECT name, balance, meta FROM accounts WHERE id = %s", (i,)).fetchone()
        eq(r[0], f"a{i}", "name"); eq(r[1], decimal.Decimal(i * 10).quantize(decimal.Decimal("0.01")), "balance"); eq(r[2], {"n": i}, "meta")
check("psycopg repeated query (auto-prepared)", prepared)
def binary():
    with c.cursor(binary=True) as cur:
        cur.execute("SELECT id, name, balance, created FROM accounts WHERE id = ANY(%s) ORDER BY id", ([3, 9, 14],))
        rows = cur.fetchall()
        eq([r[0] for r in rows], [3, 9, 14], "ids"); 
        if not isinstance(rows[0][3], datetime.datetime): raise AssertionError("created type")
check("psycopg binary cursor scatter", binary)
def tx():
    with psycopg.connect(DSN) as t:
        t.execute("UPDATE accounts SET balance = balance - 5 WHERE id = %s", (3,))
        t.execute("INSERT INTO payments (account_id, amount) VALUES (%s, %s)", (3, 5))
        t.commit()
    eq(c.execute("SELECT balance FROM accounts WHERE id = 3").fetchone()[0], decimal.Decimal("25.00"), "balance")
check("psycopg transaction", tx)
def servercursor():
    with psycopg.connect(DSN) as t:
        with t.cursor(name="big") as cur:
            cur.itersize = 3
            cur.execute("SELECT amount FROM payments WHERE account_id = 5 ORDER BY id")
            eq(len([r[0] for r in cur]), 7, "rows")
def morepay():
    for _ in range(7): c.execute("INSERT INTO payments (account_id, amount) VALUES (5, 1)")
check("psycopg setup payments", morepay)
check("psycopg named (server-side) cursor", servercursor)
def copyin():
    with c.cursor() as cur:
        with cur.copy("COPY payments (account_id, amount) FROM STDIN") as cp:
            for i in range(1, 11): cp.write_row((i, decimal.Decimal("1.50")))
    eq(c.execute("SELECT count(*) FROM payments").fetchone()[0], 18, "count")
check("psycopg COPY FROM rows split", copyin)
def copyout():
    with c.cursor() as cur:
        with cur.copy("COPY (SELECT id FROM accounts WHERE id = 1) TO STDOUT") as cp:
            data = b"".join(bytes(b) for b in cp)
    eq(data, b"1\n", "copy out")
check("psycopg COPY TO", copyout)
def pipeline():
    with c.pipeline():
        c.execute("UPDATE accounts SET name = 'p1' WHERE id = 1")
        c.execute("UPDATE accounts SET name = 'p2' WHERE id = 2")
        cur = c.execute("SELECT name FROM accounts WHERE id = 2")
    eq(cur.fetchone()[0], "p2", "name")
check("psycopg pipeline mode", pipeline)
def having():
    r = c.execute("SELECT id %% 2, count(*) FROM accounts GROUP BY 1 HAVING count(*) > %s ORDER BY 1", (5,)).fetchall()
    eq(r, [(0, 10), (1, 10)], "groups")
check("psycopg scatter having with param", having)
c.close()

import asyncpg
async def apg():
    conn = await asyncpg.connect(host="127.0.0.1", port=6432, user="app", password="app-secret", database="shop")
    async def t(name, coro):
        global fails
        try:
            await coro; print("ok  ", name)
        except Exception as e:
            fails += 1; print("FAIL", name, "-", type(e).__name__, e)
    async def point():
        for i in range(1, 6):
            r = await conn.fetchrow("SELECT name, balance FROM accounts WHERE id = $1", i)
            if r is None: raise AssertionError(f"no row {i}")
    await t("asyncpg point reads (prepared, binary)", point())
    async def scatter():
        r = await conn.fetch("SELECT id, balance FROM accounts ORDER BY balance DESC LIMIT $1", 3)
        eq([x["id"] for x in r], [20, 19, 18], "ids")
    await t("asyncpg scatter order limit", scatter())
    async def agg():
        r = await conn.fetchrow("SELECT count(*), sum(balance), avg(balance) FROM accounts WHERE id > $1", 10)
        eq(r[0], 10, "count")
    await t("asyncpg scatter aggregates", agg())
    async def txn():
        async with conn.transaction():
            await conn.execute("UPDATE accounts SET balance = balance + 1 WHERE id = $1", 4)
            await conn.execute("INSERT INTO payments (account_id, amount) VALUES ($1, $2)", 4, decimal.Decimal("1"))
    await t("asyncpg transaction", txn())
    async def cursor():
        async with conn.transaction():
            n = 0
            async for r in conn.cursor("SELECT amount FROM payments WHERE account_id = $1", 5, prefetch=2):
                n += 1
        eq(n, 8, "rows")
    await t("asyncpg cursor with prefetch", cursor())
    async def copyrecords():
        await conn.copy_records_to_table("payments", records=[(i, decimal.Decimal("2")) for i in range(1, 6)], columns=["account_id", "amount"])
    await t("asyncpg copy_records_to_table (binary COPY)", copyrecords())
    async def executemany():
        await conn.executemany("UPDATE accounts SET name = $2 WHERE id = $1", [(i, f"m{i}") for i in range(1, 11)])
        eq(await conn.fetchval("SELECT count(*) FROM accounts WHERE name LIKE 'm%'"), 10, "updated")
    await t("asyncpg executemany", executemany())
    await conn.close()
asyncio.run(apg())

import pymysql
m = pymysql.connect(host="127.0.0.1", port=6033, user="app", password="app-secret", database="shop", autocommit=True)
def my():
    with m.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS accounts")
        cur.execute("CREATE TABLE accounts (id BIGINT PRIMARY KEY, name VARCHAR(32), balance DECIMAL(12,2))")
        cur.executemany("INSERT INTO accounts (id, name, balance) VALUES (%s, %s, %s)", [(i, f"a{i}", i * 10) for i in range(1, 21)])
        cur.execute("SELECT COUNT(*) FROM accounts"); eq(cur.fetchone()[0], 20, "count")
        cur.execute("SELECT name FROM accounts WHERE id = %s", (7,)); eq(cur.fetchone()[0], "a7", "name")
        cur.execute("SELECT id %% 2 AS m, COUNT(*) AS n FROM accounts GROUP BY m HAVING n > %s ORDER BY m", (5,)); eq(len(cur.fetchall()), 2, "groups")
    m.begin()
    with m.cursor() as cur:
        cur.execute("UPDATE accounts SET balance = balance - 1 WHERE id = 3")
    m.commit()
check("pymysql executemany, point, having, tx", my)
m.close()
print(f"{fails} FAILED" if fails else "all ok")
sys.exit(1 if fails else 0)
