#!/usr/bin/env bash
# The review player's first frame: a SECONDS-long 1920×1080 H.264 clip is handed in as a version
# of a shot on a release `serve`; once its proxy is made, headless Chromium opens the player page
# RUNS times and the time from asking for the page to its first frame on screen (the player
# settled on it) is set beside the peer in the same run: a bare <video> of the same proxy on an
# empty page of the same server, from adding the element to its first frame decoded.
#   bench/player.sh [SECONDS, default 10] [RUNS, default 7]
# BIN=path runs another build of mstation. Needs /usr/bin/chromium and e2e/node_modules.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SECS=${1:-10}
RUNS=${2:-7}
BIN=${BIN:-$ROOT/target/release/mstation}
[ -x "$BIN" ] || cargo build --release --locked -p mstation
[ -d e2e/node_modules/playwright-core ] || (cd e2e && npm ci --no-audit --no-fund >/dev/null)

WORK=$(mktemp -d /tmp/mstation-player.XXXXXX)
SERVER=""
cleanup() { [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
DATA="$WORK/data"
MSTATION_LOG=warn "$BIN" serve --data "$DATA" --listen "127.0.0.1:$PORT" >"$WORK/serve.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
PASSWORD=$(sed -n 's/^ *password: *//p' "$WORK/serve.log" | head -1)
ffmpeg -loglevel error -y -f lavfi -i "testsrc2=size=1920x1080:rate=24" -t "$SECS" \
  -c:v libx264 -preset veryfast -pix_fmt yuv420p "$WORK/comp.mov"

cd e2e
BASE_URL="http://127.0.0.1:$PORT" ADMIN_PASSWORD="$PASSWORD" CLIP="$WORK/comp.mov" RUNS="$RUNS" node --input-type=module <<'JS'
import { chromium } from "playwright-core";
import { readFileSync } from "node:fs";
const base = process.env.BASE_URL;
const runs = Number(process.env.RUNS);
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"],
});
const context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
const page = await context.newPage();
await page.goto(`${base}/signin`);
await page.fill("input[name=email]", "admin@m-station.local");
await page.fill("input[name=password]", process.env.ADMIN_PASSWORD);
await page.click("button[type=submit]");
await page.waitForURL(`${base}/app`);
const csrf = await page.evaluate(() => document.querySelector("input[name=csrf]")?.value);
const api = async (method, path, body) => {
  const r = await page.request.fetch(`${base}${path}`, { method, headers: { "x-csrf-token": csrf, "content-type": "application/json" }, data: body === undefined ? undefined : JSON.stringify(body) });
  if (!r.ok()) throw new Error(`${method} ${path}: ${r.status()} ${await r.text()}`);
  return r.json();
};
const project = await api("POST", "/api/v1/projects", { name: "Bench", code: "BENCH", fps: "24", width: 1920, height: 1080 });
const seq = await api("POST", `/api/v1/projects/${project.id}/sequences`, { name: "SQ010" });
await api("POST", `/api/v1/sequences/${seq.id}/conform`, { format: "cmx3600", apply: true, edl: "TITLE: B\nFCM: NON-DROP FRAME\n\n001  A001C001 V     C        01:00:00:00 01:00:10:00 01:00:00:00 01:00:10:00\n* FROM CLIP NAME: SH010\n" });
const shot = (await api("GET", `/api/v1/sequences/${seq.id}/shots`)).items[0];
const types = await api("GET", `/api/v1/projects/${project.id}/task-types`);
const task = (await api("POST", "/api/v1/tasks", { tasks: [{ shot_id: shot.id, task_type_id: types.items.find((t) => t.name === "Compositing").id }] })).items[0];
const bytes = readFileSync(process.env.CLIP);
const up = await page.request.fetch(`${base}/files`, { method: "POST", headers: { "x-csrf-token": csrf, "tus-resumable": "1.0.0", "upload-length": String(bytes.length), "upload-metadata": `filename ${Buffer.from("SH010_comp_v001.mov").toString("base64")},project ${Buffer.from(project.id).toString("base64")}`, "content-type": "application/offset+octet-stream" }, data: bytes });
if (up.status() !== 201) throw new Error(`upload: ${up.status()}`);
const file = (await api("GET", `/api/v1/media?project=${project.id}`)).items[0];
const version = await api("POST", `/api/v1/tasks/${task.id}/versions`, { comment: "v1", media: [file.id] });
for (let i = 0; ; i++) {
  if ((await api("GET", `/api/v1/media/${file.id}`)).proxy_hash) break;
  if (i > 1200) throw new Error("no proxy");
  await page.waitForTimeout(100);
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const player = [];
const bare = [];
for (let i = 0; i < runs; i++) {
  const p = await context.newPage();
  const t0 = Date.now();
  await p.goto(`${base}/app/versions/${version.id}/review`);
  await p.waitForSelector("[data-testid=player][data-settled=true]", { timeout: 30000 });
  player.push(Date.now() - t0);
  await p.close();
  const q = await context.newPage();
  await q.goto(`${base}/healthz`);
  bare.push(await q.evaluate((src) => new Promise((resolve) => {
    const t = performance.now();
    const v = document.createElement("video");
    v.preload = "auto";
    v.addEventListener("loadeddata", () => { v.currentTime = 0.5 / 24; }, { once: true });
    v.addEventListener("seeked", () => resolve(performance.now() - t), { once: true });
    v.src = src;
    document.body.append(v);
  }), `/api/v1/media/${file.id}/proxy`));
  await q.close();
}
console.log(`player, first frame of a 1920x1080 proxy (${runs} runs): median ${median(player)} ms (all: ${player.join(", ")})`);
console.log(`bare <video> of the same proxy: median ${median(bare).toFixed(0)} ms (all: ${bare.map((b) => b.toFixed(0)).join(", ")})`);
console.log(`player / bare video: ${(median(player) / median(bare)).toFixed(2)}x`);
await browser.close();
JS
