// The review player names each frame as the production does and shows that very frame: a clip
// whose frames carry their index as a bar code (made by ffmpeg here) is handed in as a version of
// a shot; in the player, stepping lands on each frame exactly (read back from the picture), the
// frame number and timecode follow the shot's, and a loop, a speed and the keys work.
import { chromium } from "playwright-core";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { adminPage, apiOf, shotWithTask } from "../lib.mjs";

const base = process.env.BASE_URL;
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync", "--autoplay-policy=no-user-gesture-required"],
});
const dir = mkdtempSync(join(tmpdir(), "mstation-e2e-player-"));
const BITS = 8;

try {
  // 120 frames at 24 fps, each with its index in 8 black or white bars, starting at the plate's
  // timecode 01:00:09:20, four frames before the shot's source in (01:00:10:00).
  const clip = join(dir, "SH010_comp_v001.mov");
  const bars = Array.from({ length: BITS }, (_, b) => `if(eq(floor(X*${BITS}/W),${b}),bitand(N,${1 << b}),0)`).join("+");
  execFileSync("ffmpeg", ["-loglevel", "error", "-y", "-f", "lavfi", "-i", "color=c=black:s=320x180:r=24:d=5",
    "-vf", `format=gray,geq=lum='if(gt(${bars},0),255,0)'`, "-timecode", "01:00:09:20",
    "-c:v", "libx264", "-pix_fmt", "yuv420p", "-g", "24", clip]);

  const { context, page } = await adminPage(browser, { locale: "en-GB", viewport: { width: 1200, height: 900 } });
  const { api, upload } = await apiOf(page);
  const edl = "TITLE: FRAMES\nFCM: NON-DROP FRAME\n\n001  A001C001 V     C        01:00:10:00 01:00:14:04 01:00:00:00 01:00:04:04\n* FROM CLIP NAME: SH010\n";
  const { project, shot, task } = await shotWithTask(api, "Frames", "FRM", edl);
  const file = await upload(clip, "SH010_comp_v001.mov", project.id);
  await api("POST", `/api/v1/tasks/${task.id}/versions`, { comment: "Comp v1", media: [file.id] });

  // The task page offers the player; the player opens on the first frame.
  await page.goto(`${base}/app/tasks/${task.id}`);
  await page.click("[data-testid=review-link]");
  await page.waitForURL(/\/review$/);
  await page.waitForSelector("[data-testid=player][data-settled=true]");
  // Its timecode places its first frame four frames before the shot's cut in (a render starting
  // at the first of the head handles would be numbered from cut in − handles).
  assert.ok(shot.head_handles > 4, "the project's handles");
  const first = shot.cut_in - 4;
  assert.equal(await page.textContent("[data-testid=player-frame]"), String(first));
  assert.equal(await page.textContent("[data-testid=player-tc]"), "01:00:09:20");

  // The index the picture on screen carries, read from its bars.
  const shown = () => page.evaluate((bits) => {
    const v = document.getElementById("player-video");
    const c = document.createElement("canvas");
    c.width = v.videoWidth;
    c.height = v.videoHeight;
    const g = c.getContext("2d");
    g.drawImage(v, 0, 0);
    let n = 0;
    for (let b = 0; b < bits; b++) {
      const x = Math.floor(((b + 0.5) * c.width) / bits);
      const [r] = g.getImageData(x, Math.floor(c.height / 2), 1, 1).data;
      if (r > 128) n |= 1 << b;
    }
    return n;
  }, BITS);
  const settle = () => page.waitForSelector("[data-testid=player][data-settled=true]");

  // One hundred steps forward, each landing on its frame, the number and timecode with it.
  for (let n = 1; n <= 100; n++) {
    await page.keyboard.press(".");
    await settle();
    assert.equal(await shown(), n, `step ${n}: the picture shows frame ${n}`);
    assert.equal(await page.textContent("[data-testid=player-frame]"), String(first + n));
  }
  assert.equal(await page.textContent("[data-testid=player-tc]"), "01:00:14:00");
  // Back with the arrow, ten with Shift.
  await page.keyboard.press("ArrowLeft");
  await settle();
  assert.equal(await shown(), 99);
  await page.keyboard.press("Shift+ArrowLeft");
  await settle();
  assert.equal(await shown(), 89);
  assert.equal(await page.textContent("[data-testid=player-frame]"), String(first + 89));
  // Home and End.
  await page.keyboard.press("End");
  await settle();
  assert.equal(await shown(), 119);
  await page.keyboard.press("Home");
  await settle();
  assert.equal(await shown(), 0);

  // A loop from the shot's cut in to 20 frames later, played at half speed: every frame of it,
  // its out included, and none outside.
  for (let i = 0; i < shot.cut_in - first; i++) await page.keyboard.press(".");
  await settle();
  assert.equal(await page.textContent("[data-testid=player-frame]"), String(shot.cut_in));
  await page.keyboard.press("i");
  await page.keyboard.press("Shift+ArrowRight");
  await page.keyboard.press("Shift+ArrowRight");
  await settle();
  await page.keyboard.press("o");
  assert.match(await page.textContent("[data-testid=player-loop]"), new RegExp(`${shot.cut_in}.${shot.cut_in + 20}`));
  await page.selectOption("[data-testid=player-speed]", "0.5");
  await page.keyboard.press("Space");
  const seen = new Set();
  for (let i = 0; i < 90; i++) {
    await page.waitForTimeout(40);
    seen.add(Number(await page.getAttribute("[data-testid=player]", "data-frame")));
  }
  await page.keyboard.press("k");
  await settle();
  for (const f of seen) assert.ok(f >= shot.cut_in && f <= shot.cut_in + 20, `frame ${f} played outside the loop`);
  assert.ok(seen.has(shot.cut_in + 20), `the loop's out was played: ${[...seen].sort()}`);
  assert.ok(seen.size > 10, "it played");
  const paused = Number(await page.getAttribute("[data-testid=player]", "data-index"));
  assert.equal(await shown(), paused, "paused, the picture is the frame named");

  // A note on the frame shown: the player comes back on that frame, the note lists it, and the
  // note's frame, chosen from elsewhere, shows that very picture again.
  await page.keyboard.press("p");
  await page.keyboard.press("Home");
  await settle();
  for (let i = 0; i < 13; i++) await page.keyboard.press(".");
  await settle();
  const noted = first + 13;
  assert.equal(await page.textContent("#player-note-on"), `Note on frame ${noted}`);
  await page.fill("[data-testid=player-note-form] textarea", "Edge flicker on the lantern.");
  await Promise.all([page.waitForURL(new RegExp(`review\\?frame=${noted}$`)), page.click("[data-testid=player-note-form] button")]);
  await settle();
  assert.equal(await page.textContent("[data-testid=player-frame]"), String(noted));
  assert.equal(await shown(), 13);
  const note = page.locator(`[data-note-frame="${noted}"]`);
  assert.match(await note.textContent(), /Edge flicker on the lantern\./);
  await page.keyboard.press("End");
  await settle();
  await note.locator("button").click();
  await settle();
  assert.equal(await shown(), 13, "the note's frame, shown again");

  // A verdict from the player: asking for changes moves the task to its workflow's retake
  // status, with the note on the frame shown, and comes back to that frame.
  await page.fill("[data-testid=player-note-form] textarea", "The lantern's edge flickers here; please fix.");
  await Promise.all([page.waitForURL(new RegExp(`review\\?frame=${noted}$`)), page.click("[data-testid=player-retake]")]);
  await settle();
  assert.match(await page.textContent("[data-testid=task-status]"), /Retake/);
  const onTask = await api("GET", `/api/v1/tasks/${task.id}/notes`);
  const verdict = onTask.items.find((n) => n.body.startsWith("The lantern's edge"));
  assert.equal(verdict.frame, noted, "the verdict's note is on the frame shown");
  assert.match(await page.textContent("[data-testid=player-notes]"), /The lantern's edge flickers here/, "listed in the player");
  // Approved with no words: the verdict alone.
  await Promise.all([page.waitForURL(/review/), page.click("[data-testid=player-approve]")]);
  await settle();
  assert.doesNotMatch(await page.textContent("[data-testid=task-status]"), /Retake/);
  assert.equal(await page.locator("[data-testid=player-approve]").count(), 0, "not offered again");

  // In Chinese.
  await page.click("button[value=zh-CN]");
  await page.waitForLoadState("load");
  await page.waitForSelector("[data-testid=player][data-settled=true]");
  const zh = (await page.textContent("[data-testid=player]")) + (await page.textContent(".player-keys"));
  assert.ok(zh.includes("时间码") && zh.includes("播放"), zh);
  for (const english of ["Frame", "Timecode", "Speed", "Keys", "Loop", "Play"]) {
    assert.ok(!zh.includes(english), `"${english}" on the Chinese page`);
  }
  await page.click("button[value=en]");
  await page.waitForLoadState("load");
  console.log("ok: the player steps 100 frames exactly, names them as the shot does, loops and plays at speed");
} finally {
  rmSync(dir, { recursive: true, force: true });
  await browser.close();
}
