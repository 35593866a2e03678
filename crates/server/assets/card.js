// A camera card (or any folder) ingested from the media page, as `mstation ingest` does: every
// file sent to /files as an upload of one ingest, with its path on the card; once all arrived,
// the platform writes the card's ASC MHL generation from the hashes it read as the bytes came
// in, and files the card at once (POST /api/v1/ingests/{id}/seal). Cut off (a reload, a dropped
// network), the same folder chosen again goes on with the same ingest: files that arrived are
// not sent again, and a file cut off half-way goes on from where the platform stands.

import { b64, problem, sendAll, tusRequest as request } from "/assets/tus.js";

const data = JSON.parse(document.getElementById("upload-data").textContent);
const t = data.texts;
const tusRequest = (method, url, headers) => request(data.csrf, method, url, headers);
const input = document.getElementById("card-input");
const zone = document.getElementById("card-zone");
const list = document.getElementById("card-list");
const said = document.getElementById("card-said");
const overall = document.getElementById("card-progress");

// Names ASC MHL histories leave out; a card's own history is not one of its files.
const left = (path) => path.split("/").some((n) => n === ".DS_Store" || n === "ascmhl");

// From a folder chosen in the file picker: its files, by their path inside it.
function fromPicker(files) {
  const all = [...files];
  const source = all[0]?.webkitRelativePath.split("/")[0] || "";
  const items = all.map((file) => ({
    file,
    path: file.webkitRelativePath.split("/").slice(1).join("/"),
  }));
  return { source, items, folders: [] };
}

// From a folder dropped on the page: its files and folders (empty ones too), walked.
async function fromDrop(entry) {
  const items = [];
  const folders = [];
  const read = (dir) =>
    new Promise((resolve, reject) => {
      const reader = dir.createReader();
      const out = [];
      const more = () =>
        reader.readEntries((batch) => {
          if (batch.length === 0) resolve(out);
          else {
            out.push(...batch);
            more();
          }
        }, reject);
      more();
    });
  const walk = async (dir, at) => {
    for (const e of await read(dir)) {
      const path = at ? `${at}/${e.name}` : e.name;
      if (e.isDirectory) {
        folders.push(path);
        await walk(e, path);
      } else {
        const file = await new Promise((resolve, reject) => e.file(resolve, reject));
        items.push({ file, path });
      }
    }
  };
  await walk(entry, "");
  return { source: entry.name, items, folders };
}

function row(path, size) {
  const li = document.createElement("li");
  li.className = "upload";
  li.dataset.path = path;
  const name = document.createElement("span");
  name.className = "upload-name";
  name.textContent = path;
  const bar = document.createElement("progress");
  bar.max = size || 1;
  bar.value = 0;
  const state = document.createElement("span");
  state.className = "upload-state muted";
  state.textContent = t.waiting;
  li.append(name, bar, state);
  list.append(li);
  return { li, bar, state };
}

