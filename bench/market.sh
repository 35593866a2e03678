#!/usr/bin/env bash
# Market checkouts over HTTP: POST /api/v1/market/checkout replayed by wrk at concurrency 1 and
# 32, on SQLite and PostgreSQL, eight buyers buying royalty-free licences of 64 listings at
# random, each checkout one transaction (the listing locked, the terms weighed, two transfers in
# the operator's books, the licence, their audit rows and events); beside it, in the same run,
# raw ledger transfers in the operator's books. After the runs the books are checked and the
# licences sold are counted against the checkouts wrk saw acknowledged (bench/market_seed.py
# --check): each exactly once.
#   bench/market.sh [seconds per line, default 5] [backends, default "sqlite postgres"]
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

WORK=$(mktemp -d /tmp/mstation-market.XXXXXX); chmod 755 "$WORK"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -d "$WORK/pg" ] && runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$WORK/pg" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

ACKED=0
run_wrk() { # name conc requests-file base
  local threads=1; [ "$2" -gt 1 ] && threads=2
  local line
  line=$(REQUESTS="$3" wrk -t"$threads" -c"$2" -d"${DURATION}s" --timeout 10s -s "$ROOT/bench/replay.lua" "$4" | grep '^RESULT')
  local rps; rps=$(sed 's/.*rps=\([0-9]*\).*/\1/' <<<"$line")
  printf '%-40s c=%-3s per second=%-6s %s\n' "$1" "$2" "$rps" "${line#RESULT }"
  if [[ "$1" == *checkouts* ]]; then
    local n bad; n=$(sed 's/.*requests=\([0-9]*\).*/\1/' <<<"$line"); bad=$(sed 's/.*non2xx=\([0-9]*\).*/\1/' <<<"$line")
    ACKED=$((ACKED + n - bad))
  fi
}


bench_market() { # label database-args...
  local label=$1; shift
  local data="$WORK/data-$label" port; port=$(free_port)
  local admin=("$BIN" admin --data "$data" "$@")
  "${admin[@]}" create-user --email money@m-station.local --name Money --password "benchmark password" >/dev/null
  "${admin[@]}" create-org --name "Market Operations" --slug ops --kind platform_operator --owner-email money@m-station.local >/dev/null
  "${admin[@]}" create-user --email stock@m-station.local --name Stock --password "benchmark password" >/dev/null
  "${admin[@]}" create-org --name "Harbour Stock" --slug harbour --kind post_house --owner-email stock@m-station.local >/dev/null
  tok() { "${admin[@]}" create-token --org "$1" --email "$2" --scopes read,write | python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])'; }
  local op seller buyers=()
  op=$(tok ops money@m-station.local)
  seller=$(tok harbour stock@m-station.local)
  for i in $(seq 1 8); do
    "${admin[@]}" create-user --email "buyer$i@m-station.local" --name "Buyer $i" --password "benchmark password" >/dev/null
    "${admin[@]}" create-org --name "Buyer $i" --slug "buyer-$i" --owner-email "buyer$i@m-station.local" >/dev/null
    buyers+=("$(tok "buyer-$i" "buyer$i@m-station.local")")
  done
  MSTATION_LOG=warn "$BIN" serve --data "$data" "$@" --listen "127.0.0.1:$port" >"$WORK/serve-$label.log" 2>&1 &
  local pid=$!; PIDS+=($pid)
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
  local base="http://127.0.0.1:$port" req="$WORK/req-$label"
  mkdir -p "$req"
  python3 "$ROOT/bench/market_seed.py" "$base" "$op" "$seller" "$req" "${buyers[@]}"
  ACKED=0
  for c in 1 32; do
    run_wrk "M-Station $label: checkouts" "$c" "$req/checkout.txt" "$base"
    run_wrk "M-Station $label: raw ledger transfers" "$c" "$req/transfer.txt" "$base"
  done
  python3 "$ROOT/bench/market_seed.py" "$base" "$op" "$seller" "$req" --check "$ACKED" "${buyers[@]}"
  kill "$pid"
}

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -r); wrk $(wrk -v 2>&1 | head -1 | awk '{print $2}'); ${DURATION}s per line"
for b in $BACKENDS; do
  if [ "$b" = sqlite ]; then bench_market sqlite; fi
  if [ "$b" = postgres ]; then
    mkdir -p "$WORK/pg" "$WORK/pglog"; chown postgres "$WORK/pg" "$WORK/pglog"
    PG_PORT=$(free_port)
    runuser -u postgres -- "$PG_BIN/initdb" -A trust -U postgres -D "$WORK/pg" >/dev/null
    runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$WORK/pg" -l "$WORK/pglog/pg.log" -w start \
      -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$WORK/pglog -c max_connections=200 -c shared_buffers=512MB" >/dev/null
    psql "postgres://postgres@127.0.0.1:$PG_PORT/postgres" -qc "CREATE DATABASE bench"
    bench_market postgres --database "postgres://postgres@127.0.0.1:$PG_PORT/bench"
  fi
done
