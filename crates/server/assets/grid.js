// The shot and asset grids: inline and bulk status changes through the JSON API, filters and
// sorting in the page, and live updates from the event stream. Every change goes through
// /api/v1, so the workflow's rules and the If-Match check apply to it as to any other client.
// A row is one shot or one asset (`data-row` is its id); its cells are its tasks by task type.

const table = document.getElementById("grid");
const data = JSON.parse(document.getElementById("grid-data").textContent);
const csrf = table?.dataset.csrf;
const canWrite = table?.dataset.canWrite === "true";
const statuses = new Map(data.statuses.map((s) => [s.id, s]));
const people = new Map(data.people.map((p) => [p.id, p]));
const columns = new Map(data.types.map((id, i) => [id, i]));
// The statuses the viewer's role may set; an artist sets them only on their own tasks.
const settable = data.statuses.filter((s) => s.settable);
const mayChange = (td) => settable.length > 0 && (!data.own_only || td.dataset.mine === "true");
const live = document.getElementById("grid-live");
const tbody = table?.tBodies[0];

function say(text, bad = false) {
  if (!live) return;
  live.textContent = text;
  live.classList.toggle("bad", bad);
}

function cellOf(taskId) {
  return tbody?.querySelector(`td[data-task="${CSS.escape(taskId)}"]`);
}

// Paints a task into its cell; `remote` marks a change made elsewhere.
function paint(td, task, remote) {
  const st = statuses.get(task.status_id);
  td.dataset.task = task.id;
  td.dataset.version = task.version;
  td.dataset.status = task.status_id;
  td.dataset.mine = (task.assignees || []).includes(data.me);
  td.dataset.rank = st ? st.rank : 0;
  td.classList.remove("none");
  let chip = td.querySelector(".chip");
  if (!chip) {
    td.textContent = "";
    chip = document.createElement("a");
    chip.className = "chip";
    td.append(chip, Object.assign(document.createElement("span"), { className: "ppl" }));
  }
  chip.href = `/app/tasks/${task.id}`;
  chip.textContent = st ? st.short : "?";
  chip.style.setProperty("--c", st ? st.color : "#999");
  chip.style.setProperty("--t", st ? st.ink : "#fff");
  td.dataset.assignees = (task.assignees || []).join(" ");
  const who = (task.assignees || []).map((id) => people.get(id)).filter(Boolean);
  const ppl = td.querySelector(".ppl");
  ppl.textContent = who.map((p) => p.initials).join(" ");
  ppl.title = who.map((p) => p.name).join(", ");
  if (remote) {
    td.classList.remove("pulse");
    void td.offsetWidth;
    td.classList.add("pulse");
  }
}

async function api(method, path, body, headers = {}) {
  const res = await fetch(path, {
    method,
    headers: { "content-type": "application/json", "x-csrf-token": csrf, ...headers },
    body: JSON.stringify(body),
    credentials: "same-origin",
  });
  const json = await res.json().catch(() => ({}));
  return { ok: res.ok, status: res.status, json };
}

function problem(r) {
  if (r.status === 409 && r.json.code === "stale_version") return data.text.stale;
  return r.json.title ? `${r.json.title}${r.json.detail ? ": " + r.json.detail : ""}` : data.text.failed;
}

// ---- inline status change -------------------------------------------------------------------

let menu = null;

function closeMenu() {
  const opener = menu?.opener;
  const hadFocus = menu?.contains(document.activeElement);
  menu?.remove();
  menu = null;
  if (hadFocus) opener?.focus();
}

function openMenu(td) {
  closeMenu();
  menu = document.createElement("div");
  menu.className = "menu";
  menu.setAttribute("role", "menu");
  for (const s of settable) {
    const b = document.createElement("button");
    b.type = "button";
    b.setAttribute("role", "menuitem");
    b.dataset.status = s.id;
    b.innerHTML = `<span class="dot"></span>`;
    b.firstChild.style.setProperty("--c", s.color);
    b.append(s.name);
    if (s.id === td.dataset.status) b.setAttribute("aria-current", "true");
    b.addEventListener("click", () => setStatus(td, s.id));
    menu.append(b);
  }
  const r = td.getBoundingClientRect();
  menu.style.left = `${window.scrollX + r.left}px`;
  menu.style.top = `${window.scrollY + r.bottom + 2}px`;
  menu.addEventListener("keydown", (e) => {
    if (e.key !== "ArrowDown" && e.key !== "ArrowUp") return;
    e.preventDefault();
    const items = [...menu.querySelectorAll("button")];
    const at = items.indexOf(document.activeElement);
    items[(at + (e.key === "ArrowDown" ? 1 : items.length - 1)) % items.length]?.focus();
  });
  menu.opener = td.querySelector("a.chip");
  document.body.append(menu);
  (menu.querySelector("button[aria-current]") || menu.querySelector("button"))?.focus();
}

