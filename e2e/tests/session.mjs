// A review session: a playlist played together. The presenter steps, plays, pauses and draws;
// a follower's player shows the same production frame (read back from bars its frames carry)
// within 200 ms each time; one who joins late, or reloads, is where the presenter is at once,
// drawing included. A follower's note comes back to the session and into its log; moving to
// the next item, taking over presenting and ending reach everyone. The session's bar speaks
// Chinese on a Chinese page.
import { chromium } from "playwright-core";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { adminPage, apiOf, memberPage, shotWithTask } from "../lib.mjs";

const base = process.env.BASE_URL;
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync", "--autoplay-policy=no-user-gesture-required"],
});
const dir = mkdtempSync(join(tmpdir(), "mstation-e2e-session-"));
const BITS = 8;

// A clip whose frames carry their index in 8 bars.
function clip(name, tc) {
  const path = join(dir, name);
  const bars = Array.from({ length: BITS }, (_, b) => `if(eq(floor(X*${BITS}/W),${b}),bitand(N,${1 << b}),0)`).join("+");
  execFileSync("ffmpeg", ["-loglevel", "error", "-y", "-f", "lavfi", "-i", "color=c=black:s=320x180:r=24:d=4",
    "-vf", `format=gray,geq=lum='if(gt(${bars},0),255,40)'`, "-timecode", tc,
    "-c:v", "libx264", "-pix_fmt", "yuv420p", "-g", "24", path]);
  return path;
}

// The index the player's picture carries.
const decoded = (page) => page.evaluate((bits) => {
  const v = document.getElementById("player-video");
  const c = document.createElement("canvas");
  c.width = v.videoWidth;
  c.height = v.videoHeight;
  const g = c.getContext("2d");
  g.drawImage(v, 0, 0);
  let n = 0;
  for (let b = 0; b < bits; b++) {
    const [r] = g.getImageData(Math.floor(((b + 0.5) * c.width) / bits), Math.floor(c.height / 2), 1, 1).data;
    if (r > 128) n |= 1 << b;
  }
  return n;
}, BITS);

// Stamps, in a follower's page, when each production frame was first shown and settled.
const watch = (page) => page.evaluate(() => {
  window.shownAt = {};
  const stage = document.getElementById("player-stage");
  const note = () => {
    if (stage.dataset.settled === "true" && !(stage.dataset.frame in window.shownAt)) window.shownAt[stage.dataset.frame] = Date.now();
  };
  new MutationObserver(note).observe(stage, { attributes: true, attributeFilter: ["data-frame", "data-settled"] });
  note();
});
const frameOf = (page) => page.locator("[data-testid=player]").getAttribute("data-frame");
const settled = (page, frame) =>
  page
    .waitForFunction((f) => {
      const s = document.getElementById("player-stage");
      return s.dataset.frame === String(f) && s.dataset.settled === "true";
    }, frame, { timeout: 5000 })
    .catch(async (e) => {
      const s = await page.evaluate(() => ({ ...document.getElementById("player-stage")?.dataset, url: location.href, live: document.getElementById("session-live")?.textContent }));
      throw new Error(`not settled on ${frame}: ${JSON.stringify(s)}: ${e.message}`);
    });

