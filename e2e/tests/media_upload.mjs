// A coordinator uploads files on a project's media page and sees each one's progress; an upload
// cut off by a reload is listed and resumes from where the server stands when the same file is
// chosen again. Then the reference browser client, tus-js-client, sends a file in two parallel
// parts. Every file is downloaded back and compared byte for byte.
import { chromium } from "playwright-core";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";

const base = process.env.BASE_URL;
const require = createRequire(import.meta.url);
const tusClient = require.resolve("tus-js-client/dist/tus.min.js");
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"],
});
const dir = mkdtempSync(join(tmpdir(), "mstation-e2e-media-"));

try {
  const context = await browser.newContext({ locale: "en-GB" });
  const page = await context.newPage();
  await page.goto(`${base}/signin`);
  await page.fill("input[name=email]", process.env.ADMIN_EMAIL);
  await page.fill("input[name=password]", process.env.ADMIN_PASSWORD);
  await page.click("button[type=submit]");
  await page.waitForURL(`${base}/app`);
  await page.goto(`${base}/app/projects`);
  await page.fill("input[name=name]", "Harbour Lights");
  await page.fill("input[name=code]", "HARB");
  await page.selectOption("select[name=fps]", "24");
  await page.click("button.primary");
  await page.waitForURL(/\/app\/projects\/[0-9a-f-]{36}$/);
  await page.click("a.button >> text=Media");
  await page.waitForURL(/\/media$/);
  assert.ok(await page.isVisible("[data-testid=no-files]"), "an empty project says so");

  const bytesOf = async (name) => {
    const href = await page.getAttribute(`[data-testid=files] a >> text=${name}`, "href");
    return Buffer.from(await (await page.request.get(`${base}${href}`)).body());
  };

  // Two files at once, each with its own progress, then the list shows them.
  const notes = Buffer.from("Day 14: sunset plates, reel A001.\n");
  const plate = randomBytes(12 * 1024 * 1024 + 321);
  writeFileSync(join(dir, "notes.txt"), notes);
  writeFileSync(join(dir, "A001C002.mov"), plate);
  await page.setInputFiles("[data-testid=upload-input]", [join(dir, "notes.txt"), join(dir, "A001C002.mov")]);
  await page.waitForSelector("[data-testid=upload-list] li.upload");
  await page.waitForSelector("[data-testid=files] a >> text=A001C002.mov", { timeout: 60000 });
  assert.equal(await page.locator("[data-testid=files] tbody tr").count(), 2);
  assert.ok((await bytesOf("A001C002.mov")).equals(plate), "the plate arrived byte for byte");
  assert.ok((await bytesOf("notes.txt")).equals(notes));

  // A reload cuts an upload off after its first piece: the page lists it, and choosing the same
  // file again sends only the rest.
  const take = randomBytes(20 * 1024 * 1024 + 77);
  const takePath = join(dir, "A002C001.mov");
  writeFileSync(takePath, take);
  let held;
  const secondPiece = new Promise((r) => (held = r));
  await page.route("**/files/*", async (route) => {
    const offset = Number(route.request().headers()["upload-offset"] || 0);
    if (route.request().method() === "PATCH" && offset > 0) return held(route);
    await route.continue();
  });
  await page.setInputFiles("[data-testid=upload-input]", takePath);
  // The second piece never leaves the browser: the connection drops, and the page is reloaded.
  await (await secondPiece).abort("connectionreset");
  await page.reload();
  await page.unrouteAll({ behavior: "ignoreErrors" });
  const open = page.locator("[data-testid=open-uploads] li", { hasText: "A002C001.mov" });
  assert.equal(await open.count(), 1, "the cut-off upload is listed");
  assert.match(await open.textContent(), /8\.4 MB of 21 MB arrived/);
  let sentFrom = null;
  page.on("request", (r) => {
    if (r.method() === "PATCH" && sentFrom === null) sentFrom = Number(r.headers()["upload-offset"]);
  });
  await page.setInputFiles("[data-testid=upload-input]", takePath);
  await page.waitForSelector("[data-testid=files] a >> text=A002C001.mov", { timeout: 60000 });
  assert.equal(sentFrom, 8 * 1024 * 1024, "the rest was sent, not the whole file again");
  assert.ok((await bytesOf("A002C001.mov")).equals(take), "the resumed take arrived byte for byte");
  assert.equal(await page.locator("[data-testid=open-uploads]").count(), 0, "nothing is left unfinished");

  // The reference browser client, in two parallel parts (tus concatenation).
  await page.addScriptTag({ path: tusClient });
  const parts = randomBytes(3 * 1024 * 1024 + 5);
  const project = JSON.parse(await page.textContent("#upload-data")).project;
  const done = await page.evaluate(
    ([b64, project]) =>
      new Promise((resolve, reject) => {
        const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        const csrf = JSON.parse(document.getElementById("upload-data").textContent).csrf;
        const upload = new tus.Upload(new Blob([bytes]), {
          endpoint: "/files",
          parallelUploads: 2,
          chunkSize: 1024 * 1024,
          headers: { "x-csrf-token": csrf },
          metadata: { filename: "parallel.wav", filetype: "audio/wav", project },
          onError: (e) => reject(String(e)),
          onSuccess: () => resolve(upload.url),
        });
        upload.start();
      }),
    [parts.toString("base64"), project],
  );
  assert.match(done, /\/files\/[0-9a-f-]{36}$/);
  await page.reload();
  assert.ok((await bytesOf("parallel.wav")).equals(parts), "tus-js-client's parallel parts joined byte for byte");
  assert.equal(await page.locator("[data-testid=files] tbody tr").count(), 4);

  // The page in Chinese: no English left.
  await page.click("button[value=zh-CN]");
  await page.waitForLoadState("load");
  assert.equal(await page.textContent("h1 >> nth=0").then((t) => t.trim().startsWith("媒体")), true);
  const text = await page.textContent("main");
  for (const english of ["Upload files", "Choose files", "Uploaded by", "Size", "keeps"]) {
    assert.ok(!text.includes(english), `"${english}" on the Chinese page`);
  }
  await page.click("button[value=en]");
  await page.waitForLoadState("load");
  console.log("ok: uploads with progress, a resume after a reload, and tus-js-client in parallel parts");
} finally {
  rmSync(dir, { recursive: true, force: true });
  await browser.close();
}
