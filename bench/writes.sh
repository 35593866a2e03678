#!/usr/bin/env bash
# Ordinary writes benchmark: on a production of SHOTS shots (seed_tracking.py), replays with wrk
# at concurrency 1 and 32 the writes made besides task changes and notes: a profile, a webhook,
# a project, a 100-shot conform, an asset, a new version, a time log (seed_writes.py).
#   bench/writes.sh [SHOTS, default 1000] [seconds per line, default 5] [backends, default "sqlite postgres"]
# BIN=path runs another build of mstation (an A/B in one window).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SHOTS=${1:-1000}
DURATION=${2:-5}
BACKENDS=${3:-sqlite postgres}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
BIN=${BIN:-$ROOT/target/release/mstation}
[ -x "$BIN" ] || cargo build --release --locked -p mstation
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }

WORK=$(mktemp -d /tmp/mstation-bench.XXXXXX); chmod 755 "$WORK"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -d "$WORK/pg" ] && runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$WORK/pg" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

run_wrk() { # name conc requests-file token base
  local threads=1; [ "$2" -gt 1 ] && threads=2
  local line
  line=$(TOKEN="$4" REQUESTS="$3" wrk -t"$threads" -c"$2" -d"${DURATION}s" --timeout 10s -s "$ROOT/bench/replay.lua" "$5" | grep '^RESULT')
  printf '%-52s c=%-3s %s\n' "$1" "$2" "${line#RESULT }"
}

bench_mstation() { # label database-args...
  local label=$1; shift
  local data="$WORK/data-$label" port; port=$(free_port)
  "$BIN" admin --data "$data" "$@" create-user --email bench@m-station.local --name Bench --password "benchmark password" >/dev/null
  "$BIN" admin --data "$data" "$@" create-org --name "Bench Pictures" --slug bench --owner-email bench@m-station.local >/dev/null
  local token
  token=$("$BIN" admin --data "$data" "$@" create-token --org bench --email bench@m-station.local --scopes read,write,admin | python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])')
  MSTATION_LOG=warn "$BIN" serve --data "$data" "$@" --listen "127.0.0.1:$port" >"$WORK/serve-$label.log" 2>&1 &
  local pid=$!; PIDS+=($pid)
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
  local base="http://127.0.0.1:$port" req="$WORK/req-$label"
  python3 "$ROOT/bench/seed_tracking.py" "$base" "$token" "$req" --shots "$SHOTS" 2>/dev/null
  python3 "$ROOT/bench/seed_writes.py" "$base" "$token" "$req"
  for c in 1 32; do
    run_wrk "M-Station $label: profile (PATCH /me)" "$c" "$req/me.txt" "$token" "$base"
    run_wrk "M-Station $label: webhook (PATCH)" "$c" "$req/webhook.txt" "$token" "$base"
    run_wrk "M-Station $label: project (PATCH)" "$c" "$req/project.txt" "$token" "$base"
    run_wrk "M-Station $label: conform a 100-shot recut" "$c" "$req/conform.txt" "$token" "$base"
    run_wrk "M-Station $label: asset (PATCH)" "$c" "$req/asset.txt" "$token" "$base"
    run_wrk "M-Station $label: new version (POST)" "$c" "$req/version.txt" "$token" "$base"
    run_wrk "M-Station $label: time log (POST)" "$c" "$req/timelog.txt" "$token" "$base"
  done
  kill "$pid"
}

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -r); wrk $(wrk -v 2>&1 | head -1 | awk '{print $2}'); ${DURATION}s per line; $SHOTS shots"
for b in $BACKENDS; do
  if [ "$b" = sqlite ]; then bench_mstation sqlite; fi
  if [ "$b" = postgres ]; then
    mkdir -p "$WORK/pg" "$WORK/pglog"; chown postgres "$WORK/pg" "$WORK/pglog"
    PG_PORT=$(free_port)
    runuser -u postgres -- "$PG_BIN/initdb" -A trust -U postgres -D "$WORK/pg" >/dev/null
    runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$WORK/pg" -l "$WORK/pglog/pg.log" -w start \
      -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$WORK/pglog -c max_connections=200 -c shared_buffers=512MB" >/dev/null
    psql "postgres://postgres@127.0.0.1:$PG_PORT/postgres" -qc "CREATE DATABASE bench"
    bench_mstation postgres --database "postgres://postgres@127.0.0.1:$PG_PORT/bench"
  fi
done