async function json(method, url, body) {
  const r = await fetch(url, {
    method,
    credentials: "same-origin",
    headers: { "content-type": "application/json", "x-csrf-token": data.csrf },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!r.ok) throw new Error(await problem(r));
  return r.json();
}

async function ingest(card) {
  list.replaceChildren();
  // A folder with a history of its own (on the card, or a card's inside a day's folder) is
  // verified against it and continued by `mstation ingest`; a browser cannot write into it.
  const history = (path) => path.split("/").includes("ascmhl");
  if (card.items.some((i) => history(i.path)) || card.folders.some(history)) {
    said.className = "flash error";
    said.textContent = t.has_history;
    return;
  }
  // Sent in the order the generation lists them: by path.
  const items = card.items
    .filter((i) => !left(i.path))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const folders = card.folders.filter((f) => !left(f));
  const bytes = items.reduce((n, i) => n + i.file.size, 0);
  said.textContent = "";
  said.className = "muted";
  overall.hidden = false;
  overall.max = bytes || 1;
  overall.value = 0;
  const key = `mstation-ingest:${data.project}:${card.source}:${items.length}:${bytes}`;
  try {
    // The ingest left open by an earlier try with this folder, or a new one.
    let view = null;
    const noted = localStorage.getItem(key);
    if (noted) {
      const r = await fetch(`/api/v1/ingests/${noted}`, { credentials: "same-origin" });
      if (r.ok) {
        const v = await r.json();
        if (v.state === "open") view = v;
      }
    }
    if (!view) {
      const made = await json("POST", `/api/v1/projects/${data.project}/ingests`, {
        source: card.source,
        files: items.length,
        bytes,
      });
      view = { ...made, uploads: [] };
      localStorage.setItem(key, view.id);
    }
    const sent = new Map(view.uploads.map((u) => [u.path, u]));
    let done = 0;
    const ended = [];
    for (const { file, path } of items) {
      const ui = row(path, file.size);
      const show = (at) => {
        ui.bar.value = at;
        ui.state.textContent = `${Math.floor((100 * at) / (file.size || 1))}%`;
        overall.value = done + at;
      };
      let u = sent.get(path);
      let url = u ? `/files/${u.upload_id}` : null;
      let offset = 0;
      if (u && u.length === file.size && u.blake3) {
        // Arrived whole in an earlier try.
        offset = file.size;
      } else if (u && u.length === file.size) {
        const h = await tusRequest("HEAD", url);
        if (h.ok) offset = Number(h.headers.get("upload-offset"));
        else url = null;
      } else url = null;
      if (!url) {
        const meta = [
          `filename ${b64(file.name)}`,
          `path ${b64(path)}`,
          `ingest ${b64(view.id)}`,
        ];
        const r = await tusRequest("POST", "/files", {
          "upload-length": String(file.size),
          "upload-metadata": meta.join(","),
        });
        if (r.status !== 201) throw new Error(`${path}: ${await problem(r)}`);
        url = new URL(r.headers.get("location"), location.href).pathname;
      }
      if (offset > 0) ui.li.classList.add("resumed");
      show(offset);
      try {
        await sendAll(data.csrf, t.network, url, offset, file, show);
      } catch (e) {
        ui.state.textContent = `${t.failed}: ${e.message}`;
        ui.li.classList.add("failed");
        throw new Error(`${path}: ${e.message}`);
      }
      ui.state.textContent = t.done;
      ui.li.classList.add("done");
      done += file.size;
      ended.push({ upload_id: url.split("/").pop(), path, modified_ms: file.lastModified });
    }
    said.textContent = t.sealing;
    const filed = await json("POST", `/api/v1/ingests/${view.id}/seal`, { files: ended, folders });
    localStorage.removeItem(key);
    said.className = "flash ok";
    said.textContent = t.filed
      .replace("{files}", String(filed.files))
      .replace("{source}", filed.source);
    const a = document.createElement("a");
    a.href = `/api/v1/ingests/${filed.id}/generation`;
    a.textContent = t.history;
    a.dataset.testid = "card-history";
    said.append(" ", a);
  } catch (e) {
    said.className = "flash error";
    said.textContent = `${t.failed}: ${e.message}`;
  }
}

input?.addEventListener("change", () => {
  if (input.files.length) ingest(fromPicker(input.files));
});
zone?.addEventListener("dragover", (e) => {
  e.preventDefault();
  zone.classList.add("over");
});
zone?.addEventListener("dragleave", () => zone.classList.remove("over"));
zone?.addEventListener("drop", async (e) => {
  e.preventDefault();
  zone.classList.remove("over");
  const entry = [...e.dataTransfer.items].map((i) => i.webkitGetAsEntry?.()).find((x) => x?.isDirectory);
  if (entry) ingest(await fromDrop(entry));
  else {
    said.className = "flash error";
    said.textContent = t.folder_only;
  }
});
