#!/usr/bin/env bash
# Raw ledger transfers over HTTP: POST /api/v1/ledger/transfers replayed by wrk at concurrency 1
# and 32, on SQLite and PostgreSQL: one transfer between random pairs of 64 wallets, one between
# the same two wallets (every request waits for the same two rows), and batches of 10 linked
# transfers; then the books are checked through the API (bench/ledger_seed.py --check).
#   bench/ledger.sh [seconds per line, default 5] [backends, default "sqlite postgres"]
# BIN=path runs another build of mstation.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DURATION=${1:-5}
BACKENDS=${2:-sqlite postgres}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
BIN=${BIN:-$ROOT/target/release/mstation}
[ -x "$BIN" ] || cargo build --release --locked -p mstation
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }

WORK=$(mktemp -d /tmp/mstation-ledger.XXXXXX); chmod 755 "$WORK"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -d "$WORK/pg" ] && runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$WORK/pg" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

run_wrk() { # name conc requests-file token base transfers-per-request
  local threads=1; [ "$2" -gt 1 ] && threads=2
  local line
  line=$(TOKEN="$4" REQUESTS="$3" wrk -t"$threads" -c"$2" -d"${DURATION}s" --timeout 10s -s "$ROOT/bench/replay.lua" "$5" | grep '^RESULT')
  local rps; rps=$(sed 's/.*rps=\([0-9]*\).*/\1/' <<<"$line")
  printf '%-44s c=%-3s transfers/s=%-6s %s\n' "$1" "$2" "$((rps * $6))" "${line#RESULT }"
}

bench_ledger() { # label database-args...
  local label=$1; shift
  local data="$WORK/data-$label" port; port=$(free_port)
  "$BIN" admin --data "$data" "$@" create-user --email money@m-station.local --name Money --password "benchmark password" >/dev/null
  "$BIN" admin --data "$data" "$@" create-org --name "Bench Pictures" --slug bench --owner-email money@m-station.local >/dev/null
  local token
  token=$("$BIN" admin --data "$data" "$@" create-token --org bench --email money@m-station.local --scopes read,write | python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])')
  MSTATION_LOG=warn "$BIN" serve --data "$data" "$@" --listen "127.0.0.1:$port" >"$WORK/serve-$label.log" 2>&1 &
  local pid=$!; PIDS+=($pid)
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
  local base="http://127.0.0.1:$port" req="$WORK/req-$label"
  mkdir -p "$req"
  python3 "$ROOT/bench/ledger_seed.py" "$base" "$token" "$req"
  for c in 1 32; do
    run_wrk "M-Station $label: one transfer, 64 wallets" "$c" "$req/uncontended.txt" "$token" "$base" 1
    run_wrk "M-Station $label: one transfer, two wallets" "$c" "$req/contended.txt" "$token" "$base" 1
    run_wrk "M-Station $label: a batch of 10" "$c" "$req/batch10.txt" "$token" "$base" 10
  done
  python3 "$ROOT/bench/ledger_seed.py" "$base" "$token" "$req" --check
  kill "$pid"
}

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -r); wrk $(wrk -v 2>&1 | head -1 | awk '{print $2}'); ${DURATION}s per line"
for b in $BACKENDS; do
  if [ "$b" = sqlite ]; then bench_ledger sqlite; fi
  if [ "$b" = postgres ]; then
    mkdir -p "$WORK/pg" "$WORK/pglog"; chown postgres "$WORK/pg" "$WORK/pglog"
    PG_PORT=$(free_port)
    runuser -u postgres -- "$PG_BIN/initdb" -A trust -U postgres -D "$WORK/pg" >/dev/null
    runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$WORK/pg" -l "$WORK/pglog/pg.log" -w start \
      -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$WORK/pglog -c max_connections=200 -c shared_buffers=512MB" >/dev/null
    psql "postgres://postgres@127.0.0.1:$PG_PORT/postgres" -qc "CREATE DATABASE bench"
    bench_ledger postgres --database "postgres://postgres@127.0.0.1:$PG_PORT/bench"
  fi
done
