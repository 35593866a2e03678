#!/usr/bin/env bash
# The storefront's search: N listings on sale (default 100,000) by 40 contributors, written into
# a SQLite database before the server starts (bench/search_seed.py), the catalogue built at
# start (timed), then GET /api/v1/market/store replayed by wrk at concurrency 1 and 8: two words
# in English, two in Chinese (cut by jieba), one English word with two letters swapped (found by
# the typo tolerance), and a Chinese word with a category and a resolution; each answer carries
# its facets and 24 listings. Beside it, in the same run, the storefront's search before the
# catalogue (a LIKE per word over the lowered titles and keywords) on the same database.
#   bench/search.sh [N, default 100000] [seconds per line, default 5]
# BIN=path runs another build of mstation.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
N=${1:-100000}
DURATION=${2:-5}
BIN=${BIN:-$ROOT/target/release/mstation}
[ -x "$BIN" ] || cargo build --release --locked -p mstation
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }

WORK=$(mktemp -d /tmp/mstation-search.XXXXXX)
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

admin=("$BIN" admin --data "$WORK/data")
"${admin[@]}" create-user --email shop@m-station.local --name Shopper --password "benchmark password" >/dev/null
"${admin[@]}" create-org --name "Bravo Pictures" --slug bravo --owner-email shop@m-station.local >/dev/null
TOKEN=$("${admin[@]}" create-token --org bravo --email shop@m-station.local --scopes read | python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])')
DB=$(ls "$WORK"/data/*.db | head -1)
python3 "$ROOT/bench/search_seed.py" "$DB" "$WORK/req" "$N" shop@m-station.local

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -r); wrk $(wrk -v 2>&1 | head -1 | awk '{print $2}'); ${DURATION}s per line; $N listings"
START=$(date +%s.%N)
MSTATION_LOG=warn "$BIN" serve --data "$WORK/data" --workers 0 --listen "127.0.0.1:$PORT" >"$WORK/serve.log" 2>&1 &
PID=$!
total() { curl -fs -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/api/v1/market/store?limit=1" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])' 2>/dev/null || echo 0; }
until [ "$(total)" = "$N" ]; do sleep 0.2; kill -0 "$PID" || { cat "$WORK/serve.log"; exit 1; }; done
printf 'catalogue of %d listings built %.1f s after the server started\n' "$N" "$(echo "$(date +%s.%N) - $START" | bc)"
for c in 1 8; do
  for set in en zh typo facets; do
    threads=1; [ "$c" -gt 1 ] && threads=2
    line=$(TOKEN="$TOKEN" REQUESTS="$WORK/req/$set.txt" wrk -t"$threads" -c"$c" -d"${DURATION}s" --timeout 10s -s "$ROOT/bench/replay.lua" "http://127.0.0.1:$PORT" | grep '^RESULT')
    printf '%-40s c=%-3s %s\n' "M-Station catalogue: $set" "$c" "${line#RESULT }"
  done
done
python3 "$ROOT/bench/search_like.py" "$DB" "$WORK/req/like.json"
