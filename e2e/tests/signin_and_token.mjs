// Signs in through the page, creates an API token, and proves the token works against the API.
// Then switches the interface to Simplified Chinese and checks the pages follow.
import { chromium } from "playwright-core";
import assert from "node:assert/strict";

const base = process.env.BASE_URL;
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"],
});
try {
  const context = await browser.newContext({ locale: "en-GB" });
  const page = await context.newPage();

  await page.goto(`${base}/`);
  assert.match(page.url(), /\/signin$/, "a signed-out visitor lands on the sign-in page");

  // A wrong password is refused with a message, not an error page.
  await page.fill("input[name=email]", process.env.ADMIN_EMAIL);
  await page.fill("input[name=password]", "not the password");
  await page.click("button[type=submit]");
  assert.match(await page.textContent(".flash"), /e-mail or password/i);

  await page.fill("input[name=password]", process.env.ADMIN_PASSWORD);
  await page.click("button[type=submit]");
  await page.waitForURL(`${base}/app`);
  assert.equal(await page.textContent("h1"), "M-Station Operations");

  await page.click("nav >> text=API tokens");
  await page.waitForURL(`${base}/app/tokens`);
  await page.fill("input[name=name]", "Nuke publish script");
  await page.check("input[name=scope_write]");
  await page.click("button.primary");
  const secret = (await page.textContent("[data-testid=token-secret]")).trim();
  assert.match(secret, /^mst_[A-Za-z0-9_-]{30,}$/, "the new token's secret is shown once");
  assert.ok(await page.isVisible("td >> text=Nuke publish script"), "the token is listed");

  // The token is real: the API accepts it and knows who it is.
  const me = await (await fetch(`${base}/api/v1/me`, { headers: { authorization: `Bearer ${secret}` } })).json();
  assert.equal(me.user.email, process.env.ADMIN_EMAIL);

  // Reloading does not show the secret again.
  await page.goto(`${base}/app/tokens`);
  assert.equal(await page.locator("[data-testid=token-secret]").count(), 0);

  // The language follows the user's setting.
  await page.click("button[value=zh-CN]");
  await page.waitForLoadState("load");
  assert.ok(await page.isVisible("nav >> text=成员"), "the navigation is in Chinese");
  await page.click("button[value=en]");
  await page.waitForLoadState("load");
  assert.ok(await page.isVisible("nav >> text=Members"));

  console.log("ok: signed in, created a working token, switched language");
} finally {
  await browser.close();
}
