import { chromium } from "playwright-core";
const base = "http://127.0.0.1:8711";
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
for (const lang of ["en", "zh-CN"]) {
  for (const [w, width, height] of [["desktop", 1400, 900], ["phone", 390, 844]]) {
    const ctx = await browser.newContext({ viewport: { width, height }, locale: lang });
    const page = await ctx.newPage();
    await page.goto(`${base}/signin`);
    await page.fill("input[name=email]", "sophie.martin@jadedragon.demo");
    await page.fill("input[name=password]", "m-station-demo");
    await Promise.all([page.waitForNavigation(), page.click("button")]);
    await page.goto(`${base}/app/projects`);
    const project = await page.getAttribute("table a[href^='/app/projects/']", "href");
    await page.goto(`${base}${project}/shots?due=overdue&show=due&show=priority`);
    await page.screenshot({ path: `/tmp/g-${lang}-${w}-filtered.png` });
    await page.goto(`${base}${project}/shots`);
    await page.click("#grid-views summary");
    await page.screenshot({ path: `/tmp/g-${lang}-${w}-views.png` });
    if (w === "desktop") {
      await page.click("#grid-views summary");
      await page.click("details.columns summary");
      await page.screenshot({ path: `/tmp/g-${lang}-${w}-columns.png` });
    }
    await ctx.close();
  }
}
await browser.close();
