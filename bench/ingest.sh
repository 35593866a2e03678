#!/usr/bin/env bash
# A camera card's ingest: FILES files of SIZE MiB each (8 x 256 MiB by default), read, hashed
# (BLAKE3 and xxh64), uploaded to a server on loopback and given its ASC MHL generation with
# `mstation ingest`, against its peers in the same run:
#   - cold (the page cache dropped before each, as root): `cat` of the same files, the most any
#     reader of that disk can do;
#   - warm (the files in the page cache): `ascmhl create -h xxh64` (the reference tool, which
#     hashes but sends nothing).
# Prints each one's time and throughput, and the ratios the issue asks for.
#   bench/ingest.sh [FILES, default 8] [SIZE in MiB, default 256]
# BIN=path runs another build of mstation. Needs root for the cold runs (drop_caches).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
FILES=${1:-8}
SIZE=${2:-256}
BIN=${BIN:-$ROOT/target/release/mstation}
[ -x "$BIN" ] || cargo build --release --locked -p mstation
ASCMHL="${XDG_CACHE_HOME:-$HOME/.cache}/mstation/ascmhl-venv/bin/ascmhl"
[ -x "$ASCMHL" ] || "$ROOT/scripts/mhl-interop" "$BIN" >/dev/null

WORK=$(mktemp -d /tmp/mstation-ingest.XXXXXX)
SERVER=""
cleanup() {
  [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
DATA="$WORK/data"
admin() { "$BIN" admin --data "$DATA" "$@" >/dev/null; }
admin create-user --email dit@ingest.example --name DIT --password "bench correct horse"
admin create-org --name Bench --slug bench --owner-email dit@ingest.example
TOKEN=$("$BIN" admin --data "$DATA" create-token --org bench --email dit@ingest.example --scopes read,write |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])')
# No workers: the ingest alone is measured, not the probes and proxies it queues.
MSTATION_LOG=warn "$BIN" serve --data "$DATA" --listen "127.0.0.1:$PORT" --workers 0 >"$WORK/serve.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fsS -o /dev/null -X POST "http://127.0.0.1:$PORT/api/v1/projects" -H "Authorization: Bearer $TOKEN" \
  -H 'content-type: application/json' -d '{"name":"Bench","code":"BENCH","fps":"24","width":1920,"height":1080}'

CARD="$WORK/A001_BENCH"
mkdir -p "$CARD/CLIPS"
for i in $(seq 1 "$FILES"); do
  head -c $((SIZE * 1024 * 1024)) /dev/urandom >"$CARD/CLIPS/A001C$(printf %03d "$i").mov"
done
sync
drop() { sync; echo 3 >/proc/sys/vm/drop_caches; }
now() { date +%s.%N; }
fresh() { rm -rf "$CARD/ascmhl" "$WORK/cache"; }
ingest() {
  MSTATION_CACHE="$WORK/cache" "$BIN" ingest "$CARD" --project BENCH \
    --server "http://127.0.0.1:$PORT" --token "$TOKEN" >/dev/null 2>&1
}

drop; t0=$(now); cat "$CARD"/CLIPS/* >/dev/null; t1=$(now)
fresh; drop; t2=$(now); ingest; t3=$(now)
# Warm: read once so every file is in the page cache, then each in turn.
cat "$CARD"/CLIPS/* >/dev/null
fresh; t4=$(now); "$ASCMHL" create "$CARD" -h xxh64 >/dev/null; t5=$(now)
fresh; t6=$(now); ingest; t7=$(now)
fresh; t8=$(now); cat "$CARD"/CLIPS/* >/dev/null; t9=$(now)

python3 - "$FILES" "$SIZE" "$t0" "$t1" "$t2" "$t3" "$t4" "$t5" "$t6" "$t7" "$t8" "$t9" "$(nproc)" <<'PY'
import sys
files, size = int(sys.argv[1]), int(sys.argv[2])
t = list(map(float, sys.argv[3:13]))
cores = sys.argv[13]
mb = files * size * 1.048576
cat_cold, ing_cold, asc_warm, ing_warm, cat_warm = (t[1]-t[0], t[3]-t[2], t[5]-t[4], t[7]-t[6], t[9]-t[8])
print(f"{files} x {size} MiB, {cores} cores")
print(f"  cold: cat {cat_cold:.2f} s ({mb/cat_cold:.0f} MB/s); mstation ingest {ing_cold:.2f} s ({mb/ing_cold:.0f} MB/s) = {cat_cold/ing_cold*100:.0f}% of cat's throughput")
print(f"  warm: cat {cat_warm:.2f} s ({mb/cat_warm:.0f} MB/s); ascmhl create -h xxh64 {asc_warm:.2f} s ({mb/asc_warm:.0f} MB/s); mstation ingest {ing_warm:.2f} s ({mb/ing_warm:.0f} MB/s) = {asc_warm/ing_warm:.2f}x ascmhl")
PY
