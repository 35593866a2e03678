// What the browser tests share. One signed-in session of the platform's administrator, for the
// tests that only need to be signed in: the sign-in limits count every attempt from one address, and a suite
// that signed in afresh for every test would meet them. The first test to ask signs in and
// keeps the session's cookies in the run's folder ($E2E_STATE_DIR); the others reuse them.
import { existsSync, readFileSync } from "node:fs";
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

// The platform's API as the signed-in page calls it (its session and CSRF token): `api(method,
// path, body)` answers the JSON of a 2xx answer and fails the test on any other; `upload(path,
// name, projectId)` sends a file through /files in one request and answers its media file,
// once its proxy is made.
export async function apiOf(page) {
  const base = process.env.BASE_URL;
  const csrf = await page.evaluate(() => document.querySelector("input[name=csrf]")?.value);
  const api = async (method, path, body) => {
    const r = await page.request.fetch(`${base}${path}`, {
      method,
      headers: { "x-csrf-token": csrf, "content-type": "application/json" },
      data: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!r.ok()) throw new Error(`${method} ${path}: ${r.status()} ${await r.text()}`);
    return r.json();
  };
  const upload = async (path, name, projectId) => {
    const bytes = readFileSync(path);
    const b64 = (s) => Buffer.from(s).toString("base64");
    const r = await page.request.fetch(`${base}/files`, {
      method: "POST",
      headers: {
        "x-csrf-token": csrf, "tus-resumable": "1.0.0", "upload-length": String(bytes.length),
        "upload-metadata": `filename ${b64(name)},project ${b64(projectId)}`,
        "content-type": "application/offset+octet-stream",
      },
      data: bytes,
    });
    if (r.status() !== 201) throw new Error(`upload of ${name}: ${r.status()} ${await r.text()}`);
    const file = (await api("GET", `/api/v1/media?project=${projectId}`)).items.find((m) => m.name === name);
    for (let i = 0; i < 300; i++) {
      const f = await api("GET", `/api/v1/media/${file.id}`);
      if (f.proxy_hash) return f;
      await page.waitForTimeout(100);
    }
    throw new Error(`${name} got no proxy`);
  };
  return { csrf, api, upload };
}

// A project at 24 fps with a sequence conformed to `edl` (one event) and a Compositing task on
// its shot.
export async function shotWithTask(api, name, code, edl) {
  const project = await api("POST", "/api/v1/projects", { name, code, fps: "24", width: 1920, height: 1080 });
  const seq = await api("POST", `/api/v1/projects/${project.id}/sequences`, { name: "SQ010" });
  await api("POST", `/api/v1/sequences/${seq.id}/conform`, { format: "cmx3600", edl, apply: true });
  const shot = (await api("GET", `/api/v1/sequences/${seq.id}/shots`)).items[0];
  const types = await api("GET", `/api/v1/projects/${project.id}/task-types`);
  const comp = types.items.find((t) => t.name === "Compositing");
  const made = await api("POST", "/api/v1/tasks", { tasks: [{ shot_id: shot.id, task_type_id: comp.id }] });
  return { project, seq, shot, task: made.items ? made.items[0] : made[0] };
}

// A member of the organisation in a browser of their own: invited with `role` through the API,
// the invitation accepted and signed in.
export async function memberPage(browser, api, email, role, options = { locale: "en-GB", viewport: { width: 1300, height: 950 } }) {
  const base = process.env.BASE_URL;
  const inv = await api("POST", "/api/v1/invitations", { email, role });
  const context = await browser.newContext(options);
  const page = await context.newPage();
  await page.goto(`${base}${inv.accept_path}`);
  await page.fill("input[name=display_name]", email.split("@")[0]);
  await page.fill("input[name=password]", "a long enough password");
  await page.click("form[action^='/invite/'] button");
  await page.waitForURL((u) => !u.pathname.startsWith("/invite/"));
  if (new URL(page.url()).pathname === "/signin") {
    await page.fill("input[name=email]", email);
    await page.fill("input[name=password]", "a long enough password");
    await page.click("button[type=submit]");
    await page.waitForURL((u) => u.pathname.startsWith("/app"));
  }
  return page;
}
