#!/usr/bin/env bash
# RSS of shardgate per idle client connection (target: under 10 kB).
#   bench/idle.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-5000}
ulimit -n $((n * 3 + 1000))
bash scripts/deps.sh
go build -o bin/shardgate ./cmd/shardgate
go build -o bin/idleconns ./bench/idleconns
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
./bin/shardgate dev -only postgres -shards 2 -replicas 0 -postgres-listen "127.0.0.1:$port" -admin "127.0.0.1:$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')" \
  -config-out "$work/topology.yaml" >"$work/dev.log" 2>&1 &
dev=$!
trap 'kill -INT $dev 2>/dev/null; wait $dev 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 600); do grep -q "Ctrl-C stops" "$work/dev.log" 2>/dev/null && break; sleep 0.1; done
./bin/idleconns -dsn "postgres://app:app-secret@127.0.0.1:$port/shop?sslmode=disable" -n "$n" -pid "$dev"
