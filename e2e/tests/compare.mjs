// Comparing two versions in the review player: both show the same production frame (each
// numbered by its own timecode in the shot, read back from bars the frames carry), side by side,
// through a wipe and in A/B, where swapping shows the other picture at once, never a black one.
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
const dir = mkdtempSync(join(tmpdir(), "mstation-e2e-compare-"));
const BITS = 8;

// A clip whose frames carry their index in 8 bars, from the timecode `tc`.
function clip(name, tc) {
  const path = join(dir, name);
  const bars = Array.from({ length: BITS }, (_, b) => `if(eq(floor(X*${BITS}/W),${b}),bitand(N,${1 << b}),0)`).join("+");
  execFileSync("ffmpeg", ["-loglevel", "error", "-y", "-f", "lavfi", "-i", "color=c=black:s=320x180:r=24:d=4",
    "-vf", `format=gray,geq=lum='if(gt(${bars},0),255,40)'`, "-timecode", tc,
    "-c:v", "libx264", "-pix_fmt", "yuv420p", "-g", "24", path]);
  return path;
}

try {
  // v001 starts four frames before the shot's source in, v002 at it: the same production frame
  // is four frames further into v001.
  const v1 = clip("SH010_comp_v001.mov", "01:00:09:20");
  const v2 = clip("SH010_comp_v002.mov", "01:00:10:00");

  const { context, page } = await adminPage(browser, { locale: "en-GB", viewport: { width: 1300, height: 900 } });
  const { api, upload } = await apiOf(page);
  const edl = "TITLE: COMPARE\nFCM: NON-DROP FRAME\n\n001  A001C001 V     C        01:00:10:00 01:00:13:00 01:00:00:00 01:00:03:00\n* FROM CLIP NAME: SH010\n";
  const { project, shot, task } = await shotWithTask(api, "Compare", "CMP", edl);
  const versions = [];
  for (const [path, name] of [[v1, "SH010_comp_v001.mov"], [v2, "SH010_comp_v002.mov"]]) {
    const media = await upload(path, name, project.id);
    versions.push(await api("POST", `/api/v1/tasks/${task.id}/versions`, { comment: name, media: [media.id] }));
  }
  const [older, newer] = versions;

  // The index a video's picture carries, read from its bars.
  const decoded = (id) => page.evaluate(([id, bits]) => {
    const v = document.getElementById(id);
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
  }, [id, BITS]);
  // The index the screen shows where the picture is: a screenshot of it, its bars read (a black
  // picture has none lit, nor the grey of the frames' ground).
  const onScreen = async () => {
    const box = await page.locator("#player-video").boundingBox();
    const png = await page.screenshot({ clip: box });
    return page.evaluate(async ([src, bits]) => {
      const img = new Image();
      img.src = src;
      await img.decode();
      const c = document.createElement("canvas");
      c.width = img.width;
      c.height = img.height;
      const g = c.getContext("2d");
      g.drawImage(img, 0, 0);
      // The picture inside the box (16:9 in whatever box).
      const s = Math.min(c.width / 320, c.height / 180);
      const w = 320 * s;
      const x0 = (c.width - w) / 2;
      const y = Math.floor(c.height / 2);
      let n = 0;
      let ground = 0;
      for (let b = 0; b < bits; b++) {
        const [r] = g.getImageData(Math.floor(x0 + ((b + 0.5) * w) / bits), y, 1, 1).data;
        if (r > 128) n |= 1 << b;
        else if (r > 20) ground += 1;
      }
      return { n, black: n === 0 && ground === 0 };
    }, [`data:image/png;base64,${png.toString("base64")}`, BITS]);
  };
  const settle = () => page.waitForSelector("[data-testid=player][data-settled=true]");
  const wipeAt = (v) => page.evaluate((v) => {
    const r = document.querySelector("[data-testid=compare-wipe-at]");
    r.value = String(v);
    r.dispatchEvent(new Event("input", { bubbles: true }));
  }, v);

  // v002 reviewed, v001 chosen to compare with, from the frame shown.
  await page.goto(`${base}/app/versions/${newer.id}/review`);
  await settle();
  for (let i = 0; i < 3; i++) await page.keyboard.press(".");
  await settle();
  await page.selectOption("[data-testid=compare-with]", older.id);
  await Promise.all([page.waitForURL(new RegExp(`compare=${older.id}`)), page.click("[data-testid=compare-pick] button")]);
  await settle();
  assert.equal(await page.textContent("[data-testid=player-frame]"), String(shot.cut_in + 3), "opened on the frame it was on");
  assert.match(await page.textContent("[data-testid=compare-tag-b]"), /v001/);

  // Side by side, stepping: B is always the same production frame, four frames into its file
  // further than A.
  assert.equal(await decoded("player-video"), 3);
  assert.equal(await decoded("player-video-b"), 7);
  for (let n = 4; n <= 40; n++) {
    await page.keyboard.press(".");
    await settle();
    assert.equal(await decoded("player-video"), n, `A at step ${n}`);
    assert.equal(await decoded("player-video-b"), n + 4, `B at step ${n}`);
  }
  // Played and stopped anywhere: still the same frame.
  await page.keyboard.press("Space");
  await page.waitForTimeout(700);
  await page.keyboard.press("k");
  await settle();
  const a = await decoded("player-video");
  assert.ok(a > 40, "it played");
  assert.equal(await decoded("player-video-b"), a + 4, "B stopped on A's frame");

  // A/B: each swap shows the other picture at once, never a black one.
  await page.keyboard.press("Home");
  await settle();
  for (let i = 0; i < 35; i++) await page.keyboard.press(".");
  await settle();
  await page.check("[data-testid=compare-ab]");
  assert.equal((await onScreen()).n, 35, "A shown");
  for (let i = 0; i < 12; i++) {
    await page.keyboard.press("b");
    const want = i % 2 === 0 ? 39 : 35;
    const seen = await onScreen();
    assert.ok(!seen.black, `a black picture after swap ${i + 1}`);
    assert.equal(seen.n, want, `swap ${i + 1} shows ${want === 39 ? "B" : "A"}`);
  }

  // The wipe: A left of it, B right of it (35 is 0b00100011, 39 0b00100111: the low four bars
  // from A and the high four from B read 0b00100011 | ... = 35 & 15 | 39 & 240).
  await page.check("[data-testid=compare-wipe]");
  await wipeAt(500);
  await page.waitForTimeout(100);
  assert.equal((await onScreen()).n, (35 & 15) | (39 & 240));
  await page.screenshot({ path: join(process.env.SHOTS || dir, "compare-wipe.png") });
  // With the wipe at the left edge, all B.
  await wipeAt(0);
  await page.waitForTimeout(100);
  assert.equal((await onScreen()).n, 39);

  // Where B has no such frame (A's last four are past v001's end), it says so.
  await page.check("[data-testid=compare-side]");
  await page.keyboard.press("End");
  await settle();
  assert.ok(await page.isVisible("[data-testid=compare-none]"), "B has no frame past its end");
  assert.match(await page.textContent("[data-testid=compare-none]"), new RegExp(`no frame ${shot.cut_in + 95}`));
  await page.screenshot({ path: join(process.env.SHOTS || dir, "compare-side.png") });

  // In Chinese.
  const zh = await browser.newContext({ locale: "zh-CN", viewport: { width: 1300, height: 900 }, storageState: await context.storageState() });
  const zhPage = await zh.newPage();
  await zhPage.goto(`${base}/app/versions/${newer.id}/review?compare=${older.id}&frame=${shot.cut_in + 95}`);
  await zhPage.waitForSelector("[data-testid=player][data-settled=true]");
  // The language chosen before (by a test before this one, or a person) wins over the browser's.
  if (await zhPage.isEnabled("button[value=zh-CN]")) {
    await zhPage.click("button[value=zh-CN]");
    await zhPage.waitForLoadState("load");
    await zhPage.waitForSelector("[data-testid=player][data-settled=true]");
  }
  const words = (await zhPage.textContent("[data-testid=compare-pick]")) + (await zhPage.textContent("[data-testid=compare-none]"));
  for (const word of ["对比版本", "并排", "划像", "没有第"]) assert.ok(words.includes(word), `${word} in ${words}`);
  assert.doesNotMatch(words, /Compare|Side|Wipe|has no/);
  await zhPage.screenshot({ path: join(process.env.SHOTS || dir, "compare-zh.png") });
  await zhPage.click("button[value=en]");
  await zhPage.waitForLoadState("load");
  await zh.close();
  await context.close();
  console.log("ok compare: side by side, A/B and wipe on the same production frame; no black frame between A and B");
} finally {
  await browser.close();
  rmSync(dir, { recursive: true, force: true });
}
