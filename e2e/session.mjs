// One signed-in session of the platform's administrator, shared by the browser tests that only
// need to be signed in: the sign-in limits count every attempt from one address, and a suite
// that signed in afresh for every test would meet them. The first test to ask signs in and
// keeps the session's cookies in the run's folder ($E2E_STATE_DIR); the others reuse them.
import { existsSync } from "node:fs";
import { join } from "node:path";

export async function adminPage(browser, options = {}) {
  const base = process.env.BASE_URL;
  const file = process.env.E2E_STATE_DIR ? join(process.env.E2E_STATE_DIR, "admin-session.json") : null;
  if (file && existsSync(file)) {
    const context = await browser.newContext({ ...options, storageState: file });
    const page = await context.newPage();
    await page.goto(`${base}/app`);
    if (page.url() === `${base}/app`) return { context, page };
    await context.close();
  }
  const context = await browser.newContext(options);
  const page = await context.newPage();
  await page.goto(`${base}/signin`);
  await page.fill("input[name=email]", process.env.ADMIN_EMAIL);
  await page.fill("input[name=password]", process.env.ADMIN_PASSWORD);
  await page.click("button[type=submit]");
  await page.waitForURL(`${base}/app`);
  if (file) await context.storageState({ path: file });
  return { context, page };
}