async function setStatus(td, statusId) {
  closeMenu();
  if (statusId === td.dataset.status) return;
  td.classList.add("busy");
  const r = await api("PATCH", `/api/v1/tasks/${td.dataset.task}`, { status_id: statusId }, {
    "if-match": `"${td.dataset.version}"`,
  });
  td.classList.remove("busy");
  if (r.ok) {
    paint(td, r.json, false);
    say(data.text.saved);
  } else {
    say(problem(r), true);
    if (r.status === 409) await refresh(td);
  }
}

// Reads a task again after a refused change, so the cell shows what is true now.
async function refresh(td) {
  const res = await fetch(`/api/v1/tasks/${td.dataset.task}`, { credentials: "same-origin" });
  if (res.ok) paint(td, await res.json(), true);
}

if (canWrite && tbody) {
  tbody.addEventListener("click", (e) => {
    const chip = e.target.closest("a.chip");
    if (!chip || e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
    // A task whose status the viewer may not set opens its page instead.
    if (!mayChange(chip.closest("td"))) return;
    e.preventDefault();
    openMenu(chip.closest("td"));
  });
}
document.addEventListener("keydown", (e) => {
  if (e.key === "Escape") closeMenu();
});
document.addEventListener("click", (e) => {
  if (menu && !menu.contains(e.target) && !e.target.closest("a.chip")) closeMenu();
});

// ---- moving with the keyboard ---------------------------------------------------------------
// Arrow keys move between the shot names and the task chips as in a spreadsheet; Enter on a chip
// opens its status menu (or its page), Space on a row's name picks the row.

function focusables(row) {
  return [row.querySelector("th a.shot"), ...[...row.querySelectorAll("td.cell")].map((td) => td.querySelector("a.chip") || td)];
}

tbody?.addEventListener("keydown", (e) => {
  if (!["ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight"].includes(e.key) || e.altKey || e.ctrlKey || e.metaKey) {
    if (e.key === " " && e.target.matches("a.shot")) {
      const box = e.target.closest("tr").querySelector(".pick");
      if (box) {
        e.preventDefault();
        box.click();
      }
    }
    return;
  }
  const row = e.target.closest("tr");
  if (!row || menu) return;
  const here = focusables(row);
  let col = here.findIndex((el) => el === e.target || el.contains(e.target));
  if (col < 0) return;
  let target = row;
  if (e.key === "ArrowLeft") col = Math.max(0, col - 1);
  if (e.key === "ArrowRight") col = Math.min(here.length - 1, col + 1);
  if (e.key === "ArrowUp" || e.key === "ArrowDown") {
    const step = e.key === "ArrowUp" ? "previousElementSibling" : "nextElementSibling";
    do target = target[step];
    while (target && target.hidden);
    if (!target) return;
  }
  const el = focusables(target)[col];
  if (!el) return;
  e.preventDefault();
  if (el.tagName === "TD") el.tabIndex = -1;
  el.focus();
});

// ---- the filters form: a choice applies at once ------------------------------------------------

const filtersForm = document.getElementById("grid-filters");
// A filter chosen applies at once; columns are ticked together, then shown with the button.
filtersForm?.addEventListener("change", (e) => {
  if (e.target.matches("select")) filtersForm.requestSubmit();
});
// Filters left empty stay out of the address, so it reads as the view it is; a page brought back
// from the history gets them back usable.
filtersForm?.addEventListener("submit", () => {
  for (const el of filtersForm.elements) if (el.name && el.value === "" && el.type !== "checkbox") el.disabled = true;
});
window.addEventListener("pageshow", () => {
  for (const el of filtersForm?.elements || []) el.disabled = false;
});

// ---- filter and sort ------------------------------------------------------------------------

const filterText = document.getElementById("grid-filter");
const filterStatus = document.getElementById("grid-status");
const count = document.getElementById("grid-count");

function applyFilter() {
  if (!tbody) return;
  const text = filterText.value.trim().toLowerCase();
  const status = filterStatus.value;
  let shown = 0;
  for (const row of tbody.rows) {
    const ok =
      (!text || row.dataset.text.includes(text)) &&
      (!status || row.querySelector(`td[data-status="${CSS.escape(status)}"]`) !== null);
    row.hidden = !ok;
    if (ok) shown += 1;
    else row.querySelector(".pick") && (row.querySelector(".pick").checked = false);
  }
  count.textContent = shown === tbody.rows.length ? `${shown}` : `${shown} / ${tbody.rows.length}`;
  updateBulk();
}
filterText?.addEventListener("input", applyFilter);
filterStatus?.addEventListener("change", applyFilter);

let sorted = { key: "order", col: -1, dir: 1 };
table?.tHead.addEventListener("click", (e) => {
  const b = e.target.closest("button.sort");
  if (!b) return;
  const key = b.dataset.sort;
  const col = key === "type" ? Number(b.dataset.col) : -1;
  const dir = sorted.key === key && sorted.col === col ? -sorted.dir : 1;
  sorted = { key, col, dir };
  const value = (row) => {
    if (key === "type") {
      const td = row.querySelectorAll("td.cell")[col];
      return td && td.dataset.rank !== undefined ? Number(td.dataset.rank) : -1;
    }
    return Number(row.dataset[key]);
  };
  const rows = [...tbody.rows];
  rows.sort((a, b) => (value(a) - value(b)) * dir || Number(a.dataset.order) - Number(b.dataset.order));
  tbody.append(...rows);
  for (const h of table.tHead.querySelectorAll("button.sort")) h.removeAttribute("aria-sort");
  b.setAttribute("aria-sort", dir > 0 ? "ascending" : "descending");
});

// ---- bulk selection and bulk edit -----------------------------------------------------------

const bulkbar = document.getElementById("bulkbar");
const selectAll = document.getElementById("select-all");

function picked() {
  return [...tbody.querySelectorAll("input.pick:checked")].map((c) => c.closest("tr"));
}

function updateBulk() {
  if (!bulkbar) return;
  const n = picked().length;
  bulkbar.hidden = n === 0;
  document.getElementById("bulk-count").textContent = `${n} ${data.text.selected}`;
}

if (bulkbar) {
  // Shift-click picks (or unpicks) every shown row between the last row clicked and this one.
  let lastPick = null;
  tbody.addEventListener("click", (e) => {
    const box = e.target.closest("input.pick");
    if (!box) return;
    const row = box.closest("tr");
    if (e.shiftKey && lastPick && lastPick !== row && lastPick.isConnected) {
      const rows = [...tbody.rows].filter((r) => !r.hidden);
      const [a, b] = [rows.indexOf(lastPick), rows.indexOf(row)].sort((x, y) => x - y);
      if (a >= 0) for (const r of rows.slice(a, b + 1)) r.querySelector(".pick").checked = box.checked;
    }
    lastPick = row;
    updateBulk();
  });
  tbody.addEventListener("change", (e) => e.target.matches("input.pick") && updateBulk());
  selectAll?.addEventListener("change", () => {
    for (const row of tbody.rows) if (!row.hidden) row.querySelector(".pick").checked = selectAll.checked;
    updateBulk();
  });
  document.getElementById("bulk-clear").addEventListener("click", () => {
    for (const c of tbody.querySelectorAll("input.pick:checked")) c.checked = false;
    if (selectAll) selectAll.checked = false;
    updateBulk();
  });
  document.getElementById("bulk-apply").addEventListener("click", async () => {
    const type = document.getElementById("bulk-type").value;
    const status = document.getElementById("bulk-status")?.value || "";
    const person = document.getElementById("bulk-person")?.value || "";
    const how = document.getElementById("bulk-person-action")?.value || "add";
    if (!status && !person) return;
    const col = type ? columns.get(type) : -1;
    const updates = [];
    for (const row of picked()) {
      row.querySelectorAll("td.cell").forEach((td, i) => {
        if (!td.dataset.task || (col >= 0 && i !== col)) return;
        if (status && !mayChange(td)) return;
        const u = { id: td.dataset.task, version: Number(td.dataset.version) };
        if (status && status !== td.dataset.status) u.status_id = status;
        if (person) {
          // One person added or taken off; the others stay. The version sent makes a change
          // made meanwhile by someone else refuse this one rather than undo theirs.
          const now = (td.dataset.assignees || "").split(" ").filter(Boolean);
          const next =
            how === "only" ? [person] : how === "remove" ? now.filter((p) => p !== person) : [...new Set([...now, person])];
          if (next.join(" ") !== now.join(" ")) u.assignees = next;
        }
        if (u.status_id || u.assignees) updates.push(u);
      });
    }
    if (updates.length === 0) {
      say(data.text.nothing, true);
      return;
    }
    for (let i = 0; i < updates.length; i += 1000) {
      const r = await api("POST", "/api/v1/tasks/bulk-update", { updates: updates.slice(i, i + 1000) });
      if (!r.ok) {
        say(problem(r), true);
        return;
      }
      for (const t of r.json.items) {
        const td = cellOf(t.id);
        if (td) paint(td, t, false);
      }
    }
    say(`${data.text.saved} (${updates.length})`);
  });
}

// ---- live updates ---------------------------------------------------------------------------

function onTask(e) {
  const event = JSON.parse(e.data);
  const task = event.payload && event.payload.entity;
  if (!task || !tbody) return;
  let td = cellOf(task.id);
  if (!td) {
    const row = tbody.querySelector(`tr[data-row="${CSS.escape(task.shot_id || task.asset_id || "")}"]`);
    const col = columns.get(task.task_type_id);
    if (!row || col === undefined) return;
    td = row.querySelectorAll("td.cell")[col];
  }
  if (td && !(Number(td.dataset.version) >= task.version && td.dataset.task === task.id)) {
    paint(td, task, true);
  }
}

if (tbody && window.EventSource) {
  const source = new EventSource("/api/v1/events");
  for (const kind of ["task.created", "task.updated", "task.status_changed"]) {
    source.addEventListener(kind, onTask);
  }
  source.addEventListener("open", () => say(data.text.live));
  source.addEventListener("error", () => say(data.text.offline, true));
}
