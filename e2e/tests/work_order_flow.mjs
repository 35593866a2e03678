// A work order's whole life in the browser, on a platform of its own (`mstation admin` sets up
// the operator, a production and a vendor with an artist before `serve` starts): the producer
// posts an order on a shot and invites the vendor; the vendor bids; the producer awards it; the
// vendor puts its artist on the shot's task; the artist, from My tasks, uploads a file and hands
// it in as a version; the vendor delivers the milestone with the version and its ASC MHL
// manifest, which the platform verifies against the file's bytes; the producer accepts it, and
// both sides see it paid.
import { chromium } from "playwright-core";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { apiOf, shotWithTask } from "../lib.mjs";

const bin = process.env.MSTATION_BIN;
assert.ok(bin, "MSTATION_BIN names the server binary (e2e/run sets it)");
const data = mkdtempSync(join(tmpdir(), "mstation-e2e-orders-"));
const password = "harbour lights at dusk";
const admin = (...args) => execFileSync(bin, ["admin", "--data", data, ...args], { encoding: "utf8" });
const people = {
  op: ["op@operations.test", "Platform Finance"],
  producer: ["producer@bravo.test", "Zhao Min"],
  vendor: ["lead@harbour.test", "Chen Jing"],
  artist: ["comp@harbour.test", "Li Na"],
};
for (const [email, name] of Object.values(people)) {
  admin("create-user", "--email", email, "--name", name, "--password", password, ...(email === people.op[0] ? ["--operator"] : []));
}
admin("create-org", "--name", "M-Station Operations", "--slug", "operations", "--kind", "platform_operator", "--owner-email", people.op[0]);
admin("create-org", "--name", "Bravo Films", "--slug", "bravo", "--kind", "production_company", "--owner-email", people.producer[0]);
admin("create-org", "--name", "Harbour VFX", "--slug", "harbour", "--kind", "vfx_studio", "--owner-email", people.vendor[0]);
admin("add-member", "--org", "harbour", "--email", people.artist[0], "--role", "artist");
const opToken = JSON.parse(admin("create-token", "--org", "operations", "--email", people.op[0])).secret;
assert.ok(opToken, "the operator's token was printed");

const port = await new Promise((resolve) => {
  const s = createServer().listen(0, "127.0.0.1", () => {
    const p = s.address().port;
    s.close(() => resolve(p));
  });
});
const base = `http://127.0.0.1:${port}`;
const server = spawn(bin, ["serve", "--data", data, "--listen", `127.0.0.1:${port}`], { stdio: "ignore" });
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"],
});

