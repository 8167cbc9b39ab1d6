#!/usr/bin/env bash
# compat/run.sh: drivers and ORMs of five languages through `shardgate dev`
# (2 shards per protocol): node-postgres, postgres.js, mysql2, Sequelize,
# knex, TypeORM, psycopg 3, asyncpg, PyMySQL, ActiveRecord, PDO, pgjdbc
# and MariaDB Connector/J. Each probe checks answers, not just that
# statements ran. It installs what it needs (Debian packages, npm), so it
# is not part of CI; run it after changing how the proxies speak.
# Exit status: the number of probes that failed.
set -u
cd "$(dirname "$0")/.."
go build -o bin/shardgate ./cmd/shardgate || exit 100

if ! command -v node >/dev/null || ! command -v php >/dev/null || ! command -v ruby >/dev/null ||
  ! /usr/bin/python3 -c 'import psycopg, asyncpg, pymysql' 2>/dev/null || [ ! -f /usr/share/java/postgresql.jar ]; then
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm python3-psycopg python3-asyncpg python3-pymysql \
    ruby-activerecord ruby-pg ruby-mysql2 php-cli php-pgsql php-mysql default-jdk-headless \
    libpostgresql-jdbc-java libmariadb-java >/dev/null || exit 100
fi
(cd compat/node && npm install --no-audit --no-fund --silent >/dev/null 2>&1) || exit 100

work=$(mktemp -d)
dev_pid=
start_dev() { # start_dev single_shard|multi_shard
  [ -n "$dev_pid" ] && kill -INT "$dev_pid" && wait "$dev_pid" 2>/dev/null
  ./bin/shardgate dev -shards 2 -replicas 0 -config-out "$work/topology.yaml" > "$work/dev.log" 2>&1 &
  dev_pid=$!
  for _ in $(seq 1 900); do grep -q "Ctrl-C stops" "$work/dev.log" 2>/dev/null && break; sleep 0.2; done
  # The probes' tables: accounts by id, payments by account_id, currencies everywhere.
  sed -i "s/^    tables:\$/    tables:\n      accounts:\n        key: id\n        type: int\n      payments:\n        key: account_id\n        type: int\n      currencies:\n        reference: true/" "$work/topology.yaml"
  sed -i "s/^    protocol: \(.*\)\$/    protocol: \1\n    transactions: $1/" "$work/topology.yaml"
  sleep 3 # the proxy reloads the edited topology
}
trap '[ -n "$dev_pid" ] && kill -INT "$dev_pid"; rm -rf "$work"' EXIT

failed=0
probe() { # probe NAME COMMAND...
  if out=$("${@:2}" 2>&1); then
    echo "ok    $1"
  else
    failed=$((failed + 1))
    echo "FAIL  $1"
    echo "$out" | grep -v '^ok' | sed 's/^/      /' | head -20
  fi
}
start_dev single_shard
probe "node-postgres" node compat/node/pg.js
probe "postgres.js" node compat/node/pgjs.js
probe "mysql2" node compat/node/my.js
probe "Sequelize postgres" env DIALECT=postgres node compat/node/seq.js
probe "Sequelize mysql" env DIALECT=mysql node compat/node/seq.js
probe "knex mysql2" env DIALECT=mysql2 node compat/node/knex.js
probe "TypeORM mysql" env DIALECT=mysql node compat/node/typeorm.js
probe "psycopg 3, asyncpg, PyMySQL" /usr/bin/python3 compat/python/probe.py
probe "ActiveRecord postgresql" env ADAPTER=postgresql ruby compat/ruby/probe.rb
probe "ActiveRecord mysql2" env ADAPTER=mysql2 ruby compat/ruby/probe.rb
probe "PDO pgsql" php compat/php/probe.php pgsql
probe "PDO pgsql emulated" php compat/php/probe.php pgsql emulate
probe "PDO mysql" php compat/php/probe.php mysql
probe "PDO mysql emulated" php compat/php/probe.php mysql emulate
probe "pgjdbc" java -cp /usr/share/java/postgresql.jar compat/java/Probe.java "jdbc:postgresql://127.0.0.1:6432/shop"
probe "MariaDB Connector/J" java -cp /usr/share/java/mariadb-java-client.jar compat/java/Probe.java "jdbc:mariadb://127.0.0.1:6033/shop"
# PostgreSQL migrations run their DDL in a transaction: every shard in one.
start_dev multi_shard
probe "knex pg (multi_shard)" env DIALECT=pg node compat/node/knex.js
probe "TypeORM postgres (multi_shard)" env DIALECT=postgres node compat/node/typeorm.js
echo "$failed probe(s) failed"
exit "$failed"
