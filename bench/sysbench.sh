#!/usr/bin/env bash
# sysbench oltp_point_select through shardgate's MySQL proxy vs straight to
# one MariaDB server, in one run on one machine, reported as ratios.
#
#   bench/sysbench.sh [SECONDS] [THREADS] [ROUNDS] [TABLE_SIZE]
#                     (defaults: 10 s, 16 threads, 3 rounds, 100000 rows)
#   PROFILE=cpu.pprof bench/sysbench.sh ...   also saves a CPU profile of
#                     the proxy during the first proxied run
#
# `shardgate dev -only mysql -replicas 0` starts two MariaDB shards and the
# proxy in front of them. sbtest1 is added to the topology as sharded by id
# (dev reloads the file) and prepared through the proxy (--auto_inc=off:
# sysbench sends the ids, the proxy splits its multi-row INSERTs per shard).
# The direct baseline is one shard primary holding a full copy of sbtest1 in
# its own database: what one server does on this machine. Each round runs
# direct, both relays, then shardgate (the machine is noisy: rounds interleave); prepared
# statements are on (--db-ps-mode=auto). Printed: QPS per round, medians,
# the ratio shardgate/direct (target >= 0.6) and the proxy's CPU per query
# (utime+stime of the shardgate process from /proc, per query it served).
# Everything runs on this host: the proxy, both servers and sysbench share
# its cores, so the ratio is a floor, not what a separate proxy host gives.
# Each round also runs through bench/relay, a TCP relay that does no work,
# in front of the same server as the direct run: relay/direct is what one
# more process in the path costs here, the ceiling for any proxy on this
# host; shardgate/relay is what shardgate's own work costs on top of it.
# "relay" copies with two goroutines per connection (Go's network path, as
# shardgate uses it); "evrelay" is one thread with an epoll loop over raw
# sockets: the cheapest any Go process in the path gets.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
threads=${2:-16}
rounds=${3:-3}
size=${4:-100000}
bash scripts/deps.sh
go build -o bin/shardgate ./cmd/shardgate
go build -o bin/relay ./bench/relay
work=$(mktemp -d)
pids=()
cleanup() {
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

./bin/shardgate dev -only mysql -shards 2 -replicas 0 -mysql-listen "127.0.0.1:$proxy_port" \
  -admin "127.0.0.1:$(free_port)" ${PROFILE:+-pprof} -config-out "$work/topology.yaml" >"$work/dev.log" 2>&1 &
dev=$!
pids+=("$dev")
for _ in $(seq 1 600); do grep -q "Ctrl-C stops" "$work/dev.log" 2>/dev/null && break; sleep 0.1; done
grep -q "Ctrl-C stops" "$work/dev.log" || { cat "$work/dev.log"; exit 1; }
grep -q "serving MySQL on" "$work/dev.log" || { echo "shardgate dev does not serve MySQL:"; cat "$work/dev.log"; exit 1; }
admin=$(awk '/^admin:/{print $2; exit}' "$work/topology.yaml")
primary=$(awk '/keyrange: "-80"/{getline; print $2; exit}' "$work/topology.yaml")
other=$(awk '/keyrange: 80-/{getline; print $2; exit}' "$work/topology.yaml")
user=$(awk '/^    backend:/{getline; print $2; exit}' "$work/topology.yaml")
password=$(awk '/^    backend:/{getline; getline; print $2; exit}' "$work/topology.yaml")

# Shard sbtest1 by id; dev notices the change (file watch) and reloads.
sed -i 's/^    tables:$/    tables:\n      sbtest1:\n        key: id\n        type: int/' "$work/topology.yaml"
sum=$(sha256sum "$work/topology.yaml" | cut -d' ' -f1)
for _ in $(seq 1 100); do curl -fs "http://$admin/topology" | grep -q "$sum" && break; sleep 0.1; done
curl -fs "http://$admin/topology" | grep -q "$sum" || { echo "the topology with sbtest1 was not loaded"; exit 1; }

mariadb_on() { # ADDR SQL...
  local addr=$1; shift
  mariadb --no-defaults --protocol=tcp --skip-ssl -h "${addr%:*}" -P "${addr#*:}" -u "$user" -p"$password" -N -B -e "$*"
}
common=(--db-driver=mysql --mysql-ssl=off --tables=1 --table-size="$size" --auto_inc=off)
proxy_args=(--mysql-host=127.0.0.1 --mysql-port="$proxy_port" --mysql-user=app --mysql-password=app-secret --mysql-db=shop)
direct_args=(--mysql-host="${primary%:*}" --mysql-port="${primary#*:}" --mysql-user="$user" --mysql-password="$password" --mysql-db=sbdirect)

relay_port=$(free_port)
./bin/relay -listen "127.0.0.1:$relay_port" -target "$primary" 2>"$work/relay.log" &
relay=$!
pids+=("$relay")
relay_args=(--mysql-host=127.0.0.1 --mysql-port="$relay_port" --mysql-user="$user" --mysql-password="$password" --mysql-db=sbdirect)
evrelay_port=$(free_port)
./bin/relay -mode epoll -listen "127.0.0.1:$evrelay_port" -target "$primary" 2>"$work/evrelay.log" &
evrelay=$!
pids+=("$evrelay")
evrelay_args=(--mysql-host=127.0.0.1 --mysql-port="$evrelay_port" --mysql-user="$user" --mysql-password="$password" --mysql-db=sbdirect)

echo "== prepare: $size rows through shardgate (sharded by id), and a full copy on one server"
timeout 600 sysbench oltp_point_select prepare "${common[@]}" "${proxy_args[@]}" >"$work/prepare-proxy.log" 2>&1 ||
  { cat "$work/prepare-proxy.log"; exit 1; }
mariadb_on "$primary" "CREATE DATABASE sbdirect"
timeout 600 sysbench oltp_point_select prepare "${common[@]}" "${direct_args[@]}" >"$work/prepare-direct.log" 2>&1 ||
  { cat "$work/prepare-direct.log"; exit 1; }
n0=$(mariadb_on "$primary" "SELECT COUNT(*) FROM shop.sbtest1")
n1=$(mariadb_on "$other" "SELECT COUNT(*) FROM shop.sbtest1")
echo "rows per shard: $n0 + $n1"
if [ $((n0 + n1)) -ne "$size" ] || [ "$n0" -eq 0 ] || [ "$n1" -eq 0 ]; then
  echo "sbtest1 is not spread over the shards"; exit 1
fi

ticks=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/${1:-$dev}/stat"; }
# run NAME ARGS...: one bounded sysbench run; prints "qps queries errors".
run() {
  local out
  out=$(timeout $((secs * 3 + 60)) sysbench oltp_point_select run "${common[@]}" --threads="$threads" --time="$secs" \
    --db-ps-mode=auto --report-interval=0 "$@" 2>&1) || true
  echo "$out" | awk '/queries:/ && /per sec/ {q=$2; gsub(/\(/, "", $3); r=$3} /ignored errors:/ {e=$3}
    END {if (q == "") print "0 0 -1"; else print r, q, (e == "" ? 0 : e)}'
}
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "== warm-up (not counted)"
secs_saved=$secs; secs=3
run "${direct_args[@]}" >/dev/null
run "${relay_args[@]}" >/dev/null
run "${evrelay_args[@]}" >/dev/null
run "${proxy_args[@]}" >/dev/null
secs=$secs_saved

echo "== oltp_point_select, $secs s per run, $threads threads, prepared statements, queries per second"
d=(); l=(); e=(); p=(); c=(); lc=(); ec=()
us_per() { echo "if ($3 > 0) ($2 - $1) * 1000000 / $ticks / $3 else 0" | bc -l; } # BEFORE AFTER QUERIES
for r in $(seq 1 "$rounds"); do
  read -r dq _ de < <(run "${direct_args[@]}")
  before=$(cpu_ticks "$relay")
  read -r lq ln le < <(run "${relay_args[@]}")
  relay_us=$(us_per "$before" "$(cpu_ticks "$relay")" "$ln")
  before=$(cpu_ticks "$evrelay")
  read -r eq en ee < <(run "${evrelay_args[@]}")
  evrelay_us=$(us_per "$before" "$(cpu_ticks "$evrelay")" "$en")
  before=$(cpu_ticks)
  if [ -n "${PROFILE:-}" ] && [ "$r" = 1 ]; then # PROFILE=FILE: a CPU profile of the first proxied run
    curl -fs "http://$admin/debug/pprof/profile?seconds=$((secs > 2 ? secs - 1 : 1))" -o "$PROFILE" &
  fi
  read -r pq pn pe < <(run "${proxy_args[@]}")
  cpu_us=$(us_per "$before" "$(cpu_ticks)" "$pn")
  printf 'round %d: direct %7.0f  relay %7.0f  evrelay %7.0f  shardgate %7.0f  shardgate/direct %.2f  relay/direct %.2f  evrelay/direct %.2f  CPU us/query: relay %.1f evrelay %.1f shardgate %.1f  (errors: %s %s %s %s)\n' \
    "$r" "$dq" "$lq" "$eq" "$pq" "$(echo "if ($dq > 0) $pq / $dq else 0" | bc -l)" "$(echo "if ($dq > 0) $lq / $dq else 0" | bc -l)" \
    "$(echo "if ($dq > 0) $eq / $dq else 0" | bc -l)" "$relay_us" "$evrelay_us" "$cpu_us" "$de" "$le" "$ee" "$pe"
  d+=("$dq"); l+=("$lq"); e+=("$eq"); p+=("$pq"); c+=("$cpu_us"); lc+=("$relay_us"); ec+=("$evrelay_us")
done
dm=$(printf '%s\n' "${d[@]}" | median)
lm=$(printf '%s\n' "${l[@]}" | median)
em=$(printf '%s\n' "${e[@]}" | median)
ecm=$(printf '%s\n' "${ec[@]}" | median)
pm=$(printf '%s\n' "${p[@]}" | median)
cm=$(printf '%s\n' "${c[@]}" | median)
lcm=$(printf '%s\n' "${lc[@]}" | median)
printf 'median:  direct %7.0f  relay %7.0f  evrelay %7.0f  shardgate %7.0f  shardgate/direct %.2f (target >= 0.60)  relay/direct %.2f  evrelay/direct %.2f  shardgate/relay %.2f\n' \
  "$dm" "$lm" "$em" "$pm" "$(echo "if ($dm > 0) $pm / $dm else 0" | bc -l)" "$(echo "if ($dm > 0) $lm / $dm else 0" | bc -l)" \
  "$(echo "if ($dm > 0) $em / $dm else 0" | bc -l)" \
  "$(echo "if ($lm > 0) $pm / $lm else 0" | bc -l)"
printf '         CPU us/query: relay %.1f  evrelay %.1f  shardgate %.1f  (%d rounds)\n' "$lcm" "$ecm" "$cm" "$rounds"
