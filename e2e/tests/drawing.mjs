// Drawings in the review player are vectors on the picture: a box, an arrow and a text drawn on
// a frame in a wide window stay on the same part of the picture in a narrow, tall one and in
// full screen, show on their frame only (or through a note's range), and shapes that are not
// shapes are refused with 422. The tools speak Chinese on a Chinese page.
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
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"],
});
const dir = mkdtempSync(join(tmpdir(), "mstation-e2e-drawing-"));

// Where the picture is on screen: the video's box, less the bars around a picture of another
// aspect (measured here, not by the page's own code).
const picture = (page) =>
  page.evaluate(() => {
    const v = document.getElementById("player-video");
    const r = v.getBoundingClientRect();
    const s = Math.min(r.width / v.videoWidth, r.height / v.videoHeight);
    const w = v.videoWidth * s;
    const h = v.videoHeight * s;
    return { x: r.left + (r.width - w) / 2, y: r.top + (r.height - h) / 2, w, h };
  });

// The box and the ellipse of the drawings shown, as fractions of the picture.
const shapesOnPicture = (page) =>
  page.evaluate(() => {
    const v = document.getElementById("player-video");
    const r = v.getBoundingClientRect();
    const s = Math.min(r.width / v.videoWidth, r.height / v.videoHeight);
    const w = v.videoWidth * s;
    const h = v.videoHeight * s;
    const px = r.left + (r.width - w) / 2;
    const py = r.top + (r.height - h) / 2;
    const rel = (el) => {
      const b = el.getBoundingClientRect();
      return [(b.left - px) / w, (b.top - py) / h, b.width / w, b.height / h];
    };
    const saved = document.querySelector("#player-draw [data-layer=saved]");
    return {
      rect: [...saved.querySelectorAll("rect")].map(rel),
      ellipse: [...saved.querySelectorAll("ellipse")].map(rel),
      text: [...saved.querySelectorAll("text")].map((t) => t.textContent),
      arrows: saved.querySelectorAll("[data-kind=arrow]").length,
    };
  });

const near = (got, want, what) => {
  for (let i = 0; i < want.length; i++) {
    assert.ok(Math.abs(got[i] - want[i]) < 0.01, `${what}: ${JSON.stringify(got)} is not ${JSON.stringify(want)}`);
  }
};

