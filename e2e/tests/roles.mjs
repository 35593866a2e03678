// Each role's main path through the demo studio (`serve --demo`, DEMO_URL), each person in a
// browser of their own signed in through /signin: the artist works her tasks, the supervisor
// gives a retake from the grid, the coordinator assigns in bulk and keeps a view, the producer
// reads the overview and makes a playlist. Then the artist's and the coordinator's pages in
// Simplified Chinese: no English word of the interface and no catalog key may show.
// Screenshots go to ROLE_SCREENS (default /tmp/role-screens), for a person to look at.
import { chromium } from "playwright-core";
import assert from "node:assert/strict";
import { mkdirSync, readdirSync, rmSync } from "node:fs";

const base = process.env.DEMO_URL;
const password = process.env.DEMO_PASSWORD;
assert.ok(base && password, "DEMO_URL and DEMO_PASSWORD name the demo server (e2e/run starts it)");
const screens = process.env.ROLE_SCREENS || "/tmp/role-screens";
mkdirSync(screens, { recursive: true });
for (const f of readdirSync(screens)) if (f.startsWith("failed-")) rmSync(`${screens}/${f}`);

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"],
});

const ARTIST = "li.na@jadedragon.demo";
const SUPERVISOR = "wang.lei@jadedragon.demo";
const COORDINATOR = "sophie.martin@jadedragon.demo";
const PRODUCER = "chen.jing@jadedragon.demo";

