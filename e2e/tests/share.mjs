// A review link for a client: a coordinator makes it from the playlist's page (its address shown
// once); a guest with no account opens it, types its password and plays the version, served as
// the copy made for the link with the recipient's name burnt into the picture (read from the
// screen: the plain proxy has no such pixels there). A Chinese guest reads it all in Chinese.
// Withdrawn, the link opens nothing.
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
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync", "--autoplay-policy=no-user-gesture-required"],
});
const dir = mkdtempSync(join(tmpdir(), "mstation-e2e-share-"));
const screens = process.env.SHARE_SCREENS;

// How bright the middle band of a video's picture is, against a plain black picture.
const lit = (page) => page.evaluate(() => {
  const v = document.querySelector("video");
  const c = document.createElement("canvas");
  c.width = 160;
  c.height = 90;
  const g = c.getContext("2d");
  g.drawImage(v, 0, 0, 160, 90);
  const d = g.getImageData(16, 38, 128, 14).data;
  let n = 0;
  for (let i = 0; i < d.length; i += 4) if (d[i] > 40) n++;
  return n;
});

try {
  // A black clip: whatever is lit on the guest's picture is the watermark.
  const clip = join(dir, "SH010_comp_v001.mov");
  execFileSync("ffmpeg", ["-loglevel", "error", "-y", "-f", "lavfi", "-i", "color=c=black:s=640x360:r=24:d=2",
    "-c:v", "libx264", "-pix_fmt", "yuv420p", clip]);
  const { context, page } = await adminPage(browser, { locale: "en-GB", viewport: { width: 1280, height: 1000 } });
  const { api, upload } = await apiOf(page);
  const project = await api("POST", "/api/v1/projects", { name: "Share", code: "SHR", fps: "24", width: 1920, height: 1080 });
  const hero = await api("POST", `/api/v1/projects/${project.id}/assets`, { kind: "character", name: "Hero" });
  const types = await api("GET", `/api/v1/projects/${project.id}/task-types`);
  const made = await api("POST", "/api/v1/tasks", { tasks: [{ asset_id: hero.id, task_type_id: types.items[1].id }] });
  const task = made.items ? made.items[0] : made[0];
  const media = await upload(clip, "SH010_comp_v001.mov", project.id);
  const version = await api("POST", `/api/v1/tasks/${task.id}/versions`, { comment: "for the client", media: [media.id] });
  const playlist = await api("POST", `/api/v1/projects/${project.id}/playlists`, { name: "Client review", items: [version.id] });

  // Made from the playlist's page; the address is shown once.
  await page.goto(`${base}/app/playlists/${playlist.id}`);
  await page.fill("[data-testid=share-form] input[name=recipient]", "Zhang Wei, Star Pictures");
  await page.fill("[data-testid=share-form] input[name=days]", "3");
  await page.fill("[data-testid=share-form] input[name=password]", "open sesame 42");
  await page.click("[data-testid=share-form] button");
  const address = await page.locator("[data-testid=share-address]").inputValue();
  assert.match(address, /\/share\/msl_/);
  if (screens) await page.screenshot({ path: join(screens, "share-made.png"), fullPage: true });
  await page.goto(`${base}/app/playlists/${playlist.id}`);
  assert.equal(await page.locator("[data-testid=share-address]").count(), 0, "the address is shown only once");
  assert.match(await page.locator("[data-testid=share-copies]").innerText(), /^copies ready: [01] of 1$/, "how the link's copy stands");

  // The copy is made on the job queue.
  const links = await api("GET", `/api/v1/playlists/${playlist.id}/share-links`);
  for (let i = 0; i < 300; i++) {
    const d = await api("GET", `/api/v1/share-links/${links[0].id}`);
    if (d.versions[0].hash) break;
    await page.waitForTimeout(100);
  }

  // A guest, no account: the password, then the list, then the picture with the name on it.
  const guestContext = await browser.newContext({ locale: "en-GB", viewport: { width: 1100, height: 900 } });
  const guest = await guestContext.newPage();
  await guest.goto(address);
  await guest.fill("input[name=password]", "wrong password");
  await guest.click("[data-testid=share-password] button");
  await guest.waitForSelector(".flash.error");
  await guest.fill("input[name=password]", "open sesame 42");
  await guest.click("[data-testid=share-password] button");
  await guest.click("[data-testid=share-list] a");
  await guest.waitForFunction(() => document.querySelector("video")?.readyState >= 2);
  await guest.evaluate(() => new Promise((done) => {
    const v = document.querySelector("video");
    v.addEventListener("seeked", done, { once: true });
    v.currentTime = 1.02;
  }));
  const marked = await lit(guest);
  assert.ok(marked > 30, `the recipient's name is on the picture (${marked} lit pixels)`);
  const text = await guest.locator("main").innerText();
  assert.ok(text.includes("Zhang Wei, Star Pictures") && !text.includes("for the client") && !text.includes("Share"), text);
  assert.equal(await guest.locator("[data-testid=share-download]").count(), 0, "no downloads on this link");
  if (screens) await guest.screenshot({ path: join(screens, "share-guest.png"), fullPage: true });
  // The guest's note: held with production until someone there passes it on.
  await guest.fill("[data-testid=share-note-form] textarea", "Could the sky be warmer here?");
  await guest.click("[data-testid=share-note-form] button");
  await guest.waitForSelector("[data-testid=share-notes] .thread li");
  assert.ok((await guest.locator("[data-testid=share-notes]").innerText()).includes("held with production"));
  assert.equal((await api("GET", `/api/v1/versions/${version.id}/notes`)).items.length, 0, "the team sees nothing yet");
  await page.goto(`${base}/app/playlists/${playlist.id}`);
  assert.ok((await page.locator("[data-testid=guest-notes]").innerText()).includes("Could the sky be warmer here?"));
  await page.click("[data-testid=guest-note-publish]");
  await page.waitForURL(/#share$/);
  const passed = (await api("GET", `/api/v1/versions/${version.id}/notes`)).items;
  assert.equal(passed.length, 1);
  assert.equal(passed[0].body, "Zhang Wei, Star Pictures: Could the sky be warmer here?");
  await guest.reload();
  assert.ok((await guest.locator("[data-testid=share-notes]").innerText()).includes("passed to the artists"));

  // The member's own proxy of the same version has nothing lit there.
  await page.goto(`${base}/app/versions/${version.id}/review`);
  await page.waitForFunction(() => document.getElementById("player-stage")?.dataset.settled === "true");
  assert.ok((await lit(page)) < 5, "the plain proxy is black");

  // In Chinese.
  const zhContext = await browser.newContext({ locale: "zh-CN", viewport: { width: 1100, height: 900 } });
  const zh = await zhContext.newPage();
  await zh.goto(address);
  const asked = await zh.locator("main").innerText();
  assert.ok(asked.includes("审看链接") && asked.includes("打开") && !asked.includes("Zhang Wei"), asked);
  assert.ok(!/Review link|Password|Open\b|share-/.test(asked), `English or a key on the Chinese page: ${asked}`);
  await zh.fill("input[name=password]", "open sesame 42");
  await zh.click("[data-testid=share-password] button");
  const listed = await zh.locator("main").innerText();
  assert.ok(listed.includes("有效期至") && !/Open until|marked|share-/.test(listed), listed);
  await zh.click("[data-testid=share-list] a");
  const notes = await zh.locator("[data-testid=share-notes]").innerText();
  assert.ok(notes.includes("你的备注") && notes.includes("已转给美术师") && !/Your notes|passed|Send the note|share-/.test(notes), notes);
  if (screens) await zh.screenshot({ path: join(screens, "share-zh.png"), fullPage: true });

  // Withdrawn: nothing opens any more.
  await page.goto(`${base}/app/playlists/${playlist.id}`);
  await page.click("[data-testid=share-revoke]");
  await guest.reload();
  assert.equal(await guest.locator("[data-testid=share-closed]").count(), 1);
  await zhContext.close();
  await guestContext.close();
  await context.close();
  console.log("share links: ok");
} finally {
  await browser.close();
  rmSync(dir, { recursive: true, force: true });
}
