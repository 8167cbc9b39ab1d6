#!/usr/bin/env bash
# Installs the database servers that shardgate's integration tests and
# `shardgate dev` start (topology/localcluster), on Debian/Ubuntu.
#
#   scripts/deps.sh          PostgreSQL server+client, MariaDB server+client,
#                            sysbench (the MySQL proxy's tests run it)
#   scripts/deps.sh bench    the same plus pgbouncer
#
# Idempotent: installs only what is missing, runs `apt-get update` only when
# it has something to install, prints one line per package installed and
# nothing else on success. PG_VERSION (default 15) picks the PostgreSQL major.
# The distribution's own services are kept from starting (and stopped if
# they did): shardgate starts its own servers on free ports.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive
PG_VERSION="${PG_VERSION:-15}"

usage() { echo "usage: $0 [bench]" >&2; exit 2; }
bench=0
case "${1:-}" in
  "") ;;
  bench) bench=1 ;;
  *) usage ;;
esac
[ $# -le 1 ] || usage

have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q '^install ok installed$'; }
have_cmd() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/usr/bin/$1" ]; }

# Any installed PostgreSQL major with the three binaries localcluster needs.
have_postgres() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/postgres" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_basebackup" ] && return 0
  done
  return 1
}

missing=()
have_postgres || missing+=("postgresql-$PG_VERSION" "postgresql-client-$PG_VERSION")
{ have_cmd mariadbd && have_cmd mariadb-install-db; } || missing+=(mariadb-server)
have_cmd mariadb || missing+=(mariadb-client)
have_cmd sysbench || missing+=(sysbench)
if [ "$bench" = 1 ]; then
  have_cmd pgbouncer || missing+=(pgbouncer)
fi

[ ${#missing[@]} -gt 0 ] || exit 0

# A binary missing from a package dpkg calls installed (partly removed):
# reinstall rather than install.
reinstall=()
for p in "${missing[@]}"; do
  if have_pkg "$p"; then reinstall=(--reinstall); fi
done

sudo=()
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "deps.sh: must run as root (or with sudo available)" >&2; exit 1; }
  sudo=(sudo -E)
fi

log="$(mktemp -t shardgate-deps.XXXXXX)"
cleanup=("rm -f '$log'")
trap 'for c in "${cleanup[@]}"; do eval "$c"; done' EXIT
fail() { echo "deps.sh: $1 failed; output:" >&2; cat "$log" >&2; exit 1; }

# Stop Debian from starting the packaged services during installation.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee /usr/sbin/policy-rc.d >/dev/null
  "${sudo[@]}" chmod 755 /usr/sbin/policy-rc.d
  cleanup+=("${sudo[*]} rm -f /usr/sbin/policy-rc.d")
fi

"${sudo[@]}" apt-get update -q >"$log" 2>&1 || fail "apt-get update"
"${sudo[@]}" apt-get install -y -q --no-install-recommends ${reinstall[@]+"${reinstall[@]}"} "${missing[@]}" >>"$log" 2>&1 ||
  fail "apt-get install ${missing[*]}"

# In case a service started anyway (no policy-rc.d honoured, systemd).
for svc in postgresql mariadb pgbouncer; do
  "${sudo[@]}" service "$svc" stop >/dev/null 2>&1 || true
done

for p in "${missing[@]}"; do
  echo "installed $p"
done