// A browser context of its own for one person, signed in through the sign-in page.
async function signIn(email, landing, locale = "en-GB", onSigninPage = async () => {}) {
  const context = await browser.newContext({ locale, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await page.goto(`${base}/signin`);
  await onSigninPage(page);
  await page.fill("input[name=email]", email);
  await page.fill("input[name=password]", password);
  await page.click("button[type=submit]");
  await page.waitForURL(landing);
  return page;
}

const shoot = (page, name, fullPage = false) => page.screenshot({ path: `${screens}/${name}.png`, fullPage });

// The demo's one feature film, from the projects list.
async function openProject(page) {
  await page.click("header nav a[href='/app/projects']");
  await page.waitForURL(`${base}/app/projects`);
  await page.click("table a[href^='/app/projects/']:text-is('The Long Night')");
  await page.waitForURL(/\/app\/projects\/[0-9a-f-]{36}$/);
  return page.url();
}

async function openGrid(page) {
  const project = await openProject(page);
  await page.click("a.button.primary[href$='/shots']");
  await page.waitForURL(`${project}/shots`);
  await page.waitForSelector("#grid");
  return project;
}

const chipText = ([sel, text]) => document.querySelector(sel)?.querySelector(".chip")?.textContent === text;
const cellOf = (taskId) => `#grid td.cell[data-task="${taskId}"]`;
const optionValue = (page, select, label) =>
  page.$eval(select, (s, label) => [...s.options].find((o) => o.textContent.trim() === label)?.value, label);

// Shared between the paths: the artist's open count, cross-checked on the producer's overview.
let artistOpen;

// ---- artist: Li Na ----------------------------------------------------------------------------
async function artist() {
  const page = await signIn(ARTIST, `${base}/app/my-tasks`);
  assert.equal(await page.getAttribute("header nav a[aria-current=page]", "href"), "/app/my-tasks", "an artist starts on My tasks");

  // The nav shows only what an artist may open.
  const nav = await page.$$eval("header nav a", (as) => as.map((a) => a.getAttribute("href")));
  for (const hidden of ["/app/webhooks", "/app/audit", "/app/overview"]) {
    assert.ok(!nav.includes(hidden), `an artist's nav has no ${hidden}: ${nav}`);
  }
  assert.ok(nav.includes("/app/projects") && nav.includes("/app/my-tasks"));

  // The counts, and open work listed first (by due date), then the finished work.
  const tile = async (kind) => Number(await page.textContent(`.mycounts [data-count=${kind}] strong`));
  const [open, week, overdue, finished] = [await tile("open"), await tile("week"), await tile("overdue"), await tile("finished")];
  artistOpen = open;
  assert.ok(open > 0 && finished > 0, `the demo gives Li Na open and finished work (open ${open}, finished ${finished})`);
  assert.ok(overdue <= open && week <= open);
  assert.equal(Number((await page.textContent("[data-testid=total]")).replace("+", "")), open + finished, "the total is open + finished");
  const rows = await page.$$eval("table.mytasks tbody tr", (trs) =>
    trs.map((tr) => ({
      finished: tr.classList.contains("finished"),
      href: tr.querySelector("td:nth-child(2) a").getAttribute("href"),
      shot: tr.querySelector("td:nth-child(1) a")?.getAttribute("href")?.startsWith("/app/shots/") ?? false,
      status: tr.querySelector("td:nth-child(3) .chip").textContent.trim(),
      due: (tr.querySelector("td:nth-child(4)").textContent.match(/\d{4}-\d{2}-\d{2}/) || [""])[0],
      overdue: tr.querySelector("td:nth-child(4) .overdue") !== null,
    })),
  );
  const openRows = rows.filter((r) => !r.finished);
  assert.equal(openRows.length, Math.min(open, rows.length), "every open task is on the first page");
  assert.ok(rows.slice(0, openRows.length).every((r) => !r.finished), "open work comes before finished work");
  const dues = openRows.map((r) => r.due).filter(Boolean);
  assert.deepEqual(dues, [...dues].sort(), "open work by due date");
  if (open <= rows.length) assert.equal(openRows.filter((r) => r.overdue).length, overdue, "the overdue marks match the count");
  await shoot(page, "artist-en-my-tasks");

  // One of her shot tasks: a note that moves it along, through the task page's note form.
  const mine = openRows.find((r) => r.shot && ["In progress", "Retake"].includes(r.status));
  assert.ok(mine, "Li Na has an open shot task in progress or in retake");
  const target = mine.status === "In progress" ? "Waiting for approval" : "In progress";
  await page.click(`table.mytasks a[href="${mine.href}"]`);
  await page.waitForURL(`${base}${mine.href}`);
  const taskId = mine.href.split("/").pop();
  assert.equal(await page.textContent("[data-testid=task-status]"), mine.status);
  assert.match(await page.textContent("[data-testid=assignees]"), /Li Na/);
  const offered = await page.$$eval("select[name=status_id] option", (os) => os.filter((o) => o.value).map((o) => o.textContent.trim()));
  assert.deepEqual(offered.sort(), ["In progress", "Waiting for approval"], "an artist moves work along, no more");
  const gridHref = await page.getAttribute("p.crumbs a[href*='/shots?sequence=']", "href");
  const note = `Camera now matches the animatic; over to you (e2e ${Date.now()}).`;
  await page.fill("textarea[name=body]", note);
  await page.selectOption("select[name=status_id]", { label: target });
  await page.click("button:has-text('Post note')");
  await page.waitForSelector(`.thread .body:text-is("${note}")`);
  assert.equal(await page.textContent("[data-testid=task-status]"), target, "the status changed with the note");
  const change = await page.locator(".thread li", { has: page.locator(`.body:text-is("${note}")`) }).locator(".change").textContent();
  assert.match(change, new RegExp(`${mine.status}\\s*→\\s*${target}`), "the note records the change");

  // My tasks shows the new status.
  await page.click("header nav a[href='/app/my-tasks']");
  await page.waitForURL(`${base}/app/my-tasks`);
  assert.equal(await page.textContent(`table.mytasks tr:has(a[href="${mine.href}"]) .chip`), target);

  // On the grid her own chip opens the status menu (only what she may set); someone else's
  // opens that task's page, with no status menu and no status in its note form.
  await page.goto(`${base}${gridHref}`);
  await page.waitForSelector(cellOf(taskId));
  assert.equal(await page.getAttribute(cellOf(taskId), "data-mine"), "true");
  assert.equal(await page.textContent(`${cellOf(taskId)} .chip`), target === "In progress" ? "WIP" : "Review");
  await page.click(`${cellOf(taskId)} .chip`);
  await page.waitForSelector(".menu");
  assert.deepEqual((await page.locator(".menu button").allTextContents()).sort(), ["In progress", "Waiting for approval"]);
  await page.keyboard.press("Escape");
  assert.equal(await page.locator(".menu").count(), 0);
  const me = await page.$eval("#grid-data", (el) => JSON.parse(el.textContent).me);
  const other = await page.$$eval(
    "#grid td.cell[data-task]",
    (tds, me) => tds.map((td) => [td.dataset.task, td.dataset.assignees]).find(([, a]) => a && !a.split(" ").includes(me))?.[0],
    me,
  );
  assert.ok(other, "the grid shows someone else's task");
  await page.click(`${cellOf(other)} .chip`);
  await page.waitForURL(`${base}/app/tasks/${other}`);
  assert.equal(await page.locator(".menu").count(), 0);
  assert.doesNotMatch(await page.textContent("[data-testid=assignees]"), /Li Na/);
  assert.equal(await page.locator("select[name=status_id]").count(), 0, "no status change on someone else's task");
  console.log(`    artist: My tasks (${open} open, ${overdue} overdue, ${finished} finished), ${mine.status} → ${target} with a note, someone else's chip opens its page`);
  await page.context().close();
}

// ---- supervisor: Wang Lei -------------------------------------------------------------------------
async function supervisor() {
  const page = await signIn(SUPERVISOR, `${base}/app`);
  await openGrid(page);
  const all = await page.locator("#grid tbody tr").count();

  // The status filter is the page's address; a choice applies at once.
  await page.selectOption("#grid-filters select[name=status]", { label: "Waiting for approval" });
  await page.waitForURL(/[?&]status=/);
  const wfa = await page.$eval("#grid-filters select[name=status]", (s) => s.value);
  const retake = await optionValue(page, "#grid-filters select[name=status]", "Retake");
  const shown = await page.$$eval("#grid tbody tr", (trs) => trs.map((tr) => [...tr.querySelectorAll("td.cell:not(.dim)")].map((td) => td.dataset.status)));
  assert.ok(shown.length > 0 && shown.length < all, `some shots wait for approval (${shown.length} of ${all})`);
  assert.ok(shown.every((cells) => cells.length > 0 && cells.every((s) => s === wfa)), "each row shown has a task waiting for approval, the other tasks dimmed");

  // A retake through the inline status menu.
  const taskId = await page.getAttribute(`#grid td.cell:not(.dim)[data-status="${wfa}"]`, "data-task");
  await page.click(`${cellOf(taskId)} .chip`);
  await page.waitForSelector(".menu");
  await page.click(".menu button:text-is('Retake')");
  await page.waitForFunction(chipText, [cellOf(taskId), "Retake"]);
  assert.equal(await page.getAttribute(cellOf(taskId), "data-status"), retake);
  await shoot(page, "supervisor-en-grid");

  // Stored, not only painted.
  await page.goto(`${base}/app/tasks/${taskId}`);
  assert.equal(await page.textContent("[data-testid=task-status]"), "Retake");
  console.log(`    supervisor: ${shown.length} of ${all} shots wait for approval; one given a retake from its chip`);
  await page.context().close();
}

// ---- coordinator: Sophie Martin -------------------------------------------------------------------
async function coordinator() {
  const page = await signIn(COORDINATOR, `${base}/app`);
  const project = await openGrid(page);

  await page.selectOption("#grid-filters select[name=sequence]", { label: "SQ020" });
  await page.waitForURL(/[?&]sequence=/);
  const sequence = await page.$eval("#grid-filters select[name=sequence]", (s) => s.value);
  const rowsInSequence = await page.locator("#grid tbody tr").count();
  assert.ok(rowsInSequence >= 6);
  const layout = (await page.locator("#grid thead th.type").allTextContents()).map((s) => s.trim()).indexOf("Layout");
  assert.ok(layout >= 0, "a Layout column");
  // Each row's cells, each cell's assignees (ids, in order).
  const cells = () =>
    page.$$eval("#grid tbody tr", (trs) =>
      trs.map((tr) => [...tr.querySelectorAll("td.cell")].map((td) => (td.dataset.assignees ?? "").split(" ").filter(Boolean).sort().join(" "))),
    );

  // Rows 2 to 5 picked with a shift-click; one more person added to their Layout tasks.
  const before = await cells();
  await page.click("#grid tbody tr:nth-child(2) input.pick");
  await page.click("#grid tbody tr:nth-child(5) input.pick", { modifiers: ["Shift"] });
  assert.match(await page.textContent("#bulk-count"), /^4 /, "a shift-click picks the rows between");
  // An animator on none of these Layout tasks yet (Zhang Wei, on a fresh demo).
  let who, person;
  for (who of ["Zhang Wei", "Priya Raman", "Liu Yang", "Marco Rossi", "Zhao Min", "Emma Clarke", "Sun Hao"]) {
    person = await optionValue(page, "#bulk-person", who);
    if (person && [1, 2, 3, 4].every((r) => !before[r][layout].split(" ").includes(person))) break;
  }
  assert.ok(person, "someone to add");
  assert.ok(before.slice(1, 5).some((c) => c[layout] !== ""), "someone is assigned already");
  await page.selectOption("#bulk-type", { label: "Layout" });
  await page.selectOption("#bulk-person-action", "add");
  await page.selectOption("#bulk-person", person);
  await page.click("#bulk-apply");
  await page.waitForFunction(
    ([col, person]) => [2, 3, 4, 5].every((n) => document.querySelectorAll(`#grid tbody tr:nth-child(${n}) td.cell`)[col].dataset.assignees.split(" ").includes(person)),
    [layout, person],
  );
  await shoot(page, "coordinator-en-grid");
  const expected = before.map((row, r) =>
    row.map((a, c) => (r >= 1 && r <= 4 && c === layout ? [...a.split(" ").filter(Boolean), person].sort().join(" ") : a)),
  );
  assert.deepEqual(await cells(), expected, `${who} joins the picked Layout tasks; the others assigned stay, nothing else changes`);
  await page.reload();
  assert.deepEqual(await cells(), expected, "stored, not only painted");

  // The sequence and a person kept as a named view, opened again from the Views list.
  await page.selectOption("#grid-filters select[name=person]", person);
  await page.waitForURL(/[?&]person=/);
  const viewRows = await page.locator("#grid tbody tr").count();
  assert.ok(viewRows >= 4 && viewRows <= rowsInSequence);
  const name = `SQ020 with ${who} ${Date.now() % 100000}`;
  await page.click("#grid-views summary");
  await page.fill("[data-testid=save-view] input[name=name]", name);
  await page.click("[data-testid=save-view] button");
  await page.waitForURL(/[?&]person=/);
  // Back on the grid, whose Views list marks it as the view shown (no flash says it was saved).
  assert.equal(await page.textContent("#grid-views li[aria-current=true] a"), name);
  await page.goto(`${project}/shots`);
  assert.ok((await page.locator("#grid tbody tr").count()) > rowsInSequence, "the whole grid first");
  await page.click("#grid-views summary");
  await page.click(`#grid-views a:text-is("${name}")`);
  await page.waitForURL((u) => u.searchParams.get("person") === person && u.searchParams.get("sequence") === sequence);
  assert.equal(await page.locator("#grid tbody tr").count(), viewRows);
  assert.equal(await page.$eval("#grid-filters select[name=person]", (s) => s.value), person);

  // A shot's page from the grid.
  const shot = (await page.textContent("#grid tbody tr:first-child a.shot")).trim();
  await page.click("#grid tbody tr:first-child a.shot");
  await page.waitForURL(/\/app\/shots\/[0-9a-f-]{36}$/);
  assert.match(await page.textContent("h1"), new RegExp(`^${shot}`));
  assert.equal(await page.textContent("[data-testid=sequence]"), "SQ020");
  assert.match(await page.textContent("[data-testid=tasks]"), new RegExp(who));
  console.log(`    coordinator: ${who} added to 4 Layout tasks beside their artists, view "${name}" (${viewRows} shots) saved and reopened, shot ${shot} opened`);
  await page.context().close();
}

// ---- producer: Chen Jing ------------------------------------------------------------------------
async function producer() {
  // A producer starts on the overview.
  const page = await signIn(PRODUCER, `${base}/app/overview`);
  assert.equal(await page.getAttribute("header nav a[aria-current=page]", "href"), "/app/overview");
  const film = page.locator("section.overview", { has: page.locator("h2 a:text-is('The Long Night')") });
  assert.match(await film.locator("[data-count=done] strong").textContent(), /^\d+\/\d+$/);
  // The burn-up chart: an SVG with both lines drawn.
  assert.equal(await film.locator("svg").count(), 1);
  for (const line of ["done", "scope"]) {
    const points = (await film.locator(`svg polyline.${line}`).getAttribute("points")).trim().split(/\s+/);
    assert.ok(points.length >= 2, `the ${line} line has points`);
  }
  assert.ok((await film.locator("table.ovsteps tbody tr").count()) >= 6, "a row per pipeline step");
  assert.ok((await film.locator("table.ovsteps .ovbar span").count()) >= 6, "a progress bar per step");
  const people = await film.locator("table.ovpeople tbody tr").count();
  assert.ok(people >= 5, "the per-person table");
  const liNa = Number(await film.locator("table.ovpeople tr[data-person='Li Na'] td:nth-of-type(1)").textContent());
  if (artistOpen !== undefined) assert.equal(liNa, artistOpen, "Li Na's open work here is her My tasks count");
  await shoot(page, "producer-en-overview", true);

  // A playlist for tomorrow's dailies, with one version in it.
  await film.locator("h2 a").click();
  await page.waitForURL(/\/app\/projects\/[0-9a-f-]{36}$/);
  await page.click("a.button[href$='/playlists']");
  await page.waitForURL(/\/playlists$/);
  const playlists = page.url();
  const count = Number(await page.textContent("[data-testid=total]"));
  const name = `Dailies ${new Date().toISOString().slice(0, 10)} e2e ${Date.now() % 100000}`;
  await page.fill("[data-testid=playlist-form] input[name=name]", name);
  await page.click("[data-testid=playlist-form] button");
  await page.waitForURL(/\/app\/playlists\/[0-9a-f-]{36}$/);
  assert.match(await page.textContent("h1"), new RegExp(name));
  assert.match(await page.textContent("[data-testid=count]"), /^0\b/);
  await page.selectOption("[data-testid=add-form] select[name=version_id]", { index: 0 });
  await page.click("[data-testid=add-form] button");
  await page.waitForFunction(() => /^1\b/.test(document.querySelector("[data-testid=count]").textContent));
  assert.equal(await page.locator("[data-testid=items] tbody tr").count(), 1);
  await page.goto(playlists);
  assert.equal(Number(await page.textContent("[data-testid=total]")), count + 1);
  assert.match(await page.textContent(`[data-testid=playlists] tr:has(a:text-is("${name}")) td:nth-child(2)`), /^1\b/);
  console.log(`    producer: overview with its burn-up and ${people} people, playlist "${name}" made with one version`);
  await page.context().close();
}

// ---- the same pages in Simplified Chinese ----------------------------------------------------
// Words and phrases of the English interface on the pages walked; none of them is in the demo's
// data (names of shots, people, assets, clips; notes and comments), which stays as typed.
const ENGLISH = [
  "Projects", "My tasks", "Mentions", "Members", "API tokens", "Organisation", "Sign out", "Overview",
  "Status", "Due", "Save", "Filter", "Overdue", "Assignees", "Apply to selection", "Clear selection",
  "Priority", "Task type", "Every status", "Any status", "Every project", "All open work", "Shot or asset",
  "Due this week", "Finished", "My activity", "Urgent", "Normal", "In progress", "Waiting for approval",
  "Client approved", "Retake", "Done", "To do", "Layout", "Animation", "Lighting", "Compositing",
  "Shot grid", "Views", "Save view", "Columns", "Anyone", "Nobody assigned", "All sequences", "Sequence",
  "Frames", "Shot", "Live", "Post note", "Keep the status", "Change status to", "Add a version",
  "Log time", "Time logged", "Time spent", "Description", "No description yet", "Versions", "Frame",
  "Reel", "Clip", "Priority", "Notes on the shot", "Recent activity", "Tasks by pipeline step",
  "Head handles", "Productions overview", "Progress by step", "Work by person", "Person", "Open",
  "Logged against the bid", "Tasks done", "All tasks",
];
const KEY = /\b[a-z]+(-[a-z_]+)+\b/g;

// What a person reads on the page: its title, its text (menus and options included), and the
// placeholders and labels that only assistive technology or an empty field shows.
const readPage = (page) =>
  page.evaluate(() => {
    const attrs = [...document.querySelectorAll("[placeholder], [aria-label]")].flatMap((el) => [el.getAttribute("placeholder"), el.getAttribute("aria-label")]).filter(Boolean);
    return [document.title, document.body.innerText, ...attrs].join("\n");
  });

// The artist's and the coordinator's pages in one language, each read by `read(page, name)`:
// the artist's My tasks, one of her shot tasks, its shot, her grid with a status menu open, her
// mentions and the overview she may not open; the coordinator's home, overview, project,
// playlists, and her grid with a row picked and its columns and views open.
async function walk(a, c, read) {
  await a.goto(`${base}/app/my-tasks`);
  await read(a, "artist my-tasks");
  const task = await a.getAttribute("table.mytasks tbody tr:not(.finished):has(a[href^='/app/shots/']) td:nth-child(2) a", "href");
  await a.goto(`${base}${task}`);
  await read(a, "artist task");
  const shot = await a.getAttribute("[data-testid=shot-link]", "href");
  const grid = await a.getAttribute("p.crumbs a[href*='/shots?sequence=']", "href");
  await a.goto(`${base}${shot}`);
  await read(a, "artist shot");
  await a.goto(`${base}${grid}`);
  await a.click("#grid td.cell[data-mine=true] .chip");
  await a.waitForSelector(".menu");
  await read(a, "artist grid");
  await a.goto(`${base}/app/mentions`);
  await read(a, "artist mentions");
  await a.goto(`${base}/app/overview`);
  await read(a, "artist overview refused");

  await c.goto(`${base}/app`);
  await read(c, "coordinator home");
  await c.click("header nav a[href='/app/overview']");
  await c.waitForURL(`${base}/app/overview`);
  await read(c, "coordinator overview");
  const project = await openProject(c);
  await read(c, "coordinator project");
  await c.goto(`${project}/playlists`);
  await read(c, "coordinator playlists");
  await c.goto(`${project}/shots`);
  await c.click("#grid tbody tr:nth-child(1) input.pick");
  await c.click("#grid-filters details.columns summary");
  await c.click("#grid-views summary");
  await read(c, "coordinator grid");
}

const around = (text, at, n = 40) => text.slice(Math.max(0, at - n), at + n).replace(/\s+/g, " ");

const englishIn = (text, w) => new RegExp(`(?<![A-Za-z])${w}(?![A-Za-z])`).exec(text);

async function chinese() {
  // The artist and the coordinator sign in with a Chinese browser (the sign-in page is read
  // too); the same sessions in an English browser are the control: every word looked for must
  // be on the English pages. (Sign-ins are limited to 10 a minute from one address.)
  const zh = {}, en = {};
  const readInto = (texts, tag) => async (page, name) => {
    texts[name] = await readPage(page);
    if (tag) await shoot(page, `${tag}-${name.replace(/ /g, "-")}`);
  };
  const signInZh = (email, landing) => signIn(email, landing, "zh-CN", (p) => readInto(zh, "zh")(p, "signin"));
  const a = await signInZh(ARTIST, `${base}/app/my-tasks`);
  const c = await signInZh(COORDINATOR, `${base}/app`);
  assert.equal(await a.getAttribute("html", "lang"), "zh-CN");
  await walk(a, c, readInto(zh, "zh"));

  const english = async (page) => (await browser.newContext({ locale: "en-GB", storageState: await page.context().storageState() })).newPage();
  const [ea, ec, anonymous] = [await english(a), await english(c), await (await browser.newContext({ locale: "en-GB" })).newPage()];
  await anonymous.goto(`${base}/signin`);
  await readInto(en)(anonymous, "signin");
  await walk(ea, ec, readInto(en));
  for (const p of [a, c, ea, ec, anonymous]) await p.context().close();

  const all = Object.values(en).join("\n");
  assert.deepEqual(ENGLISH.filter((w) => !englishIn(all, w)), [], "each English word looked for is on the English pages");
  const leaks = [];
  for (const [name, text] of Object.entries(zh)) {
    for (const w of ENGLISH) {
      const m = englishIn(text, w);
      if (m) leaks.push(`${name}: "${w}" in «${around(text, m.index)}»`);
    }
    for (const m of text.matchAll(KEY)) leaks.push(`${name}: key-like "${m[0]}" in «${around(text, m.index)}»`);
    if (/\{ ?\$/.test(text)) leaks.push(`${name}: an unfilled catalog variable`);
  }
  assert.deepEqual(leaks, [], `English on the Chinese pages:\n  ${leaks.join("\n  ")}`);
  console.log(`    zh-CN: ${Object.keys(zh).length} pages of the artist and the coordinator, none with English words or catalog keys`);
}

let failed = 0;
try {
  for (const [role, path] of [["artist", artist], ["supervisor", supervisor], ["coordinator", coordinator], ["producer", producer], ["zh-CN", chinese]]) {
    const t0 = Date.now();
    try {
      await path();
      console.log(`  ok ${role} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    } catch (e) {
      failed += 1;
      console.log(`  FAILED ${role} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
      console.log(e);
      for (const context of browser.contexts()) {
        for (const p of context.pages()) await p.screenshot({ path: `${screens}/failed-${role}.png` }).catch(() => {});
        await context.close().catch(() => {});
      }
    }
  }
} finally {
  await browser.close();
}
if (failed) process.exit(1);
