#!/usr/bin/env bash
# Dispatch of JOBS small jobs to AGENTS remote agents over HTTP, on SQLite and on PostgreSQL:
# jobs/s and the claim's p99, beside an empty claim in the same run (bench/dispatch.py).
#   bench/dispatch.sh [JOBS, default 10000] [AGENTS, default 4] [backends, default "sqlite postgres"]
# BIN=path runs another build of mstation.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
JOBS=${1:-10000}
AGENTS=${2:-4}
BACKENDS=${3:-sqlite postgres}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
BIN=${BIN:-$ROOT/target/release/mstation}
[ -x "$BIN" ] || cargo build --release --locked -p mstation

WORK=$(mktemp -d /tmp/mstation-dispatch.XXXXXX); chmod 755 "$WORK"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -d "$WORK/pg" ] && runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$WORK/pg" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
token() { python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])'; }

bench() { # label database-args...
  local label=$1; shift
  local data="$WORK/data-$label" port; port=$(free_port)
  local admin=("$BIN" admin --data "$data" "$@")
  "${admin[@]}" create-user --email farm@ops.example --name Farm --password "benchmark password" --operator >/dev/null
  "${admin[@]}" create-org --name Operations --slug ops --kind platform_operator --owner-email farm@ops.example >/dev/null
  local ops; ops=$("${admin[@]}" create-token --org ops --email farm@ops.example --scopes read,write,admin | token)
  "${admin[@]}" create-user --email post@alpha.example --name Post --password "benchmark password" >/dev/null
  "${admin[@]}" create-org --name Alpha --slug alpha --owner-email post@alpha.example >/dev/null
  local alpha; alpha=$("${admin[@]}" create-token --org alpha --email post@alpha.example --scopes read,write | token)
  # No workers of its own: the agents take every job.
  MSTATION_LOG=warn "$BIN" serve --data "$data" "$@" --listen "127.0.0.1:$port" --workers 0 >"$WORK/serve-$label.log" 2>&1 &
  local pid=$!; PIDS+=($pid)
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
  printf '%s: ' "$label"
  python3 "$ROOT/bench/dispatch.py" "http://127.0.0.1:$port" "$ops" "$alpha" --jobs "$JOBS" --agents "$AGENTS"
  kill "$pid"
}

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -r); $JOBS jobs, $AGENTS agents"
for b in $BACKENDS; do
  case $b in
    sqlite) bench sqlite ;;
    postgres)
      mkdir -p "$WORK/pg"; chown postgres "$WORK/pg" "$WORK"
      runuser -u postgres -- "$PG_BIN/initdb" -A trust -U postgres -E UTF8 -D "$WORK/pg" >/dev/null
      port=$(free_port)
      runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$WORK/pg" -l "$WORK/pg.log" -w start \
        -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$WORK -c max_connections=200" >/dev/null
      bench postgres --database "postgres://postgres@127.0.0.1:$port/postgres" ;;
  esac
done
