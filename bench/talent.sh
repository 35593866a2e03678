#!/usr/bin/env bash
# The talent directory's search: N profiles (default 100,000) shown to the platform by 20
# organisations, written into a SQLite database before the server starts
# (bench/talent_seed.py). The server builds its index at start and embeds every profile with
# the sentence model (both timed), is started again (timed: the vectors are read back, not
# made again), then wrk replays GET /api/v1/talent/search at concurrency 1 and 8: one word, two
# words, a crew role with a language (or a department with a country), and a description
# searched by meaning (the query embedded by the model on each request); then matching people to
# five pieces of work (GET /api/v1/talent/matches: a role or skills, with languages, a country,
# days and a day rate). Beside it, in the same run: the directory's SQL search on the same server
# (GET /api/v1/talent/profiles, a LIKE per word, newest first) for the same words and filters,
# and numpy's scan of the same vectors.
#   bench/talent.sh [N, default 100000] [seconds per line, default 5]
# BIN=path runs another build of mstation; MSTATION_MODEL_DIR as scripts/model prints it.
# KEEP=folder keeps the data folder there, and a later run with the same KEEP starts from it
# (the profiles seeded and embedded, so the first start is not run again).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
N=${1:-100000}
DURATION=${2:-5}
BIN=${BIN:-$ROOT/target/release/mstation}
[ -x "$BIN" ] || cargo build --release --locked -p mstation
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
MODEL=${MSTATION_MODEL_DIR:-$("$ROOT/scripts/model")}
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/mstation"
if [ ! -x "$CACHE/bench-venv/bin/python" ]; then
  python3 -m venv "$CACHE/bench-venv"
  "$CACHE/bench-venv/bin/pip" install --quiet --disable-pip-version-check numpy==2.4.6
fi

WORK=${KEEP:-$(mktemp -d /tmp/mstation-talent.XXXXXX)}
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$WORK"; }
trap cleanup EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

admin=("$BIN" admin --data "$WORK/data")
FRESH=1
[ -f "$WORK/token" ] && FRESH=
if [ -n "$FRESH" ]; then
  "${admin[@]}" create-user --email hire@m-station.local --name Hirer --password "benchmark password" >/dev/null
  "${admin[@]}" create-org --name "Bravo Pictures" --slug bravo --owner-email hire@m-station.local >/dev/null
  "${admin[@]}" create-token --org bravo --email hire@m-station.local --scopes read | python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])' >"$WORK/token"
  python3 "$ROOT/bench/talent_seed.py" "$(ls "$WORK"/data/*.db | head -1)" "$WORK/req" "$N" hire@m-station.local
fi
TOKEN=$(cat "$WORK/token")
# The pieces of work matched (written on every run: a data folder kept from before has none).
m=/api/v1/talent/matches?limit=10
printf 'GET %s\n' "$m&role=compositor&skills=Nuke,Houdini&languages=zh" \
  "$m&role=colourist&skills=Resolve,Baselight&country=GB&max_rate=3000&currency=CNY" \
  "$m&role=editor&skills=Avid&starts_on=2027-03-01&ends_on=2027-03-20&max_rate=2500&currency=CNY" \
  "$m&skills=Houdini,Maya&languages=en" \
  "$m&role=sound_designer&languages=en,fr&starts_on=2027-02-01&ends_on=2027-02-10" >"$WORK/req/match.txt"
DB=$(ls "$WORK"/data/*.db | head -1)

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -r); wrk $(wrk -v 2>&1 | head -1 | awk '{print $2}'); ${DURATION}s per line; $N profiles"
ask() { curl -fs -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/api/v1/talent/search?$1" 2>/dev/null | python3 -c "import json,sys; print(json.load(sys.stdin)[\"$2\"])" 2>/dev/null || echo -1; }
serve() {
  START=$(date +%s.%N)
  MSTATION_LOG=warn "$BIN" serve --data "$WORK/data" --workers 0 --model-dir "$MODEL" --listen "127.0.0.1:$PORT" >>"$WORK/serve.log" 2>&1 &
  PID=$!
  until [ "$(ask limit=1 total)" = "$N" ]; do sleep 0.2; kill -0 "$PID" || { cat "$WORK/serve.log"; exit 1; }; done
  printf '%s: index of %d profiles built %.1f s after the server started\n' "$1" "$N" "$(echo "$(date +%s.%N) - $START" | bc)"
  until [ "$(ask 'by=meaning&q=editor' waiting)" = 0 ]; do sleep 1; kill -0 "$PID" || { cat "$WORK/serve.log"; exit 1; }; done
  printf '%s: every profile has its vector %.1f s after the server started\n' "$1" "$(echo "$(date +%s.%N) - $START" | bc)"
}
if [ -n "$FRESH" ]; then
  serve "first start"
  kill "$PID"; wait "$PID" 2>/dev/null || true
fi
serve "second start"
for c in 1 8; do
  threads=1; [ "$c" -gt 1 ] && threads=2
  for set in one two facets meaning match before_one before_two before_facets; do
    line=$(TOKEN="$TOKEN" REQUESTS="$WORK/req/$set.txt" wrk -t"$threads" -c"$c" -d"${DURATION}s" --timeout 10s -s "$ROOT/bench/replay.lua" "http://127.0.0.1:$PORT" | grep '^RESULT')
    printf '%-40s c=%-3s %s\n' "$set" "$c" "${line#RESULT }"
  done
done
kill "$PID"; wait "$PID" 2>/dev/null || true
PID=
"$CACHE/bench-venv/bin/python" "$ROOT/bench/talent_numpy.py" "$DB"
