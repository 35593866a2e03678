// Screenshots of the pages people live in, as each role sees them, in English and Chinese, at
// desktop and phone width: for a person to look at before calling a page done (not a test).
//   BASE_URL=http://127.0.0.1:8080 PASSWORD=… OUT=/tmp/screens node e2e/screens.mjs
// against `mstation serve --demo` (its accounts share the password it prints).
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";

const base = process.env.BASE_URL;
const password = process.env.PASSWORD;
const out = process.env.OUT || "/tmp/screens";
mkdirSync(out, { recursive: true });

const people = [
  ["artist", "li.na@jadedragon.demo"],
  ["producer", "chen.jing@jadedragon.demo"],
  ["coordinator", "sophie.martin@jadedragon.demo"],
];
const widths = [["desktop", 1280, 900], ["phone", 390, 844]];

const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
for (const [role, email] of people) {
  for (const lang of ["en", "zh-CN"]) {
    for (const [w, width, height] of widths) {
      const ctx = await browser.newContext({ viewport: { width, height }, locale: lang });
      const page = await ctx.newPage();
      await page.goto(`${base}/signin`);
      await page.fill("input[name=email]", email);
      await page.fill("input[name=password]", password);
      await Promise.all([page.waitForNavigation(), page.click("button")]);
      const shoot = async (name, url) => {
        if (url) await page.goto(`${base}${url}`);
        await page.screenshot({ path: `${out}/${role}-${lang}-${w}-${name}.png`, fullPage: false });
      };
      await shoot("landing");
      await shoot("my-tasks", "/app/my-tasks");
      await shoot("projects", "/app/projects");
      const project = await page.getAttribute("table a[href^='/app/projects/']", "href");
      if (project) {
        await shoot("project", project);
        await shoot("grid", `${project}/shots`);
        const task = await page.getAttribute("a.chip[href^='/app/tasks/']", "href").catch(() => null);
        if (task) await shoot("task", task);
        await page.goto(`${base}${project}/shots`);
        const shot = await page.getAttribute("a[href^='/app/shots/']", "href").catch(() => null);
        if (shot) await shoot("shot", shot);
      }
      await ctx.close();
    }
  }
}
await browser.close();
console.log(`screenshots in ${out}`);
