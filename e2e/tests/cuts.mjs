// A reference movie's cuts, from the media page: found on the job queue (two hard cuts and a
// dissolve, made here by ffmpeg), each shown with a frame on either side of it, and a sequence
// conformed to them through its import's preview: one shot per change, frame for frame.
import { chromium } from "playwright-core";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { adminPage, apiOf } from "../lib.mjs";

const base = process.env.BASE_URL;
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"],
});
const dir = mkdtempSync(join(tmpdir(), "mstation-e2e-cuts-"));

try {
  // Three shots of 24 frames, the third dissolving over 12 frames from frame 60 into a fourth:
  // changes at 24, 48 and 66, 96 frames from 01:00:00:00.
  const movie = join(dir, "REF_v001.mov");
  const shot = (src, label, frames) => `${src}=s=320x180:r=24,format=yuv420p,trim=end_frame=${frames},setpts=PTS-STARTPTS,settb=1/24[${label}]`;
  const graph = [shot("testsrc2", "a", 24), shot("smptebars", "b", 24), shot("testsrc", "c", 24), shot("mandelbrot", "d", 36),
    "[a][b][c]concat=n=3:v=1:a=0,settb=1/24[abc]", "[abc][d]xfade=transition=fade:duration=0.5:offset=2.5[out]"].join(";");
  execFileSync("ffmpeg", ["-loglevel", "error", "-y", "-filter_complex", graph, "-map", "[out]",
    "-c:v", "libx264", "-pix_fmt", "yuv420p", "-timecode", "01:00:00:00", movie]);

  const { context, page } = await adminPage(browser, { locale: "en-GB", viewport: { width: 1280, height: 900 } });
  const { api, upload } = await apiOf(page);
  const project = await api("POST", "/api/v1/projects", { name: "Reference", code: "REFC", fps: "24", width: 1920, height: 1080 });
  const seq = await api("POST", `/api/v1/projects/${project.id}/sequences`, { name: "SQ010" });
  const file = await upload(movie, "REF_v001.mov", project.id);

  // From the media page, to the movie's cuts, found on asking.
  await page.goto(`${base}/app/projects/${project.id}/media`);
  await page.click("[data-testid=file-cuts]");
  await page.waitForURL(new RegExp(`/app/media/${file.id}/cuts$`));
  assert.ok(await page.isVisible("[data-testid=cuts-none-yet]"));
  await page.click("[data-testid=cuts-find]");
  await page.waitForSelector("[data-testid=cuts-found]", { timeout: 60_000 });
  const rows = await page.$$eval("[data-testid=cuts] tbody tr", (trs) => trs.map((t) => [Number(t.dataset.frame), t.children[2].textContent, t.children[3].textContent]));
  assert.deepEqual(rows.map((r) => r[0]), [24, 48, 66]);
  assert.equal(rows[0][1], "01:00:01:00");
  assert.match(rows[2][2], /Dissolve \(12 frames\)/);
  assert.match(await page.textContent("[data-testid=cuts-found] h2"), /3 changes in 96 frames/);
  // A frame on each side of each change, from the proxy: the two sides of a cut differ.
  await page.waitForFunction(() => document.body.dataset.cutsPainted === "true", null, { timeout: 30_000 });
  // Each canvas shows the frame it names, as the video handed it to the screen.
  const shown = await page.$$eval("canvas[data-at]", (cs) => cs.map((c) => [c.dataset.at, c.dataset.shown]));
  for (const [at, frame] of shown) assert.equal(frame, at, `the frame shown for frame ${at}`);
  const sides = await page.$$eval("[data-testid=cuts] tbody tr", (trs) => trs.map((t) => [...t.querySelectorAll("canvas")].map((c) => {
    const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    let sum = 0;
    for (let i = 0; i < d.length; i += 4) sum += d[i] + d[i + 1] * 3 + d[i + 2] * 7;
    return sum / (d.length / 4);
  })));
  for (const [before, after] of sides) {
    assert.ok(before > 5 && after > 5, "painted");
    assert.ok(Math.abs(before - after) > 3, `the two sides of a change differ: ${before} ${after}`);
  }
  await page.screenshot({ path: join(process.env.SHOTS || dir, "cuts.png"), fullPage: true });

  // The EDL to download is the movie as a cut.
  const edl = await page.request.get(`${base}/api/v1/media/${file.id}/cuts?format=cmx3600`);
  assert.match(await edl.text(), /01:00:01:00 01:00:02:00/);

  // Conformed into the sequence through its import: the preview first, then the shots.
  await Promise.all([page.waitForURL(new RegExp(`/app/sequences/${seq.id}/import`)), page.click("[data-testid=cuts-conform-sequence]")]);
  await page.click("[data-testid=apply]");
  await page.waitForLoadState("load");
  const shots = (await api("GET", `/api/v1/sequences/${seq.id}/shots`)).items;
  assert.deepEqual(shots.map((s) => s.cut_out - s.cut_in + 1), [24, 24, 18, 30]);

  // In Chinese.
  const zh = await browser.newContext({ locale: "zh-CN", viewport: { width: 1280, height: 900 }, storageState: await context.storageState() });
  const zhPage = await zh.newPage();
  await zhPage.goto(`${base}/app/media/${file.id}/cuts`);
  if (await zhPage.isEnabled("button[value=zh-CN]")) {
    await zhPage.click("button[value=zh-CN]");
    await zhPage.waitForLoadState("load");
  }
  const text = await zhPage.textContent("main");
  for (const word of ["剪辑点", "硬切", "叠化", "下载 EDL"]) assert.ok(text.includes(word), `${word} in the Chinese page`);
  assert.doesNotMatch(text, /Dissolve|Download|changes in|Before|After/);
  await zhPage.waitForFunction(() => document.body.dataset.cutsPainted === "true", null, { timeout: 30_000 });
  await zhPage.screenshot({ path: join(process.env.SHOTS || dir, "cuts-zh.png"), fullPage: true });
  await zhPage.click("button[value=en]");
  await zhPage.waitForLoadState("load");
  await zh.close();
  await context.close();
  console.log("ok cuts: found from the media page, shown with their frames, and a sequence conformed to them");
} finally {
  await browser.close();
  rmSync(dir, { recursive: true, force: true });
}
