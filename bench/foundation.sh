#!/usr/bin/env bash
# Foundation benchmark: an authenticated small read and a small write, at concurrency 1 and 32,
# over loopback with wrk, on SQLite and on PostgreSQL; and, in the same run, the same shapes of
# request against Kitsu's backend (zou) when it is up on 127.0.0.1:5000 (see ../shared/peers/zou).
#   bench/foundation.sh [seconds per line, default 10]
# Needs: wrk (apt-get install wrk), PostgreSQL 15 binaries, a release build of mstation.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DURATION=${1:-10}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
BIN=$ROOT/target/release/mstation
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
  line=$(TOKEN="$4" REQUESTS="$3" wrk -t"$threads" -c"$2" -d"${DURATION}s" -s "$ROOT/bench/replay.lua" "$5" | grep '^RESULT')
  printf '%-44s c=%-3s %s\n' "$1" "$2" "${line#RESULT }" | tee -a "$WORK/results.txt"
}

bench_mstation() { # label database-args...
  local label=$1; shift
  local data="$WORK/data-$label" port; port=$(free_port)
  "$BIN" admin --data "$data" "$@" create-user --email bench@m-station.local --name Bench --password "benchmark password" >/dev/null
  "$BIN" admin --data "$data" "$@" create-org --name "Bench Pictures" --slug bench --owner-email bench@m-station.local >/dev/null
  local token
  token=$("$BIN" admin --data "$data" "$@" create-token --org bench --email bench@m-station.local --scopes read,write,admin | python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])')
  MSTATION_LOG=warn "$BIN" serve --data "$data" "$@" --listen "127.0.0.1:$port" >"$WORK/serve-$label.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
  local base="http://127.0.0.1:$port"
  # 100 webhooks (paused, so the write measures the API, not deliveries) to spread writes over rows.
  : >"$WORK/write-$label.txt"
  for i in $(seq 1 100); do
    id=$(curl -fs -H "authorization: Bearer $token" -H 'content-type: application/json' \
      -d "{\"url\":\"https://hooks.example.com/$i\",\"events\":[\"member.*\"]}" "$base/api/v1/webhooks" \
      | python3 -c 'import json,sys; print(json.load(sys.stdin)["webhook"]["id"])')
    curl -fs -X PATCH -H "authorization: Bearer $token" -H 'content-type: application/json' -d '{"active":false}' "$base/api/v1/webhooks/$id" >/dev/null
    echo "PATCH /api/v1/webhooks/$id {\"description\":\"cut $i\"}" >>"$WORK/write-$label.txt"
  done
  echo "GET /api/v1/org" >"$WORK/read-$label.txt"
  for c in 1 32; do
    run_wrk "M-Station $label: read (GET /api/v1/org)" "$c" "$WORK/read-$label.txt" "$token" "$base"
    run_wrk "M-Station $label: write (PATCH a webhook)" "$c" "$WORK/write-$label.txt" "$token" "$base"
  done
}

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -r); wrk $(wrk -v 2>&1 | head -1 | awk '{print $2}'); ${DURATION}s per line"
bench_mstation sqlite

mkdir -p "$WORK/pg" "$WORK/pglog"; chown postgres "$WORK/pg" "$WORK/pglog"
PG_PORT=$(free_port)
runuser -u postgres -- "$PG_BIN/initdb" -A trust -U postgres -D "$WORK/pg" >/dev/null
runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$WORK/pg" -l "$WORK/pglog/pg.log" -w start \
  -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$WORK/pglog -c max_connections=200" >/dev/null
psql "postgres://postgres@127.0.0.1:$PG_PORT/postgres" -qc "CREATE DATABASE bench"
bench_mstation postgres --database "postgres://postgres@127.0.0.1:$PG_PORT/bench"

if curl -fs http://127.0.0.1:5000/ >/dev/null 2>&1; then
  ZOU_TOKEN=$(curl -fs -H 'content-type: application/json' -d '{"email":"admin@example.com","password":"mysecretpassword"}' \
    http://127.0.0.1:5000/auth/login | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
  echo "GET /auth/authenticated" >"$WORK/zou-read.txt"
  # Kitsu's smallest authenticated write of the same shape: rename a person (one row, one event).
  ZOU_ME=$(curl -fs -H "authorization: Bearer $ZOU_TOKEN" http://127.0.0.1:5000/auth/authenticated | python3 -c 'import json,sys; print(json.load(sys.stdin)["user"]["id"])')
  : >"$WORK/zou-write.txt"
  for i in $(seq 1 100); do echo "PUT /data/persons/$ZOU_ME {\"phone\":\"+86 21 5555 $i\"}" >>"$WORK/zou-write.txt"; done
  for c in 1 32; do
    run_wrk "Kitsu (zou): read (GET /auth/authenticated)" "$c" "$WORK/zou-read.txt" "$ZOU_TOKEN" http://127.0.0.1:5000
    run_wrk "Kitsu (zou): write (PUT /data/persons/ID)" "$c" "$WORK/zou-write.txt" "$ZOU_TOKEN" http://127.0.0.1:5000
  done
else
  echo "zou is not running on 127.0.0.1:5000: start it with ../shared/peers/zou/run_zou.sh for the side-by-side lines"
fi
