// A coordinator creates a project and a sequence, imports an EDL through the diff preview, and
// edits the shot grid; a second browser on the same grid sees every change live. Then a recut is
// imported: the preview names what changes, and applying it never duplicates a shot.
import { chromium } from "playwright-core";
import assert from "node:assert/strict";

const base = process.env.BASE_URL;
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"],
});

// An Avid-style CMX 3600 list at 24 fps: four video events, one of them reached by a dissolve,
// and an audio-only event that makes no shot.
function edl(events) {
  const tc = (f) => {
    const fr = f % 24, s = Math.floor(f / 24) % 60, m = Math.floor(f / 1440) % 60, h = Math.floor(f / 86400);
    return [h, m, s, fr].map((n) => String(n).padStart(2, "0")).join(":");
  };
  let rec = 86400; // 01:00:00:00
  const lines = ["TITLE: MOONLIGHT REEL 1", "FCM: NON-DROP FRAME", ""];
  events.forEach(([reel, src, len, clip, trans], i) => {
    const n = String(i + 1).padStart(3, "0");
    if (trans) {
      lines.push(`${n}  ${reel.padEnd(8)} V     C        ${tc(src)} ${tc(src)} ${tc(rec)} ${tc(rec)}`);
      lines.push(`${n}  ${reel.padEnd(8)} V     D    012 ${tc(src)} ${tc(src + len)} ${tc(rec)} ${tc(rec + len)}`);
    } else {
      lines.push(`${n}  ${reel.padEnd(8)} V     C        ${tc(src)} ${tc(src + len)} ${tc(rec)} ${tc(rec + len)}`);
    }
    lines.push(`* FROM CLIP NAME:  ${clip}`, "");
    rec += len;
  });
  lines.push(`${String(events.length + 1).padStart(3, "0")}  A001     A     C        01:00:00:00 01:00:02:00 01:00:00:00 01:00:02:00`, "");
  return lines.join("\n");
}
const firstCut = edl([
  ["A001C003", 3600, 96, "A001C003_ROOFTOP.MOV"],
  ["A002C011", 7200, 72, "A002C011_ALLEY.MOV"],
  ["A003C002", 1200, 120, "A003C002_STAIRS.MOV", true],
  ["A001C007", 9000, 48, "A001C007_DOOR.MOV"],
]);
// The recut: the alley shot is trimmed, the door shot is gone, a new insert arrives.
const recut = edl([
  ["A001C003", 3600, 96, "A001C003_ROOFTOP.MOV"],
  ["A002C011", 7212, 60, "A002C011_ALLEY.MOV"],
  ["A003C002", 1200, 120, "A003C002_STAIRS.MOV", true],
  ["A004C001", 500, 36, "A004C001_INSERT.MOV"],
]);

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

