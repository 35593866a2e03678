#!/usr/bin/env bash
# A proxy made on the job queue against the bare ffmpeg commands it runs: a SECONDS-long
# 1920×1080 ProRes 422 HQ clip at 23.976 with stereo sound is uploaded to a release `serve`, and
# the time from the upload's end to its proxy, poster, scrub sprite and waveform being recorded
# (ffprobe, then the proxy job: ffmpeg four times, hashing, storing, recording) is set beside the
# same four ffmpeg commands run by hand on the same file, in the same run.
#   bench/proxy.sh [SECONDS, default 30]
# BIN=path runs another build of mstation.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SECS=${1:-30}
BIN=${BIN:-$ROOT/target/release/mstation}
[ -x "$BIN" ] || cargo build --release --locked -p mstation
command -v ffmpeg >/dev/null || { echo "ffmpeg is needed (apt-get install ffmpeg)"; exit 1; }

WORK=$(mktemp -d /tmp/mstation-proxy.XXXXXX)
SERVER=""
cleanup() { [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
DATA="$WORK/data"
"$BIN" admin --data "$DATA" create-user --email bench@proxy.example --name Bench --password "bench correct horse" >/dev/null
"$BIN" admin --data "$DATA" create-org --name Bench --slug bench --owner-email bench@proxy.example >/dev/null
TOKEN=$("$BIN" admin --data "$DATA" create-token --org bench --email bench@proxy.example --scopes read,write |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])')
MSTATION_LOG=warn "$BIN" serve --data "$DATA" --listen "127.0.0.1:$PORT" --workers 1 >"$WORK/serve.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break; sleep 0.1; done

SRC="$WORK/take.mov"
ffmpeg -loglevel error -y -f lavfi -i "testsrc2=size=1920x1080:rate=24000/1001" \
  -f lavfi -i "sine=frequency=1000:sample_rate=48000" -t "$SECS" -timecode 01:00:00:00 \
  -c:v prores_ks -profile:v 3 -pix_fmt yuv422p10le -c:a pcm_s24le -ac 2 "$SRC"

# The bare commands, as the proxy job runs them.
t0=$(date +%s.%N)
ffmpeg -v error -y -protocol_whitelist file -i "$SRC" -map 0:v:0 -map '0:a:0?' -c:v libx264 -preset veryfast \
  -crf 23 -pix_fmt yuv420p -vf "scale=-2:'min(1080,ih)'" -c:a aac -b:a 160k -ac 2 -movflags +faststart \
  -timecode 01:00:00:00 "$WORK/bare.mp4"
ffmpeg -v error -y -protocol_whitelist file -ss 1.000 -i "$SRC" -frames:v 1 -vf scale=480:-2 -q:v 3 "$WORK/bare.jpg"
EVERY=$(python3 -c "print(f'{100 / $SECS:.6f}')")
ffmpeg -v error -y -protocol_whitelist file -i "$SRC" -an -vf "fps=$EVERY,scale=160:-2,tile=10x10" \
  -frames:v 1 -q:v 4 "$WORK/sprite.jpg"
ffmpeg -v error -y -protocol_whitelist file -i "$SRC" \
  -filter_complex "aformat=channel_layouts=mono,showwavespic=s=1600x120:colors=0x5b8def" -frames:v 1 "$WORK/wave.png"
t1=$(date +%s.%N)

LOC=$(curl -fsS -D - -o /dev/null -X POST "http://127.0.0.1:$PORT/files" -H "Authorization: Bearer $TOKEN" \
  -H "Tus-Resumable: 1.0.0" -H "Upload-Length: $(stat -c %s "$SRC")" | tr -d '\r' |
  awk 'tolower($1) == "location:" {print $2}')
curl -fsS -o /dev/null -X PATCH -T "$SRC" "http://127.0.0.1:$PORT$LOC" -H "Authorization: Bearer $TOKEN" \
  -H "Tus-Resumable: 1.0.0" -H "Upload-Offset: 0" -H "Content-Type: application/offset+octet-stream"
t2=$(date +%s.%N)
# Asked ten times a second with curl alone: the asking must not take the encoder's cores.
until curl -fsS "http://127.0.0.1:$PORT/api/v1/media" -H "Authorization: Bearer $TOKEN" | grep -q '"poster_hash":"'; do
  sleep 0.1
done
t3=$(date +%s.%N)
curl -fsS "http://127.0.0.1:$PORT/api/v1/jobs" -H "Authorization: Bearer $TOKEN" | python3 -c "import json,sys; [print(\"  job\", j[\"kind\"], j[\"created_at\"], j[\"updated_at\"]) for j in json.load(sys.stdin)[\"items\"]]" >&2 || true
python3 - "$SECS" "$t0" "$t1" "$t2" "$t3" "$(nproc)" "$(stat -c %s "$SRC")" <<'PY'
import sys
secs, t0, t1, t2, t3, cores, size = sys.argv[1:]
t0, t1, t2, t3 = map(float, (t0, t1, t2, t3))
bare, ours = t1 - t0, t3 - t2
print(f"{secs} s of 1080p ProRes 422 HQ ({int(size) / 1e6:.0f} MB), {cores} cores")
print(f"  bare ffmpeg (proxy, poster, sprite, waveform): {bare:.2f} s")
print(f"  on the job queue (probe, proxy, poster, sprite, waveform, stored, recorded): {ours:.2f} s; {ours / bare:.3f}x the bare commands")
PY
