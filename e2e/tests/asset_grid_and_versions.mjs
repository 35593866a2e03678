// A coordinator builds the asset grid of a project and edits it; a second browser on the same
// grid sees the changes live. Then a version is handed in and time is logged on an asset task's
// page.
import { chromium } from "playwright-core";
import assert from "node:assert/strict";

const base = process.env.BASE_URL;
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"],
});

async function signIn() {
  const context = await browser.newContext({ locale: "en-GB" });
  const page = await context.newPage();
  await page.goto(`${base}/signin`);
  await page.fill("input[name=email]", process.env.ADMIN_EMAIL);
  await page.fill("input[name=password]", process.env.ADMIN_PASSWORD);
  await page.click("button[type=submit]");
  await page.waitForURL(`${base}/app`);
  return page;
}

const cell = (row, col) => `#grid tbody tr:nth-child(${row}) td.cell:nth-of-type(${col + 3})`;
const chipIs = ([sel, text]) => document.querySelector(sel)?.textContent === text;

try {
  const a = await signIn();
  await a.goto(`${base}/app/projects`);
  await a.fill("input[name=name]", "Lanterns");
  await a.fill("input[name=code]", "LANT");
  await a.selectOption("select[name=fps]", "24");
  await a.click("button.primary");
  await a.waitForURL(/\/app\/projects\/[0-9a-f-]{36}$/);

  // From the project page to its asset grid; two assets made with the pipeline's tasks.
  await a.click("text=Open the asset grid");
  await a.waitForURL(/\/assets$/);
  const gridUrl = a.url();
  for (const [name, kind] of [["Paper Lantern", "prop"], ["Mei Lin", "character"]]) {
    await a.fill("input[name=name]", name);
    await a.selectOption("form[method=post] select[name=kind]", kind);
    await a.click("text=Create asset");
    await a.waitForURL(gridUrl);
  }
  assert.equal(await a.locator("#grid tbody tr").count(), 2, "one row per asset");
  assert.equal(await a.locator("#grid tbody td.cell .chip").count(), 10, "five asset steps per asset");
  const steps = await a.locator("#grid thead th.type").allTextContents();
  assert.deepEqual(steps.map((s) => s.trim()), ["Concept", "Modelling", "Rigging", "Texturing", "Lookdev"], "the asset steps, not the shot pipeline");
  assert.match(await a.textContent("#grid tbody tr:first-child th"), /Mei Lin/, "assets by name");

  // The kind filter is a plain GET.
  await a.selectOption("form[method=get] select[name=kind]", "prop");
  await a.waitForURL(/kind=prop/);
  assert.equal(await a.locator("#grid tbody tr").count(), 1);
  await a.goto(gridUrl);

  // A second person's browser on the same grid.
  const b = await signIn();
  await b.goto(gridUrl);
  await b.waitForFunction(() => document.getElementById("grid-live").textContent === "Live");
  await a.waitForFunction(() => document.getElementById("grid-live").textContent === "Live");

  // Inline status change in A shows in B within a second.
  await a.click(`${cell(2, 0)} .chip`);
  await a.click(".menu >> text=In progress");
  await a.waitForFunction(chipIs, [`${cell(2, 0)} .chip`, "WIP"]);
  const t0 = Date.now();
  await b.waitForFunction(chipIs, [`${cell(2, 0)} .chip`, "WIP"], { timeout: 1000 });
  console.log(`    asset grid: live update seen in the other browser after ${Date.now() - t0} ms`);

  // Bulk: B sets every asset's Texturing to Done in one request; A sees both.
  await b.check("#select-all");
  assert.match(await b.textContent("#bulk-count"), /^2 /);
  await b.selectOption("#bulk-type", { label: "Texturing" });
  await b.selectOption("#bulk-status", { label: "Done" });
  await b.click("#bulk-apply");
  for (const row of [1, 2]) {
    await a.waitForFunction(chipIs, [`${cell(row, 3)} .chip`, "Done"], { timeout: 2000 });
  }

  // Filter in the page.
  await a.fill("#grid-filter", "lantern");
  assert.equal(await a.locator("#grid tbody tr:not([hidden])").count(), 1);
  await a.fill("#grid-filter", "");

  // The task page: hand in two versions, newest first; log time and see the total.
  const taskId = await a.getAttribute(cell(2, 0), "data-task");
  await a.goto(`${base}/app/tasks/${taskId}`);
  assert.match(await a.textContent("[data-testid=versions]"), /No versions/);
  await a.fill("textarea[name=comment]", "First pass, paper texture only.");
  await a.click("text=Add a version");
  await a.waitForSelector("text=First pass, paper texture only.");
  await a.fill("textarea[name=comment]", "Warmer glow, fixed the seam.");
  await a.click("text=Add a version");
  await a.waitForSelector("text=Warmer glow, fixed the seam.");
  const numbers = await a.locator("[data-testid=versions] .vnum").allTextContents();
  assert.deepEqual(numbers, ["v002", "v001"], "newest first");
  await a.fill("input[name=minutes]", "90");
  await a.click("text=Log time");
  await a.waitForFunction(() => document.querySelector("[data-testid=time-total]").textContent === "1:30");
  await a.fill("input[name=minutes]", "45");
  await a.click("text=Log time");
  await a.waitForFunction(() => document.querySelector("[data-testid=time-total]").textContent === "2:15");
  console.log("    asset grid edits, live updates, versions and time logs: ok");
} finally {
  await browser.close();
}
