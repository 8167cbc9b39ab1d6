#!/usr/bin/env bash
# pgbench through shardgate vs straight to PostgreSQL vs through PgBouncer
# (transaction pooling), in one run on one machine, reported as ratios,
# with the CPU time shardgate and PgBouncer spend per transaction.
# The pgbench tables are not listed in the topology, so through shardgate
# they live on the unsharded shard: the same server the other runs use.
# Two more columns go through bench/relay, a TCP relay that does no work:
# what one more process in the path costs on this host. "relay" copies
# with two goroutines per connection, Go's network path as shardgate uses
# it: its CPU per transaction is the floor for a goroutine-per-connection
# Go proxy. "evrelay" is one thread running an epoll loop over raw
# sockets, PgBouncer's shape: the floor for any Go process in the path.
#
#   bench/pgbench.sh [SECONDS] [CLIENTS]      (defaults: 10 s, 16 clients)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
clients=${2:-16}
bash scripts/deps.sh bench
go build -o bin/shardgate ./cmd/shardgate
go build -o bin/relay ./bench/relay
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
work=$(mktemp -d)
pids=()
cleanup() {
  # PgBouncer under runuser: signal it, not runuser (SIGINT would wait for clients).
  [ -n "${bouncer:-}" ] && kill -TERM "$bouncer" 2>/dev/null || true
  # The relay: TERM (a background job of a script starts with SIGINT ignored).
  [ -n "${relay:-}" ] && kill -TERM "$relay" 2>/dev/null || true
  [ -n "${evrelay:-}" ] && kill -TERM "$evrelay" 2>/dev/null || true
  for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
proxy_port=$(free_port)
bouncer_port=$(free_port)
relay_port=$(free_port)
evrelay_port=$(free_port)

./bin/shardgate dev -only postgres -shards 2 -replicas 0 -postgres-listen "127.0.0.1:$proxy_port" -admin "127.0.0.1:$(free_port)" \
  -config-out "$work/topology.yaml" >"$work/dev.log" 2>&1 &
dev=$!
pids+=("$dev")
for _ in $(seq 1 600); do grep -q "Ctrl-C stops" "$work/dev.log" 2>/dev/null && break; sleep 0.1; done
grep -q "Ctrl-C stops" "$work/dev.log" || { cat "$work/dev.log"; exit 1; }
primary=$(awk '/keyrange: "-80"/{getline; print $2; exit}' "$work/topology.yaml")
pg_host=${primary%:*}; pg_port=${primary#*:}

cat >"$work/pgbouncer.ini" <<INI
[databases]
shop = host=$pg_host port=$pg_port dbname=shop user=postgres password=postgres-secret
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $bouncer_port
auth_type = trust
auth_file = $work/userlist.txt
pool_mode = transaction
max_client_conn = 200
default_pool_size = 20
unix_socket_dir =
logfile = $work/pgbouncer.log
INI
echo '"postgres" ""' >"$work/userlist.txt"
chown -R postgres "$work"
runuser -u postgres -- pgbouncer "$work/pgbouncer.ini" >/dev/null 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do "$pgbin/pg_isready" -q -h 127.0.0.1 -p "$bouncer_port" && break; sleep 0.1; done
bouncer=$(pgrep -f "pgbouncer $work/pgbouncer.ini" | tail -1)

./bin/relay -listen "127.0.0.1:$relay_port" -target "$primary" 2>"$work/relay.log" &
relay=$!
pids+=("$relay")
./bin/relay -mode epoll -listen "127.0.0.1:$evrelay_port" -target "$primary" 2>"$work/evrelay.log" &
evrelay=$!
pids+=("$evrelay")

proxy_dsn="postgresql://app:app-secret@127.0.0.1:$proxy_port/shop"
direct_dsn="postgresql://postgres:postgres-secret@$primary/shop"
bouncer_dsn="postgresql://postgres@127.0.0.1:$bouncer_port/shop"
relay_dsn="postgresql://postgres:postgres-secret@127.0.0.1:$relay_port/shop"
evrelay_dsn="postgresql://postgres:postgres-secret@127.0.0.1:$evrelay_port/shop"

echo "== pgbench -i through shardgate (DDL broadcast, COPY, transaction on the unsharded shard)"
"$pgbin/pgbench" -i -q -s 10 "$proxy_dsn" 2>&1 | tail -2

# tps PID ARGS... prints a run's tps (0 when it failed or hung, bounded in
# time) and the CPU time process PID spent per transaction, in us
# (utime+stime from /proc; "-" without a PID).
ticks=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
tps() {
  local pid=$1 out before after n v; shift
  [ "$pid" = - ] || before=$(cpu_ticks "$pid")
  out=$(timeout $((secs * 3 + 30)) "$pgbin/pgbench" "$@" 2>&1) || true
  v=$(awk '/^tps = /{print $3}' <<<"$out"); n=$(awk '/actually processed/{print $NF}' <<<"$out")
  if [ "$pid" = - ] || [ -z "$n" ] || [ "$n" = 0 ]; then echo "${v:-0} -"; return; fi
  after=$(cpu_ticks "$pid")
  echo "${v:-0} $(echo "($after - $before) * 1000000 / $ticks / $n" | bc -l)"
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# run NAME ROUNDS ARGS...: interleaves direct, both relays, PgBouncer and
# shardgate in each round (the machine is noisy), prints the medians and
# the ratios.
run() {
  local name=$1 rounds=$2; shift 2
  local d=() l=() e=() b=() p=() lc=() ec=() bc=() pc=() r
  for _ in $(seq 1 "$rounds"); do
    r=$(tps - "$@" "$direct_dsn"); d+=("${r% *}")
    r=$(tps "$relay" "$@" "$relay_dsn"); l+=("${r% *}"); lc+=("${r#* }")
    r=$(tps "$evrelay" "$@" "$evrelay_dsn"); e+=("${r% *}"); ec+=("${r#* }")
    r=$(tps "$bouncer" "$@" "$bouncer_dsn"); b+=("${r% *}"); bc+=("${r#* }")
    r=$(tps "$dev" "$@" "$proxy_dsn"); p+=("${r% *}"); pc+=("${r#* }")
  done
  local dm lm em bm pm lcm ecm bcm pcm
  dm=$(printf '%s\n' "${d[@]}" | median); lm=$(printf '%s\n' "${l[@]}" | median); em=$(printf '%s\n' "${e[@]}" | median)
  bm=$(printf '%s\n' "${b[@]}" | median); pm=$(printf '%s\n' "${p[@]}" | median)
  lcm=$(printf '%s\n' "${lc[@]}" | median); ecm=$(printf '%s\n' "${ec[@]}" | median); bcm=$(printf '%s\n' "${bc[@]}" | median); pcm=$(printf '%s\n' "${pc[@]}" | median)
  printf '%-27s direct %6.0f  relay %6.0f  evrelay %6.0f  pgbouncer %6.0f  shardgate %6.0f  shardgate/direct %.2f  shardgate/pgbouncer %.2f  CPU us/tx: relay %s evrelay %s pgbouncer %s shardgate %s  (median of %d)\n' \
    "$name" "$dm" "$lm" "$em" "$bm" "$pm" "$(echo "$pm / $dm" | bc -l)" "$(echo "if ($bm > 0) $pm / $bm else 0" | bc -l)" \
    "$(printf '%.1f' "$lcm" 2>/dev/null || echo -)" "$(printf '%.1f' "$ecm" 2>/dev/null || echo -)" "$(printf '%.1f' "$bcm" 2>/dev/null || echo -)" \
    "$(printf '%.1f' "$pcm" 2>/dev/null || echo -)" "$rounds"
}
echo "== $secs s per run, $clients clients, tps (higher is better)"
run "select-only (-S), simple" 3 -S -c "$clients" -j 2 -T "$secs" -n
run "select-only (-S), extended" 1 -S -M extended -c "$clients" -j 2 -T "$secs" -n
# PgBouncer's transaction pooling does not keep -M prepared statements
# (before 1.21 with max_prepared_statements): expect 0 in its column.
run "select-only (-S), prepared" 1 -S -M prepared -c "$clients" -j 2 -T "$secs" -n
run "tpcb-like, simple" 1 -c "$clients" -j 2 -T "$secs" -n
