#!/usr/bin/env bash
# A synced review session with FOLLOWERS people: a 1920×1080 H.264 clip whose frames carry their
# index in bars is handed in as a version, put in a playlist and played in a review session on a
# release `serve`. The presenter and FOLLOWERS followers each have a browser context of their own
# (each follower a member signed in for themselves) in one headless Chromium. The presenter
# seeks SEEKS times (a frame, ten frames, back, the ends); after each, every follower's player
# must show the presenter's frame, read back from the picture. Timed from the presenter's key:
# the presenter's own player settled on the frame (the peer: the same seek with no one to tell)
# and each follower's.
#   bench/session.sh [FOLLOWERS, default 10] [SEEKS, default 20]
# BIN=path runs another build of mstation. Needs /usr/bin/chromium and e2e/node_modules.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
FOLLOWERS=${1:-10}
SEEKS=${2:-20}
BIN=${BIN:-$ROOT/target/release/mstation}
[ -x "$BIN" ] || cargo build --release --locked -p mstation
[ -d e2e/node_modules/playwright-core ] || (cd e2e && npm ci --no-audit --no-fund >/dev/null)

WORK=$(mktemp -d /tmp/mstation-session.XXXXXX)
SERVER=""
cleanup() { [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# Each person's browser says its own address through X-Forwarded-For, as ten people on ten
# machines behind a reverse proxy would (the sign-in limit counts per address).
MSTATION_LOG=warn "$BIN" serve --data "$WORK/data" --listen "127.0.0.1:$PORT" --trusted-proxy 127.0.0.1/32 >"$WORK/serve.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
PASSWORD=$(sed -n 's/^ *password: *//p' "$WORK/serve.log" | head -1)
BARS=$(for b in $(seq 0 7); do printf 'if(eq(floor(X*8/W),%d),bitand(N,%d),0)+' "$b" $((1 << b)); done)
ffmpeg -loglevel error -y -f lavfi -i "color=c=black:s=1920x1080:r=24:d=10" \
  -vf "format=gray,geq=lum='if(gt(${BARS%+},0),255,40)'" -timecode 01:00:00:00 \
  -c:v libx264 -preset veryfast -pix_fmt yuv420p -g 24 "$WORK/comp.mov"

cd e2e
BASE_URL="http://127.0.0.1:$PORT" ADMIN_EMAIL=admin@m-station.local ADMIN_PASSWORD="$PASSWORD" \
  CLIP="$WORK/comp.mov" FOLLOWERS="$FOLLOWERS" SEEKS="$SEEKS" node --input-type=module <<'JS'
import { chromium } from "playwright-core";
import { adminPage, apiOf, memberPage, shotWithTask } from "./lib.mjs";
const base = process.env.BASE_URL;
const followers = Number(process.env.FOLLOWERS);
const seeks = Number(process.env.SEEKS);
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"],
});
const view = { viewport: { width: 1280, height: 900 } };
const { page: host } = await adminPage(browser, view);
const { api, upload } = await apiOf(host);
const edl = "TITLE: B\nFCM: NON-DROP FRAME\n\n001  A001C001 V     C        01:00:00:00 01:00:10:00 01:00:00:00 01:00:10:00\n* FROM CLIP NAME: SH010\n";
const { project, task } = await shotWithTask(api, "Session bench", "SESB", edl);
const media = await upload(process.env.CLIP, "SH010_comp_v001.mov", project.id);
const version = await api("POST", `/api/v1/tasks/${task.id}/versions`, { comment: "bench", media: [media.id] });
const playlist = await api("POST", `/api/v1/projects/${project.id}/playlists`, { name: "Bench", items: [version.id] });
const session = await api("POST", `/api/v1/playlists/${playlist.id}/sessions`, {});
const url = `${base}/app/review-sessions/${session.id}`;

const settledOn = (page, frame) =>
  page.waitForFunction((f) => {
    const s = document.getElementById("player-stage");
    return s.dataset.frame === String(f) && s.dataset.settled === "true";
  }, frame, { timeout: 10000, polling: "raf" });
