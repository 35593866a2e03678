#!/usr/bin/env bash
# Tracking benchmark: builds a production of SHOTS shots with six tasks each through the API,
# then replays the tracking mixes with wrk at concurrency 1 and 32 on SQLite and PostgreSQL,
# and the same mixes against Kitsu's backend (zou) on 127.0.0.1:5000 when it is up.
#   bench/tracking.sh [SHOTS, default 100000] [seconds per line, default 10] [backends, default "sqlite postgres"]
# BIN=path runs another build of mstation (an A/B in one window); ZOU_VENV=/nonexistent skips Kitsu.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SHOTS=${1:-100000}
DURATION=${2:-10}
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
  python3 "$ROOT/bench/seed_tracking.py" "$base" "$token" "$req" --shots "$SHOTS"
  for c in 1 32; do
    run_wrk "M-Station $label: tasks of one shot" "$c" "$req/shot_tasks.txt" "$token" "$base"
    run_wrk "M-Station $label: shot tasks of a sequence (100 shots)" "$c" "$req/seq_tasks.txt" "$token" "$base"
    run_wrk "M-Station $label: one step of a sequence (100 tasks)" "$c" "$req/seq_tasks_step.txt" "$token" "$base"
    run_wrk "M-Station $label: filtered page (assignee + status)" "$c" "$req/filtered.txt" "$token" "$base"
    run_wrk "M-Station $label: status change (PATCH)" "$c" "$req/status.txt" "$token" "$base"
    run_wrk "M-Station $label: status change with a note" "$c" "$req/note.txt" "$token" "$base"
    run_wrk "M-Station $label: bulk change of 100 statuses" "$c" "$req/bulk.txt" "$token" "$base"
  done
  echo "M-Station $label: peak RSS $(awk '/VmHWM/{printf "%.0f MiB", $2/1024}' /proc/$pid/status)"
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

ZOU_VENV=${ZOU_VENV:-/tmp/zou-peer/venv}
if curl -fs http://127.0.0.1:5000/ >/dev/null 2>&1 && [ -x "$ZOU_VENV/bin/python" ]; then
  ZOU_TOKEN=$("$ZOU_VENV/bin/python" "$ROOT/../shared/peers/zou/make_paths.py" "$WORK/zou" | tail -1)
  for c in 1 32; do
    run_wrk "Kitsu (zou): tasks of one shot" "$c" "$WORK/zou/shot_tasks.txt" "$ZOU_TOKEN" http://127.0.0.1:5000
    run_wrk "Kitsu (zou): shot tasks of a sequence (100 shots)" "$c" "$WORK/zou/seq_tasks.txt" "$ZOU_TOKEN" http://127.0.0.1:5000
    run_wrk "Kitsu (zou): status change (PUT)" "$c" "$WORK/zou/put_status.txt" "$ZOU_TOKEN" http://127.0.0.1:5000
    run_wrk "Kitsu (zou): status change with a comment" "$c" "$WORK/zou/comment.txt" "$ZOU_TOKEN" http://127.0.0.1:5000
  done
else
  echo "zou is not running on 127.0.0.1:5000: start ../shared/peers/zou/run_zou.sh for the side-by-side lines"
fi
