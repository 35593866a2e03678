#!/usr/bin/env bash
# One big write against everyone else's: organisation A conforms a sequence to an EDL of EVENTS
# events while four clients of organisation B change B's tasks; prints A's conform time, B's
# write latency during it, and the server's memory (bench/conform_big.py).
#   bench/conform_big.sh [EVENTS, default 15000] [backends, default "sqlite postgres"]
# BIN=path runs another build of mstation (an A/B in one window).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
EVENTS=${1:-15000}
BACKENDS=${2:-sqlite postgres}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
BIN=${BIN:-$ROOT/target/release/mstation}
[ -x "$BIN" ] || cargo build --release --locked -p mstation

WORK=$(mktemp -d /tmp/mstation-bench.XXXXXX); chmod 755 "$WORK"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -d "$WORK/pg" ] && runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$WORK/pg" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

bench_mstation() { # label database-args...
  local label=$1; shift
  local data="$WORK/data-$label" port; port=$(free_port)
  local tokens=()
  for org in alpha bravo; do
    "$BIN" admin --data "$data" "$@" create-user --email "$org@m-station.local" --name "$org" --password "benchmark password" >/dev/null
    "$BIN" admin --data "$data" "$@" create-org --name "$org pictures" --slug "$org" --owner-email "$org@m-station.local" >/dev/null
    tokens+=("$("$BIN" admin --data "$data" "$@" create-token --org "$org" --email "$org@m-station.local" --scopes read,write,admin | python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])')")
  done
  MSTATION_LOG=warn "$BIN" serve --data "$data" "$@" --listen "127.0.0.1:$port" >"$WORK/serve-$label.log" 2>&1 &
  local pid=$!; PIDS+=($pid)
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
  printf 'M-Station %s: ' "$label"
  python3 "$ROOT/bench/conform_big.py" "http://127.0.0.1:$port" "${tokens[0]}" "${tokens[1]}" "$pid" --events "$EVENTS"
  kill "$pid"
}

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -r); $EVENTS events"
for b in $BACKENDS; do
  case $b in
    sqlite) bench_mstation sqlite ;;
    postgres)
      mkdir -p "$WORK/pg"; chown postgres "$WORK/pg" "$WORK"
      runuser -u postgres -- "$PG_BIN/initdb" -A trust -U postgres -E UTF8 -D "$WORK/pg" >/dev/null
      port=$(free_port)
      runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$WORK/pg" -l "$WORK/pg.log" -w start \
        -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$WORK -c max_connections=200" >/dev/null
      bench_mstation postgres --database "postgres://postgres@127.0.0.1:$port/postgres" ;;
  esac
done
