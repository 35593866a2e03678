// Resumable uploads from the media page to /files (tus 1.0), a file at a time in pieces of
// 8 MiB, each with its progress. Where an upload stands is kept by the server: an upload cut
// off (a reload, a dropped network) resumes from the server's offset when the same file is
// chosen again (the same name, size and modification time), found by this browser's note of its
// address or by the page's list of the viewer's unfinished uploads. Every word shown comes from
// the page (`upload-data`); a refusal is shown by its title, in the page's language.

import { b64, problem, sendAll, tusRequest as request } from "/assets/tus.js";

const data = JSON.parse(document.getElementById("upload-data").textContent);
const t = data.texts;
const tusRequest = (method, url, headers) => request(data.csrf, method, url, headers);
const input = document.getElementById("upload-input");
const zone = document.getElementById("upload-zone");
const list = document.getElementById("upload-list");

const noteKey = (f) => `mstation-upload:${data.project}:${f.name}:${f.size}:${f.lastModified}`;

function row(file) {
  const li = document.createElement("li");
  li.className = "upload";
  li.dataset.name = file.name;
  const name = document.createElement("span");
  name.className = "upload-name";
  name.textContent = file.name;
  const bar = document.createElement("progress");
  bar.max = file.size || 1;
  bar.value = 0;
  const state = document.createElement("span");
  state.className = "upload-state muted";
  state.textContent = t.waiting;
  li.append(name, bar, state);
  list.append(li);
  return { li, bar, state };
}

// The address to send `file` to, and where the server stands: a noted or listed upload of the
// same file if the server still has it, else a new one.
async function start(file) {
  const known = [localStorage.getItem(noteKey(file))];
  for (const li of document.querySelectorAll("[data-open-upload]")) {
    if (
      li.dataset.name === file.name &&
      Number(li.dataset.length) === file.size &&
      Number(li.dataset.modified) === file.lastModified
    ) {
      known.push(li.dataset.openUpload);
    }
  }
  for (const url of known.filter(Boolean)) {
    const r = await tusRequest("HEAD", url);
    if (r.ok && Number(r.headers.get("upload-length")) === file.size) {
      return { url, offset: Number(r.headers.get("upload-offset")) };
    }
  }
  const meta = [`filename ${b64(file.name)}`, `modified ${b64(String(file.lastModified))}`];
  // A page of no project (a work order's hand-in) uploads to the organisation's files.
  if (data.project) meta.push(`project ${b64(data.project)}`);
  if (file.type) meta.push(`filetype ${b64(file.type)}`);
  const r = await tusRequest("POST", "/files", {
    "upload-length": String(file.size),
    "upload-metadata": meta.join(","),
  });
  if (r.status !== 201) throw new Error(await problem(r));
  const url = new URL(r.headers.get("location"), location.href).pathname;
  localStorage.setItem(noteKey(file), url);
  return { url, offset: 0 };
}

async function upload(file) {
  const ui = row(file);
  const began = performance.now();
  let sentFrom = 0;
  const show = (at) => {
    ui.bar.value = at;
    const secs = (performance.now() - began) / 1000;
    const rate =
      secs > 0.5 ? ` · ${t.rate.replace("{rate}", ((at - sentFrom) / secs / 1e6).toFixed(1))}` : "";
    ui.state.textContent = `${Math.floor((100 * at) / (file.size || 1))}%${rate}`;
  };
  try {
    let { url, offset } = await start(file);
    sentFrom = offset;
    if (offset > 0) ui.li.classList.add("resumed");
    show(offset);
    // An empty file is whole once created.
    await sendAll(data.csrf, t.network, url, offset, file, show);
    localStorage.removeItem(noteKey(file));
    ui.bar.value = ui.bar.max;
    ui.state.textContent = t.done;
    ui.li.classList.add("done");
    return true;
  } catch (e) {
    ui.state.textContent = `${t.failed}: ${e.message}`;
    ui.li.classList.add("failed");
    return false;
  }
}

async function uploadAll(files) {
  let all = true;
  for (const f of files) all = (await upload(f)) && all;
  // The files list is the server's: show it with the new files.
  if (all) setTimeout(() => location.reload(), 600);
}

input?.addEventListener("change", () => {
  if (input.files.length) uploadAll([...input.files]);
});
zone?.addEventListener("dragover", (e) => {
  e.preventDefault();
  zone.classList.add("over");
});
zone?.addEventListener("dragleave", () => zone.classList.remove("over"));
zone?.addEventListener("drop", (e) => {
  e.preventDefault();
  zone.classList.remove("over");
  const files = [...e.dataTransfer.files];
  if (files.length) uploadAll(files);
});
for (const b of document.querySelectorAll("[data-cancel-upload]")) {
  b.addEventListener("click", async () => {
    const r = await tusRequest("DELETE", b.dataset.cancelUpload);
    if (r.status === 204 || r.status === 404) b.closest("li")?.remove();
  });
}