async function signIn(who) {
  const context = await browser.newContext({ locale: "en-GB", viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await page.goto(`${base}/signin`);
  await page.fill("input[name=email]", people[who][0]);
  await page.fill("input[name=password]", password);
  await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
  return page;
}

try {
  for (let i = 0; ; i++) {
    const up = await fetch(`${base}/readyz`).then((r) => r.ok, () => false);
    if (up) break;
    assert.ok(i < 600, "the server became ready");
    await new Promise((r) => setTimeout(r, 100));
  }
  const producer = await signIn("producer");
  const vendor = await signIn("vendor");
  const artist = await signIn("artist");
  process.env.BASE_URL = base;
  const { api } = await apiOf(producer);

  // The operator's finance credits the production's wallet.
  const bravo = await api("GET", "/api/v1/org");
  const credited = await fetch(`${base}/api/v1/market/wallets/credit`, {
    method: "POST",
    headers: { authorization: `Bearer ${opToken}`, "content-type": "application/json" },
    body: JSON.stringify({ org_id: bravo.id, currency: "CNY", amount: "50000.00", reference: "bank transfer" }),
  });
  assert.equal(credited.status, 201, await credited.text());
  const edl = "TITLE: HARBOUR\n001  A001C003 V     C        10:00:00:00 10:00:02:00 01:00:00:00 01:00:02:00\n";
  const { project, shot, task } = await shotWithTask(api, "Harbour Lights", "HARB", edl);

  // The producer posts the order on the shot and invites the vendor by its short name.
  await producer.goto(`${base}/app/work-orders/new?project=${project.id}`);
  await producer.fill("input[name=title]", "Harbour extension");
  await producer.fill("input[name=budget_min]", "20000");
  await producer.fill("input[name=budget_max]", "40000");
  await producer.fill("input[name=due_on]", "2027-03-31");
  await producer.check(`input[name=scope][value="shot:${shot.id}"]`);
  await Promise.all([producer.waitForURL(/\/app\/work-orders\/[0-9a-f-]{36}$/), producer.click("[data-testid=order-form] button.primary")]);
  const orderUrl = producer.url();
  await producer.fill("input[name=invite]", "harbour");
  await Promise.all([producer.waitForNavigation(), producer.click("[data-testid=publish] button.primary")]);

  // The vendor finds it open to its bids and bids.
  await vendor.goto(`${base}/app/work-orders?side=open`);
  await Promise.all([vendor.waitForURL(orderUrl), vendor.click("text=Harbour extension")]);
  await vendor.fill("[data-testid=bid-form] input[name=price]", "30000.00");
  await vendor.fill("[data-testid=bid-form] input[name=days]", "20");
  await Promise.all([vendor.waitForNavigation(), vendor.click("[data-testid=send-bid]")]);

  // The producer awards it: 30,000.00 held.
  await producer.goto(orderUrl);
  await Promise.all([producer.waitForNavigation(), producer.click("[data-testid=award]")]);
  assert.equal((await producer.textContent("[data-testid=held]")).trim(), "30,000.00 CNY");

  // The vendor puts its artist on the shot's task.
  await vendor.goto(orderUrl);
  await Promise.all([vendor.waitForNavigation(), vendor.click(`[data-testid=work] a[href$="/work/${task.id}"]`)]);
  await vendor.check("[data-testid=artists-form] label:has-text('Li Na') input");
  await Promise.all([vendor.waitForNavigation(), vendor.click("[data-testid=artists-form] button")]);
  assert.match(await vendor.textContent("[data-testid=artists]"), /Li Na/);

  // The artist finds the task under My tasks, uploads her comp and hands it in.
  await artist.goto(`${base}/app/my-tasks`);
  await Promise.all([artist.waitForURL(/\/work\//), artist.click("[data-testid=order-work] a")]);
  const itemUrl = artist.url();
  const dir = mkdtempSync(join(tmpdir(), "mstation-e2e-comp-"));
  const comp = randomBytes(3 * 1024 * 1024 + 17);
  writeFileSync(join(dir, "HARB_0010_comp_v001.mov"), comp);
  await Promise.all([artist.waitForNavigation({ timeout: 60000 }), artist.setInputFiles("[data-testid=upload-input]", join(dir, "HARB_0010_comp_v001.mov"))]);
  const file = artist.locator("[data-testid=hand-in] select[name=media] option", { hasText: "HARB_0010_comp_v001.mov" });
  await artist.selectOption("[data-testid=hand-in] select[name=media]", await file.getAttribute("value"));
  await artist.fill("[data-testid=hand-in] textarea[name=comment]", "First comp, horizon lowered");
  await Promise.all([artist.waitForNavigation(), artist.click("[data-testid=send-version]")]);
  assert.match(await artist.textContent("[data-testid=versions]"), /v001[\s\S]*Li Na[\s\S]*HARB_0010_comp_v001\.mov/);
  await artist.goto(orderUrl);
  assert.ok(/\/app\/work-orders\//.test(artist.url()) && (await artist.isVisible("[data-testid=refused]")), "the order itself (its money) is not the artist's");

  // The vendor delivers the milestone: the version and the manifest its tool wrote.
  const md5 = createHash("md5").update(comp).digest("hex");
  const mhl = `<?xml version="1.0" encoding="UTF-8"?>
<hashlist version="2.0" xmlns="urn:ASC:MHL:v2.0">
  <creatorinfo><creationdate>2026-12-07T10:00:00+00:00</creationdate><hostname>harbour-io</hostname><tool version="1.2">ascmhl</tool></creatorinfo>
  <processinfo><process>in-place</process></processinfo>
  <hashes>
    <hash><path size="${comp.length}" lastmodificationdate="2026-12-07T09:00:00+00:00">HARB/HARB_0010_comp_v001.mov</path><md5 action="original" hashdate="2026-12-07T10:00:00+00:00">${md5}</md5></hash>
  </hashes>
</hashlist>
`;
  writeFileSync(join(dir, "delivery.mhl"), mhl);
  await vendor.goto(orderUrl);
  const version = vendor.locator("[data-testid=deliver-form] select[name=version] option", { hasText: "v001" });
  await vendor.selectOption("[data-testid=deliver-form] select[name=version]", await version.getAttribute("value"));
  await vendor.setInputFiles("[data-testid=deliver-form] [data-manifest-file]", join(dir, "delivery.mhl"));
  await vendor.waitForFunction(() => document.querySelector("[data-manifest]").value.includes("hashlist"));
  await vendor.fill("[data-testid=deliver-form] input[name=note]", "v001 in the review room");
  await Promise.all([vendor.waitForNavigation(), vendor.click("[data-testid=deliver-form] button.primary")]);
  rmSync(dir, { recursive: true, force: true });

  // Verified on arrival; the producer accepts it and both see it paid.
  for (let i = 0; ; i++) {
    await producer.goto(orderUrl);
    const check = await producer.getAttribute("[data-testid=delivery]", "data-check");
    if (check === "verified") break;
    assert.ok(check === "verifying" && i < 100, `the delivery is ${check}`);
    await producer.waitForTimeout(300);
  }
  assert.match(await producer.textContent("[data-testid=delivery]"), /Compositing · \S+ v001[\s\S]*Verified against its ASC MHL manifest/);
  await Promise.all([producer.waitForNavigation(), producer.click("[data-testid=accept]")]);
  for (const page of [producer, vendor]) {
    await page.goto(orderUrl);
    assert.equal((await page.textContent("[data-testid=paid]")).trim(), "30,000.00 CNY");
    assert.equal(await page.getAttribute("[data-testid=order]", "data-state"), "completed");
    assert.ok(await page.isVisible("[data-testid=paid-at]"));
  }
  // Its work is the production's now; the vendor's artist no longer reaches it.
  const gone = await artist.goto(itemUrl);
  assert.equal(gone.status(), 404);
  console.log("work order: posted, bid, awarded, handed in, delivered with a verified manifest, accepted and paid");
} finally {
  await browser.close();
  server.kill();
  rmSync(data, { recursive: true, force: true });
}