try {
  const a = await signIn();
  await a.click("nav >> text=Projects");
  await a.fill("input[name=name]", "Moonlight");
  await a.fill("input[name=code]", "MOON");
  await a.selectOption("select[name=fps]", "24");
  await a.click("button.primary");
  await a.waitForURL(/\/app\/projects\/[0-9a-f-]{36}$/);
  assert.match(await a.textContent("h1"), /Moonlight/);

  await a.fill("input[name=name]", "SQ010");
  await a.click("text=Create sequence");
  await a.waitForURL(/\/import$/);
  const importUrl = a.url();

  // The file is read into the text box; the preview writes nothing.
  await a.setInputFiles("#edl-file", { name: "reel1.edl", mimeType: "text/plain", buffer: Buffer.from(firstCut) });
  await a.waitForFunction(() => document.getElementById("edl-text").value.includes("TITLE: MOONLIGHT"));
  await a.click("button[value=preview]");
  await a.waitForSelector("[data-testid=diff]");
  assert.match(await a.textContent(".summary"), /New 4/);
  assert.equal(await a.locator("table.diff tr.new").count(), 4);
  assert.ok(await a.isVisible("text=A002C011_ALLEY.MOV"));

  await a.click("[data-testid=apply]");
  await a.waitForURL(/\/shots\?sequence=/);
  const gridUrl = a.url();
  assert.equal(await a.locator("#grid tbody tr").count(), 4, "one row per video event");
  assert.equal(await a.locator("#grid tbody td.cell .chip").count(), 24, "six pipeline tasks per shot");
  assert.equal((await a.textContent("#grid tbody tr:first-child th")).includes("SQ010_0010"), true);

  // A second person's browser on the same grid.
  const b = await signIn();
  await b.goto(gridUrl);
  await b.waitForFunction(() => document.getElementById("grid-live").textContent === "Live");
  await a.waitForFunction(() => document.getElementById("grid-live").textContent === "Live");

  // Inline status change in A shows in B within a second.
  await a.click(`${cell(2, 0)} .chip`);
  await a.click(".menu >> text=In progress");
  await a.waitForFunction((sel) => document.querySelector(sel).textContent === "WIP", `${cell(2, 0)} .chip`);
  const t0 = Date.now();
  await b.waitForFunction((sel) => document.querySelector(sel).textContent === "WIP", `${cell(2, 0)} .chip`, { timeout: 1000 });
  console.log(`    live update seen in the other browser after ${Date.now() - t0} ms`);

  // B changes the same task next, from the version it received live: no conflict.
  await b.click(`${cell(2, 0)} .chip`);
  await b.click(".menu >> text=Waiting for approval");
  await a.waitForFunction((sel) => document.querySelector(sel).textContent === "Review", `${cell(2, 0)} .chip`, { timeout: 1000 });

  // A stale write is refused, not applied: a cell that missed a change (its version is behind)
  // gets 409 from the API, says so, and shows the task as it now is.
  const taskId = await a.getAttribute(cell(1, 1), "data-task");
  await a.$eval(cell(1, 1), (td) => (td.dataset.version = "0"));
  await a.click(`${cell(1, 1)} .chip`);
  await a.click(".menu >> text=Retake");
  await a.waitForFunction(() => /changed this task/.test(document.getElementById("grid-live").textContent));
  await a.waitForFunction((sel) => document.querySelector(sel).dataset.version !== "0", cell(1, 1));
  assert.equal(await a.textContent(`${cell(1, 1)} .chip`), "To do", "the refused change was not applied");

  // Bulk: B selects every shot and sets their Layout tasks to Done in one request; A sees it.
  await a.reload();
  await b.check("#select-all");
  assert.match(await b.textContent("#bulk-count"), /^4 /);
  await b.selectOption("#bulk-type", { label: "Layout" });
  await b.selectOption("#bulk-status", { label: "Done" });
  await b.click("#bulk-apply");
  for (let row = 1; row <= 4; row++) {
    await a.waitForFunction((sel) => document.querySelector(sel).textContent === "Done", `${cell(row, 0)} .chip`, { timeout: 2000 });
  }

  // Picking rows: a shift-click picks every row between the last one clicked and this one.
  await a.reload();
  await a.click("#grid tbody tr:nth-child(1) input.pick");
  await a.click("#grid tbody tr:nth-child(3) input.pick", { modifiers: ["Shift"] });
  assert.match(await a.textContent("#bulk-count"), /^3 /, "a shift-click picks the rows between");

  // One person added to the picked rows' Layout tasks, then taken off again; statuses stay.
  await a.selectOption("#bulk-type", { label: "Layout" });
  await a.selectOption("#bulk-person-action", "add");
  await a.selectOption("#bulk-person", { index: 1 });
  await a.click("#bulk-apply");
  for (let row = 1; row <= 3; row++) {
    await a.waitForFunction((sel) => document.querySelector(sel).dataset.assignees !== "", cell(row, 0));
  }
  assert.equal(await a.getAttribute(cell(4, 0), "data-assignees"), "", "the unpicked row is untouched");
  assert.equal(await a.textContent(`${cell(1, 0)} .chip`), "Done");
  await a.selectOption("#bulk-person-action", "remove");
  await a.click("#bulk-apply");
  for (let row = 1; row <= 3; row++) {
    await a.waitForFunction((sel) => document.querySelector(sel).dataset.assignees === "", cell(row, 0));
  }
  await a.click("#bulk-clear");

  // The keyboard: arrows move between names and chips, Enter opens the status menu, arrows move
  // in it and Escape gives focus back to the chip.
  await a.focus("#grid tbody tr:nth-child(1) a.shot");
  await a.keyboard.press("ArrowRight");
  await a.keyboard.press("ArrowDown");
  assert.equal(await a.evaluate(() => document.activeElement.closest("td")?.dataset.task), await a.getAttribute(cell(2, 0), "data-task"));
  await a.keyboard.press("Enter");
  await a.waitForSelector(".menu");
  await a.keyboard.press("ArrowDown");
  await a.keyboard.press("Escape");
  assert.equal(await a.locator(".menu").count(), 0);
  assert.equal(await a.evaluate(() => document.activeElement.closest("td")?.dataset.task), await a.getAttribute(cell(2, 0), "data-task"));

  // Filters are the page's address: search (names, people and notes), status, columns.
  await a.fill("#grid-filters input[name=q]", "alley");
  await a.press("#grid-filters input[name=q]", "Enter");
  await a.waitForURL(/q=alley/);
  assert.equal(await a.locator("#grid tbody tr").count(), 1);
  await a.selectOption("#grid-filters select[name=status]", { label: "Client approved" });
  await a.waitForURL(/status=/);
  assert.equal(await a.locator("#grid tbody tr").count(), 0);
  assert.ok(await a.isVisible("text=No shots match these filters."));
  await a.click("text=Clear the filters");
  await a.waitForURL((u) => !u.search.includes("q="));
  assert.equal(await a.locator("#grid tbody tr").count(), 4);

  // A view saved under a name comes back from the Views list.
  await a.fill("#grid-filters input[name=q]", "rooftop");
  await a.press("#grid-filters input[name=q]", "Enter");
  await a.waitForURL(/q=rooftop/);
  await a.click("#grid-views summary");
  await a.fill("[data-testid=save-view] input[name=name]", "Rooftop");
  await a.click("[data-testid=save-view] button");
  await a.waitForURL(/q=rooftop/);
  await a.goto(gridUrl);
  await a.click("#grid-views summary");
  await a.click("#grid-views >> text=Rooftop");
  await a.waitForURL(/q=rooftop/);
  assert.equal(await a.locator("#grid tbody tr").count(), 1);
  await a.goto(gridUrl);

  // The recut: the trimmed alley shot changes, and so does the stairs shot after it (it moves
  // up the record timeline); the rooftop shot is untouched; one new, one removed, nothing doubled.
  await a.goto(importUrl);
  await a.fill("#edl-text", recut);
  await a.click("button[value=preview]");
  await a.waitForSelector("[data-testid=diff]");
  const summary = await a.textContent(".summary");
  assert.match(summary, /New 1/);
  assert.match(summary, /Changed 2/);
  assert.match(summary, /Unchanged 1/);
  assert.match(summary, /Removed 1/);
  await a.click("[data-testid=apply]");
  await a.waitForURL(/\/shots\?sequence=/);
  assert.equal(await a.locator("#grid tbody tr").count(), 4, "the omitted shot leaves the grid, the insert joins it");
  assert.ok(await a.isVisible("text=A004C001_INSERT.MOV"));
  // The alley shot kept its tasks and their statuses through the recut.
  const alley = a.locator("#grid tbody tr", { hasText: "A002C011_ALLEY.MOV" });
  assert.equal(await alley.locator("td.cell .chip").first().textContent(), "Done");

  // A broken EDL is refused with the line that is wrong.
  await a.goto(importUrl);
  await a.fill("#edl-text", "TITLE: BROKEN\n001  A001 V C 01:00:00:00 01:00:01:00 01:00:00:00\n");
  await a.click("button[value=preview]");
  assert.match(await a.textContent(".flash.error"), /line 2/i);

  // The task page shows the thread; a note with a status change is one step.
  await a.goto(`${base}/app/tasks/${taskId}`);
  await a.fill("textarea[name=body]", "Edge of frame flickers at 1012, please fix.");
  await a.fill("input[name=frame]", "1012");
  await a.selectOption("select[name=status_id]", { label: "Retake" });
  await a.click("text=Post note");
  await a.waitForSelector("text=Edge of frame flickers");
  assert.equal(await a.textContent("[data-testid=task-status]"), "Retake");
  console.log("    grid edit, live updates, bulk edit and EDL import: ok");
} finally {
  await browser.close();
}