try {
  // A 4:3 picture, so that every window letterboxes it one way or the other.
  const clip = join(dir, "SH010_comp_v001.mov");
  execFileSync("ffmpeg", ["-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=640x480:r=24:d=3",
    "-c:v", "libx264", "-pix_fmt", "yuv420p", "-g", "24", clip]);

  const { context, page } = await adminPage(browser, { locale: "en-GB", viewport: { width: 1400, height: 900 } });
  const { csrf, api, upload } = await apiOf(page);
  const call = (method, path, body) =>
    page.request.fetch(`${base}${path}`, {
      method,
      headers: { "x-csrf-token": csrf, "content-type": "application/json" },
      data: body === undefined ? undefined : JSON.stringify(body),
    });
  const edl = "TITLE: DRAWINGS\nFCM: NON-DROP FRAME\n\n001  A001C001 V     C        01:00:10:00 01:00:12:00 01:00:00:00 01:00:02:00\n* FROM CLIP NAME: SH010\n";
  const { project, task } = await shotWithTask(api, "Drawings", "DRW", edl);
  const media = await upload(clip, "SH010_comp_v001.mov", project.id);
  const version = await api("POST", `/api/v1/tasks/${task.id}/versions`, { comment: "Comp v1", media: [media.id] });

  const review = `${base}/app/versions/${version.id}/review`;
  const settle = () => page.waitForSelector("[data-testid=player][data-settled=true]");
  await page.goto(review);
  await settle();
  for (let i = 0; i < 10; i++) await page.keyboard.press(".");
  await settle();
  const drawnOn = Number(await page.textContent("[data-testid=player-frame]"));

  // A box from 20% to 60% across and 25% to 55% down, in green; a red arrow; a text.
  const at = async (fx, fy) => {
    const p = await picture(page);
    return [p.x + fx * p.w, p.y + fy * p.h];
  };
  const drag = async (from, to) => {
    const [x0, y0] = await at(...from);
    const [x1, y1] = await at(...to);
    await page.mouse.move(x0, y0);
    await page.mouse.down();
    await page.mouse.move((x0 + x1) / 2, (y0 + y1) / 2, { steps: 4 });
    await page.mouse.move(x1, y1, { steps: 4 });
    await page.mouse.up();
  };
  await page.click("[data-tool=rect]");
  await page.click("[data-colour='#34c759']");
  await drag([0.2, 0.25], [0.6, 0.55]);
  await page.click("[data-tool=ellipse]");
  await drag([0.65, 0.1], [0.9, 0.3]);
  await page.click("[data-colour='#ff3b30']");
  await page.click("[data-tool=arrow]");
  await drag([0.9, 0.9], [0.62, 0.58]);
  // A slip of the pointer draws nothing.
  await drag([0.5, 0.5], [0.5, 0.501]);
  await page.click("[data-tool=text]");
  const [tx, ty] = await at(0.05, 0.85);
  await page.mouse.click(tx, ty);
  await page.fill("[data-testid=draw-text]", "Roto edge chatters");
  await page.keyboard.press("Enter");
  await page.keyboard.press("Escape");
  assert.equal(await page.getAttribute("[data-tool=text]", "aria-pressed"), "false", "Escape puts the tool down");

  const sent = JSON.parse(await page.inputValue("#player-note-drawing"));
  assert.deepEqual(sent.map((s) => s.kind), ["rect", "ellipse", "arrow", "text"]);
  assert.equal(sent[0].color, "#34c759");
  near([...sent[0].from, ...sent[0].to], [0.2, 0.25, 0.6, 0.55], "the box as sent");
  assert.equal(await page.inputValue("#player-note-frame"), String(drawnOn));
  assert.ok(await page.isVisible("[data-testid=player-note-drawn]"), "the form says a drawing goes with the note");

  // Stepping away hides the drawing being made; the note stays on the frame drawn on.
  await page.keyboard.press(".");
  await settle();
  assert.equal(await page.evaluate(() => document.querySelector("[data-layer=draft]").style.display), "none");
  assert.equal(await page.inputValue("#player-note-frame"), String(drawnOn));
  await page.keyboard.press(",");
  await settle();

  await page.fill("[data-testid=player-note-form] textarea", "The roto edge chatters here.");
  await Promise.all([page.waitForURL(new RegExp(`review\\?frame=${drawnOn}$`)), page.click("[data-testid=player-note-form] button.primary")]);
  await settle();
  await page.waitForFunction(() => document.getElementById("player-draw").dataset.marks === "1");
  const wide = await shapesOnPicture(page);
  near(wide.rect[0], [0.2, 0.25, 0.4, 0.3], "the box in a wide window");
  near(wide.ellipse[0], [0.65, 0.1, 0.25, 0.2], "the ellipse in a wide window");
  assert.deepEqual(wide.text, ["Roto edge chatters"]);
  assert.equal(wide.arrows, 1);
  assert.equal(await page.locator("[data-testid=note-drawn]").count(), 1, "the note is marked as drawn");

  // Stored as sent, on its frame.
  const notes = (await api("GET", `/api/v1/versions/${version.id}/notes`)).items;
  assert.equal(notes.length, 1);
  assert.equal(notes[0].frame, drawnOn);
  assert.deepEqual(notes[0].drawing.map((s) => s.kind), ["rect", "ellipse", "arrow", "text"]);

  // Only on its frame.
  await page.keyboard.press(".");
  await settle();
  assert.equal(await page.evaluate(() => document.getElementById("player-draw").dataset.marks), "0");
  await page.keyboard.press(",");
  await settle();

  // A narrow, tall window letterboxes the picture the other way: the shapes are where they were
  // on the picture.
  const tall = await browser.newContext({ locale: "en-GB", viewport: { width: 620, height: 1000 }, storageState: await context.storageState() });
  const narrow = await tall.newPage();
  await narrow.goto(`${review}?frame=${drawnOn}`);
  await narrow.waitForSelector("[data-testid=player][data-settled=true]");
  await narrow.waitForFunction(() => document.getElementById("player-draw").dataset.marks === "1");
  const small = await shapesOnPicture(narrow);
  near(small.rect[0], [0.2, 0.25, 0.4, 0.3], "the box in a narrow window");
  near(small.ellipse[0], [0.65, 0.1, 0.25, 0.2], "the ellipse in a narrow window");
  await narrow.screenshot({ path: join(process.env.SHOTS || dir, "drawing-narrow.png") });
  // And in full screen.
  await narrow.keyboard.press("f");
  await narrow.waitForFunction(() => document.fullscreenElement !== null);
  await narrow.waitForTimeout(300);
  near((await shapesOnPicture(narrow)).rect[0], [0.2, 0.25, 0.4, 0.3], "the box in full screen");
  await tall.close();

  // A note on a range: the loop's frames, its drawing shown through them.
  await page.keyboard.press("i");
  for (let i = 0; i < 5; i++) await page.keyboard.press(".");
  await settle();
  await page.keyboard.press("o");
  await page.click("[data-tool=pen]");
  await drag([0.1, 0.1], [0.3, 0.2]);
  await page.keyboard.press("Escape");
  await page.check("[data-testid=player-note-range]");
  assert.equal(await page.textContent("#player-note-on"), `Note on frames ${drawnOn}–${drawnOn + 5}`);
  await page.fill("[data-testid=player-note-form] textarea", "Hold this through the move.");
  await Promise.all([page.waitForURL(new RegExp(`review\\?frame=${drawnOn}$`)), page.click("[data-testid=player-note-form] button.primary")]);
  await settle();
  const ranged = (await api("GET", `/api/v1/versions/${version.id}/notes`)).items.find((n) => n.frame_out !== null);
  assert.equal(ranged.frame, drawnOn);
  assert.equal(ranged.frame_out, drawnOn + 5);
  assert.equal(ranged.drawing[0].kind, "pen");
  assert.match(await page.textContent("[data-testid=player-notes]"), new RegExp(`Frames ${drawnOn}–${drawnOn + 5}`));
  for (let i = 0; i < 5; i++) await page.keyboard.press(".");
  await settle();
  assert.equal(await page.evaluate(() => document.getElementById("player-draw").dataset.marks), "1", "the range's last frame");
  await page.keyboard.press(".");
  await settle();
  assert.equal(await page.evaluate(() => document.getElementById("player-draw").dataset.marks), "0", "after the range");

  // Shapes that are not shapes: refused with 422, naming the shape.
  const bad = async (drawing, frame, field) => {
    const r = await call("POST", `/api/v1/versions/${version.id}/notes`, { body: "x", frame, drawing });
    assert.equal(r.status(), 422, JSON.stringify(drawing));
    assert.match(r.headers()["content-type"], /application\/problem\+json/);
    if (field) assert.equal((await r.json()).field, field);
  };
  const box = { kind: "rect", color: "#ffffff", width: 0.004, from: [0.1, 0.1], to: [0.2, 0.2] };
  await bad([box, { ...box, to: [1.5, 0.2] }], drawnOn, "drawing[1]");
  await bad([box, { ...box, color: "white" }], drawnOn, "drawing[1]");
  await bad([{ ...box, to: [0.1, 0.3] }], drawnOn, "drawing[0]");
  await bad([], drawnOn, "drawing[0]");
  await bad([box], null, "drawing");
  await bad([{ kind: "star", color: "#ffffff" }], drawnOn);
  await bad([{ ...box, from: [0.1] }], drawnOn);
  assert.equal((await api("GET", `/api/v1/versions/${version.id}/notes`)).items.length, 2, "nothing refused was kept");

  // In Chinese, the tools are named in Chinese.
  const zh = await browser.newContext({ locale: "zh-CN", viewport: { width: 1400, height: 900 }, storageState: await context.storageState() });
  const zhPage = await zh.newPage();
  await zhPage.goto(`${review}?frame=${drawnOn}`);
  await zhPage.waitForSelector("[data-testid=player][data-settled=true]");
  // The language chosen before (by a test before this one, or a person) wins over the browser's.
  if (await zhPage.isEnabled("button[value=zh-CN]")) {
    await zhPage.click("button[value=zh-CN]");
    await zhPage.waitForLoadState("load");
    await zhPage.waitForSelector("[data-testid=player][data-settled=true]");
  }
  const bar = await zhPage.textContent("[data-testid=draw-tools]");
  for (const word of ["画笔", "箭头", "方框", "椭圆", "文字", "撤销", "清除"]) assert.ok(bar.includes(word), `${word} in ${bar}`);
  assert.doesNotMatch(bar, /Pen|Arrow|Undo/);
  await zhPage.screenshot({ path: join(process.env.SHOTS || dir, "drawing-zh.png") });
  await zhPage.click("button[value=en]");
  await zhPage.waitForLoadState("load");
  await zh.close();
  await context.close();
  console.log("ok drawing: shapes stay on the picture at two window sizes and in full screen, on their frames; bad shapes refused");
} finally {
  await browser.close();
  rmSync(dir, { recursive: true, force: true });
}
