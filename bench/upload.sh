#!/usr/bin/env bash
# One big resumable upload over loopback: a SIZE-MiB file sent to /files in one PATCH with curl,
# against `cp` of the same file on the same disk (the peer: what the disk does alone). Prints the
# upload's time and throughput (until the file exists: received, hashed and stored), cp's, their
# ratio, and the server's resident memory before and at its peak (VmHWM).
#   bench/upload.sh [SIZE in MiB, default 2048]
# BIN=path runs another build of mstation.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SIZE=${1:-2048}
BIN=${BIN:-$ROOT/target/release/mstation}
[ -x "$BIN" ] || cargo build --release --locked -p mstation

WORK=$(mktemp -d /tmp/mstation-upload.XXXXXX)
SERVER=""
cleanup() {
  [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
DATA="$WORK/data"
admin() { "$BIN" admin --data "$DATA" "$@" >/dev/null; }
admin create-user --email bench@upload.example --name Bench --password "bench correct horse"
admin create-org --name Bench --slug bench --owner-email bench@upload.example
TOKEN=$("$BIN" admin --data "$DATA" create-token --org bench --email bench@upload.example --scopes read,write |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])')
MSTATION_LOG=warn "$BIN" serve --data "$DATA" --listen "127.0.0.1:$PORT" --workers 0 >"$WORK/serve.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break; sleep 0.1; done

head -c $((SIZE * 1024 * 1024)) /dev/urandom >"$WORK/file.bin"
sync
rss() { awk -v k="$1" '$1 == k":" {print int($2 / 1024)}' "/proc/$SERVER/status"; }
start_rss=$(rss VmRSS)

t0=$(date +%s.%N)
cp "$WORK/file.bin" "$WORK/copy.bin" && sync "$WORK/copy.bin"
t1=$(date +%s.%N)
rm -f "$WORK/copy.bin"

LOC=$(curl -fsS -D - -o /dev/null -X POST "http://127.0.0.1:$PORT/files" \
  -H "Authorization: Bearer $TOKEN" -H "Tus-Resumable: 1.0.0" \
  -H "Upload-Length: $((SIZE * 1024 * 1024))" | tr -d '\r' | awk 'tolower($1) == "location:" {print $2}')
t2=$(date +%s.%N)
curl -fsS -o /dev/null -X PATCH -T "$WORK/file.bin" "http://127.0.0.1:$PORT$LOC" \
  -H "Authorization: Bearer $TOKEN" -H "Tus-Resumable: 1.0.0" -H "Upload-Offset: 0" \
  -H "Content-Type: application/offset+octet-stream"
t3=$(date +%s.%N)
peak_rss=$(rss VmHWM)

python3 - "$SIZE" "$t0" "$t1" "$t2" "$t3" "$start_rss" "$peak_rss" "$(nproc)" <<'PY'
import sys
size, t0, t1, t2, t3, start, peak, cores = sys.argv[1:]
size = int(size); t0, t1, t2, t3 = map(float, (t0, t1, t2, t3))
mb = size * 1.048576
cp, up = t1 - t0, t3 - t2
print(f"{size} MiB, {cores} cores")
print(f"  cp (the disk alone): {cp:.2f} s, {mb / cp:.0f} MB/s")
print(f"  tus upload (received, hashed, stored): {up:.2f} s, {mb / up:.0f} MB/s; {up / cp:.2f}x cp's time")
print(f"  server memory: {start} MiB at start, peak {peak} MiB (+{int(peak) - int(start)} MiB)")
PY
