// A card's folder ingested from the media page: every file sent as an upload of one ingest and
// the card filed with the ASC MHL generation the platform writes, which records the same files,
// hashes and folder hashes as `mstation mhl create` of the same folder. A reload cuts the ingest
// off half-way; choosing the folder again sends neither a file that arrived nor the part of one
// that did.
import { chromium } from "playwright-core";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";

const base = process.env.BASE_URL;
const bin = process.env.MSTATION_BIN;
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"],
});
const dir = mkdtempSync(join(tmpdir(), "mstation-e2e-card-"));

// What a generation records: each file's path, size and xxh64; the root's and each folder's
// content and structure hashes.
function recorded(xml) {
  const files = [...xml.matchAll(/<hash>\s*<path size="(\d+)"[^>]*>([^<]*)<\/path>\s*<xxh64[^>]*>([0-9a-f]+)<\/xxh64>/g)]
    .map((m) => `${m[2]} ${m[1]} ${m[3]}`)
    .sort();
  const dirs = [...xml.matchAll(/<directoryhash>\s*<path[^>]*>([^<]*)<\/path>\s*<content>\s*<xxh64[^>]*>([0-9a-f]+)<\/xxh64>\s*<\/content>\s*<structure>\s*<xxh64[^>]*>([0-9a-f]+)</g)]
    .map((m) => `${m[1]} ${m[2]} ${m[3]}`)
    .sort();
  const root = xml.match(/<roothash>\s*<content>\s*<xxh64[^>]*>([0-9a-f]+)<\/xxh64>\s*<\/content>\s*<structure>\s*<xxh64[^>]*>([0-9a-f]+)</);
  return { files, dirs, root: root && `${root[1]} ${root[2]}` };
}

try {
  const context = await browser.newContext({ locale: "en-GB", acceptDownloads: true });
  const page = await context.newPage();
  await page.goto(`${base}/signin`);
  await page.fill("input[name=email]", process.env.ADMIN_EMAIL);
  await page.fill("input[name=password]", process.env.ADMIN_PASSWORD);
  await page.click("button[type=submit]");
  await page.waitForURL(`${base}/app`);
  await page.goto(`${base}/app/projects`);
  await page.fill("input[name=name]", "Night Market");
  await page.fill("input[name=code]", "NIGHT");
  await page.selectOption("select[name=fps]", "24");
  await page.click("button.primary");
  await page.waitForURL(/\/app\/projects\/[0-9a-f-]{36}$/);
  await page.click("a.button >> text=Media");
  await page.waitForURL(/\/media$/);

  // A card: a small clip, notes in Chinese, a take in two pieces (sent last, in path order), and
  // Finder's litter.
  const card = join(dir, "A001_R2XY");
  mkdirSync(join(card, "CLIP"), { recursive: true });
  mkdirSync(join(card, "镜头"), { recursive: true });
  const take = randomBytes(12 * 1024 * 1024 + 99);
  writeFileSync(join(card, "镜头", "A001C003.mov"), take);
  writeFileSync(join(card, "CLIP", "A001C002.mov"), randomBytes(70_000));
  writeFileSync(join(card, "场记.txt"), "第一天，夜市。\n");
  writeFileSync(join(card, ".DS_Store"), "finder");

  // Cut off: the take's second piece never leaves the browser, and the page is reloaded.
  let held;
  const secondPiece = new Promise((r) => (held = r));
  await page.route("**/files/*", async (route) => {
    const offset = Number(route.request().headers()["upload-offset"] || 0);
    if (route.request().method() === "PATCH" && offset > 0) return held(route);
    await route.continue();
  });
  await page.setInputFiles("[data-testid=card-input]", card);
  await (await secondPiece).abort("connectionreset");
  const arrived = await page.$$eval("[data-testid=card-list] li.done", (lis) => lis.map((li) => li.dataset.path));
  assert.deepEqual(arrived, ["CLIP/A001C002.mov", "场记.txt"], "the files before the take arrived");
  await page.reload();
  await page.unrouteAll({ behavior: "ignoreErrors" });

  // The same folder again: what arrived is not sent again, the take goes on from 8 MiB.
  const created = [];
  let takeFrom = null;
  page.on("request", (r) => {
    if (r.method() === "POST" && new URL(r.url()).pathname === "/files") {
      const meta = r.headers()["upload-metadata"] || "";
      const path = meta.split(",").find((p) => p.startsWith("path "));
      created.push(Buffer.from(path.slice(5), "base64").toString());
    }
    if (r.method() === "PATCH" && takeFrom === null) takeFrom = Number(r.headers()["upload-offset"]);
  });
  await page.setInputFiles("[data-testid=card-input]", card);
  await page.waitForSelector("[data-testid=card-history]", { timeout: 60000 });
  assert.equal(takeFrom, 8 * 1024 * 1024, "the take goes on from where the platform stands");
  for (const path of arrived) assert.ok(!created.includes(path), `${path} arrived, and was sent again`);
  assert.match(await page.textContent("[data-testid=card-said]"), /Filed 3 files from A001_R2XY/);

  // The platform's generation records what `mstation mhl create` records of the same folder.
  const href = await page.getAttribute("[data-testid=card-history]", "href");
  const theirs = recorded(await (await page.request.get(`${base}${href}`)).text());
  execFileSync(bin, ["mhl", "create", card], { stdio: "ignore" });
  const ours = recorded(readFileSync(join(card, "ascmhl", readdirSync(join(card, "ascmhl")).find((f) => f.endsWith(".mhl"))), "utf8"));
  assert.equal(theirs.files.length, 3);
  assert.equal(theirs.dirs.length, 2, "the folders CLIP and 镜头");
  assert.ok(theirs.root, "the root's hashes");
  assert.deepEqual(theirs.files, ours.files, "the same files and hashes");
  assert.deepEqual(theirs.dirs.map((d) => d), ours.dirs, "the same folder hashes");
  assert.equal(theirs.root, ours.root, "the same root hashes");

  // The files are the project's, each with its path on the card.
  await page.reload();
  assert.equal(await page.locator("[data-testid=files] tbody tr").count(), 3);

  // The folder now holds the history `mstation mhl create` wrote: the page sends it to the CLI,
  // which checks every file against it.
  await page.setInputFiles("[data-testid=card-input]", card);
  await page.waitForSelector("[data-testid=card-said].error");
  assert.match(await page.textContent("[data-testid=card-said]"), /holds an ASC MHL history/);
  assert.equal(await page.locator("[data-testid=card-list] li").count(), 0, "nothing was sent");

  // The page in Chinese: no English left in the card's part.
  await page.click("button[value=zh-CN]");
  await page.waitForLoadState("load");
  const zh = await page.textContent("[data-testid=card-ingest]");
  assert.ok(zh.includes("导入存储卡"), zh);
  for (const english of ["Ingest", "card", "folder", "history"]) {
    assert.ok(!zh.includes(english), `"${english}" on the Chinese page`);
  }
  await page.click("button[value=en]");
  await page.waitForLoadState("load");
  console.log("ok: a card folder ingested from the browser, resumed after a reload, with the history the CLI writes");
} finally {
  rmSync(dir, { recursive: true, force: true });
  await browser.close();
}