try {
  const v1 = clip("SH010_comp_v001.mov", "01:00:10:00");
  const v2 = clip("SH010_comp_v002.mov", "01:00:10:00");
  const { context, page: host } = await adminPage(browser, { locale: "en-GB", viewport: { width: 1300, height: 950 } });
  const { api, upload } = await apiOf(host);
  const edl = "TITLE: SESSION\nFCM: NON-DROP FRAME\n\n001  A001C001 V     C        01:00:10:00 01:00:13:00 01:00:00:00 01:00:03:00\n* FROM CLIP NAME: SH010\n";
  const { project, task } = await shotWithTask(api, "Session", "SES", edl);
  const versions = [];
  for (const [path, name] of [[v1, "SH010_comp_v001.mov"], [v2, "SH010_comp_v002.mov"]]) {
    const media = await upload(path, name, project.id);
    versions.push(await api("POST", `/api/v1/tasks/${task.id}/versions`, { comment: name, media: [media.id] }));
  }
  const playlist = await api("POST", `/api/v1/projects/${project.id}/playlists`, { name: "Dailies 6 Dec", items: versions.map((v) => v.id) });

  // The presenter starts it from the playlist's page.
  await host.goto(`${base}/app/playlists/${playlist.id}`);
  await host.click("[data-testid=start-session] button");
  await host.waitForURL(/\/app\/review-sessions\//);
  const sessionUrl = host.url();
  assert.equal(await host.locator("#session-bar").getAttribute("data-presenting"), "true");
  // The session opens on the first version's first frame, as the production numbers it.
  await host.waitForFunction(() => document.getElementById("player-stage").dataset.settled === "true");
  const F = Number(await frameOf(host));
  assert.equal(await decoded(host), 0);

  // A supervisor follows from the playlist's page.
  const sup = await memberPage(browser, api, "sup.session@m-station.test", "supervisor");
  await sup.goto(`${base}/app/playlists/${playlist.id}`);
  await sup.click("[data-testid=session-link]");
  await sup.waitForURL(sessionUrl);
  await settled(sup, F);
  assert.equal(await sup.locator("#player-stage").getAttribute("data-following"), "true");
  assert.ok(await sup.locator("#player-play").isDisabled(), "a follower's transport is the presenter's");
  await sup.waitForFunction(() => document.getElementById("session-live").textContent.length > 0);
  await watch(sup);

  // Each step reaches the follower, on the same picture, within 200 ms.
  const took = [];
  for (const [key, frame] of [[".", F + 1], [".", F + 2], ["Shift+.", F + 12], [",", F + 11], ["End", F + 95], ["Home", F], ["Shift+.", F + 10]]) {
    const t0 = await host.evaluate(() => Date.now());
    await host.keyboard.press(key);
    await settled(host, frame);
    await settled(sup, frame);
    const at = await sup.evaluate((f) => window.shownAt[String(f)], frame);
    took.push(at - t0);
    assert.equal(await decoded(sup), frame - F, `the follower's picture is frame ${frame}`);
    await sup.evaluate(() => (window.shownAt = {}));
  }
  console.log(`presenter's steps reached the follower in ${took.join(", ")} ms`);
  assert.ok(took.every((t) => t <= 200), `each move within 200 ms: ${took}`);

  // Play, then pause: the follower plays, and stops on the presenter's frame.
  await host.keyboard.press("Space");
  await sup.waitForFunction(() => !document.getElementById("player-video").paused, null, { timeout: 2000 });
  await host.waitForTimeout(700);
  await host.keyboard.press("Space");
  await host.waitForFunction(() => document.getElementById("player-stage").dataset.settled === "true");
  const stopped = Number(await frameOf(host));
  assert.ok(stopped > F + 10, `played on to ${stopped}`);
  await settled(sup, stopped);
  assert.equal(await decoded(sup), stopped - F);

  // A drawing on the paused frame reaches the follower.
  await host.click("[data-tool=rect]");
  await host.locator("#player-draw").scrollIntoViewIfNeeded();
  const box = await host.locator("#player-draw").boundingBox();
  await host.mouse.move(box.x + box.width * 0.2, box.y + box.height * 0.2);
  await host.mouse.down();
  await host.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.6, { steps: 4 });
  await host.mouse.up();
  await sup.waitForFunction(() => document.getElementById("player-draw").dataset.live === "1", null, { timeout: 1000 });
  // The presenter keeps it as a note; back in the session, which stays where it was.
  await host.fill("#player-note-body", "Box the sign");
  await host.click("[data-testid=player-note-form] button.primary");
  await host.waitForURL(sessionUrl);
  await settled(host, stopped);

  // For a person to look at: SESSION_SCREENS names a folder.
  if (process.env.SESSION_SCREENS) {
    await host.screenshot({ path: join(process.env.SESSION_SCREENS, "session-presenter.png"), fullPage: true });
    await sup.screenshot({ path: join(process.env.SESSION_SCREENS, "session-follower.png"), fullPage: true });
  }

  // One who joins late is there at once: the frame, the picture and the drawing.
  const client = await memberPage(browser, api, "client.session@m-station.test", "client");
  await client.goto(sessionUrl);
  await settled(client, stopped);
  assert.equal(await decoded(client), stopped - F);
  await client.waitForFunction(() => document.getElementById("player-draw").dataset.live === "1", null, { timeout: 2000 });
  // So is one who reloads.
  await sup.reload();
  await settled(sup, stopped);
  await sup.waitForFunction(() => document.getElementById("player-draw").dataset.live === "1", null, { timeout: 2000 });

  // The late joiner's note: on the session's frame, back in the session, in its log.
  await client.fill("#player-note-body", "The sky is too warm here");
  await client.click("[data-testid=player-note-form] button.primary");
  await client.waitForURL(sessionUrl);
  await settled(client, stopped);

  // A note refused (nothing written) is said in the session's player; the session goes on.
  await client.evaluate(() => {
    document.getElementById("player-note-body").value = "";
    document.querySelector("[data-testid=player-note-form]").submit();
  });
  await client.waitForSelector(".flash.error");
  assert.ok(await client.locator("#session-bar").isVisible(), "refused inside the session's page");

  // The presenter loops and plays, then reloads: the session plays on, loop and all.
  const id = sessionUrl.split("/").pop();
  await host.keyboard.press("i");
  await host.keyboard.press("Shift+.");
  await host.keyboard.press("Shift+.");
  await host.keyboard.press("o");
  await host.keyboard.press("Space");
  await sup.waitForFunction(() => !document.getElementById("player-video").paused, null, { timeout: 2000 });
  await host.reload();
  await host.waitForFunction(() => !document.getElementById("player-video").paused, null, { timeout: 5000 });
  await host.waitForTimeout(500);
  const after = await api("GET", `/api/v1/review-sessions/${id}`);
  assert.equal(after.playhead.playing, true, "a presenter's reload does not stop the session");
  assert.deepEqual(after.playhead.loop_frames, [stopped, stopped + 20]);
  assert.ok(!(await sup.evaluate(() => document.getElementById("player-video").paused)), "the follower plays on");
  const looped = Number(await frameOf(sup));
  assert.ok(looped >= stopped && looped <= stopped + 20, `the follower plays within the loop: ${looped}`);
  await host.keyboard.press("Space");
  await host.waitForFunction(() => document.getElementById("player-stage").dataset.settled === "true");
  await settled(sup, Number(await frameOf(host)));

  // The next item, for everyone.
  await host.locator("[data-testid=session-item]").nth(1).click();
  for (const p of [host, sup, client]) {
    await p.waitForFunction(() => document.querySelector("h1").textContent.includes("v002"), null, { timeout: 5000 });
    await settled(p, F);
  }

  // The supervisor takes over; the host now follows; the host ends the session (they started it).
  await sup.click("[data-testid=session-take-over]");
  await sup.waitForFunction(() => document.getElementById("session-bar").dataset.presenting === "true");
  await host.waitForFunction(() => document.getElementById("player-stage")?.dataset.following === "true", null, { timeout: 5000 });
  await watch(host);
  // The new presenter's page reloaded: its player takes keys once it shows where the session is.
  await settled(sup, F);
  await sup.keyboard.press("Shift+.");
  await settled(host, F + 10);
  await host.click("[data-testid=session-end]");
  for (const p of [host, sup, client]) {
    await p.waitForFunction(() => document.getElementById("session-bar").dataset.ended === "true", null, { timeout: 5000 });
  }

  // The log: who joined, what was played, the note on its frame.
  const log = await api("GET", `/api/v1/review-sessions/${id}/log`);
  const kinds = log.events.map((e) => e.kind);
  for (const k of ["started", "joined", "seek", "play", "pause", "loop", "drawing", "note", "item", "presenter", "ended"]) {
    assert.ok(kinds.includes(k), `the log has ${k}: ${kinds}`);
  }
  const note = log.events.find((e) => e.kind === "note" && e.detail.startsWith("The sky"));
  assert.equal(note.frame, stopped);
  assert.equal(note.detail, "The sky is too warm here");
  const csv = await (await host.request.get(`${base}/api/v1/review-sessions/${id}/log?format=csv`)).text();
  assert.ok(csv.includes(`note,1,SQ010_0010 · Compositing v001,${stopped},,The sky is too warm here`), csv);

  // The report: each note beside its frame, painted from the proxy, the drawing over it.
  await host.goto(`${sessionUrl}/report`);
  await host.waitForFunction(() => document.body.dataset.reportPainted === "true", null, { timeout: 10000 });
  const reported = host.locator("[data-testid=report-note]");
  assert.equal(await reported.count(), 2);
  const boxed = reported.filter({ hasText: "Box the sign" });
  assert.equal(await boxed.locator("figure").getAttribute("data-painted"), "true");
  assert.equal(await boxed.locator("svg rect").count(), 1, "the drawing is over the frame");
  assert.ok((await reported.filter({ hasText: "The sky is too warm here" }).innerText()).includes(`Frame ${stopped}`));
  assert.ok((await host.locator("[data-testid=report-participants]").innerText()).includes("client.session"));
  if (process.env.SESSION_SCREENS) await host.screenshot({ path: join(process.env.SESSION_SCREENS, "session-report.png"), fullPage: true });

  // In Chinese, the bar says it all in Chinese.
  const zh = client.locator("button[value=zh-CN]");
  if (await zh.isEnabled()) {
    await zh.click();
    await client.waitForLoadState();
  }
  const bar = await client.locator("#session-bar").innerText();
  if (process.env.SESSION_SCREENS) await client.screenshot({ path: join(process.env.SESSION_SCREENS, "session-zh.png"), fullPage: true });
  assert.ok(bar.includes("审看会") && bar.includes("已结束"), bar);
  assert.ok(!/Review session|Ended|Download|session-/.test(bar), `English or a key on the Chinese page: ${bar}`);
  await client.goto(`${sessionUrl}/report`);
  await client.waitForFunction(() => document.body.dataset.reportPainted === "true", null, { timeout: 10000 });
  const report = await client.locator("main").innerText();
  assert.ok(report.includes("审看会报告") && report.includes("写了备注"), report);
  assert.ok(!/Review session|Notes|Took part|wrote a note|session-/.test(report), `English or a key on the Chinese report: ${report}`);
  await client.locator("button[value=en]").click();
  await context.close();
  console.log("review session: ok");
} finally {
  await browser.close();
  rmSync(dir, { recursive: true, force: true });
}