// The index the picture carries, read from its bars.
const decoded = (page) => page.evaluate(() => {
  const v = document.getElementById("player-video");
  const c = document.createElement("canvas");
  c.width = v.videoWidth / 8;
  c.height = v.videoHeight / 8;
  const g = c.getContext("2d");
  g.drawImage(v, 0, 0, c.width, c.height);
  let n = 0;
  for (let b = 0; b < 8; b++) if (g.getImageData(Math.floor(((b + 0.5) * c.width) / 8), Math.floor(c.height / 2), 1, 1).data[0] > 128) n |= 1 << b;
  return n;
});
// Stamps when each frame was first asked of the player (the move reached it) and first settled
// on (its picture decoded and shown), in the page's clock (Date.now: one machine).
const stamp = (page) => page.evaluate(() => {
  window.shownAt = {};
  window.askedAt = {};
  const stage = document.getElementById("player-stage");
  new MutationObserver(() => {
    const f = stage.dataset.frame;
    if (!(f in window.askedAt)) window.askedAt[f] = Date.now();
    if (stage.dataset.settled === "true" && !(f in window.shownAt)) window.shownAt[f] = Date.now();
  }).observe(stage, { attributes: true, attributeFilter: ["data-frame", "data-settled"] });
});

await host.goto(url);
await host.waitForFunction(() => document.getElementById("player-stage")?.dataset.settled === "true");
const first = Number(await host.locator("#player-stage").getAttribute("data-frame"));
const people = [];
for (let i = 0; i < followers; i++) {
  const p = await memberPage(browser, api, `follower${i}@bench.test`, "supervisor", { ...view, extraHTTPHeaders: { "x-forwarded-for": `10.9.0.${i + 1}` } });
  await p.goto(url);
  await settledOn(p, first);
  people.push(p);
}
for (const p of [host, ...people]) await stamp(p);

const keys = [".", "Shift+.", ".", ",", "Shift+.", "End", "Home", "Shift+.", "Shift+.", ","];
const own = [];
const theirs = [];
const reached = [];
let agreed = 0;
let frame = first;
for (let i = 0; i < seeks; i++) {
  const key = keys[i % keys.length];
  for (const p of [host, ...people]) await p.evaluate(() => ((window.shownAt = {}), (window.askedAt = {})));
  const t0 = await host.evaluate(() => Date.now());
  await host.keyboard.press(key);
  await host.waitForFunction(() => document.getElementById("player-stage").dataset.settled === "true", null, { polling: "raf" });
  frame = Number(await host.locator("#player-stage").getAttribute("data-frame"));
  own.push((await host.evaluate((f) => window.shownAt[String(f)], frame)) - t0);
  for (const p of people) {
    await settledOn(p, frame);
    theirs.push((await p.evaluate((f) => window.shownAt[String(f)], frame)) - t0);
    reached.push((await p.evaluate((f) => window.askedAt[String(f)], frame)) - t0);
    if ((await decoded(p)) === frame - first) agreed += 1;
  }
}
const sorted = (a) => [...a].sort((x, y) => x - y);
const q = (a, f) => sorted(a)[Math.min(a.length - 1, Math.floor(f * a.length))];
const line = (name, a) => `| ${name} | ${q(a, 0.5)} ms | ${q(a, 0.95)} ms | ${Math.max(...a)} ms |`;
console.log(`followers: ${followers}, seeks: ${seeks}`);
console.log("| line | median | p95 | max |\n|---|---|---|---|");
console.log(line("presenter's own player settled (no one told)", own));
console.log(line(`the move reached each of ${followers} followers' players`, reached));
console.log(line(`each of ${followers} followers settled on the presenter's frame`, theirs));
console.log(`| follower / presenter (median) | ${(q(theirs, 0.5) / Math.max(1, q(own, 0.5))).toFixed(2)}x | | |`);
console.log(`frames agreeing, read from the pictures: ${agreed} of ${followers * seeks}`);
await browser.close();
if (agreed !== followers * seeks) process.exit(1);
JS
