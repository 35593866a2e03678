// The tus 1.0 requests the media page sends (uploads of files and of camera cards), with the
// page's CSRF token; a refusal is told by its problem's title, in the page's language.

export function tusRequest(csrf, method, url, headers = {}) {
  return fetch(url, {
    method,
    credentials: "same-origin",
    headers: { "tus-resumable": "1.0.0", "x-csrf-token": csrf, ...headers },
  });
}

// Base64 of UTF-8 text, for Upload-Metadata.
export function b64(text) {
  const bytes = new TextEncoder().encode(text);
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

export async function problem(r) {
  try {
    const p = await r.json();
    return p.title || `${r.status}`;
  } catch {
    return `${r.status}`;
  }
}

// One piece from `offset`, with progress as it goes; the new offset. A failure carries the
// answer's status (0: the network), and its title.
export function send(csrf, lost, url, offset, piece, onProgress) {
  return new Promise((resolve, reject) => {
    const x = new XMLHttpRequest();
    x.open("PATCH", url);
    x.setRequestHeader("tus-resumable", "1.0.0");
    x.setRequestHeader("upload-offset", String(offset));
    x.setRequestHeader("content-type", "application/offset+octet-stream");
    x.setRequestHeader("x-csrf-token", csrf);
    x.upload.onprogress = (e) => onProgress(offset + e.loaded);
    x.onload = () => {
      if (x.status === 204) resolve(Number(x.getResponseHeader("upload-offset")));
      else {
        let detail = `${x.status}`;
        try {
          const p = JSON.parse(x.responseText);
          detail = p.title || detail;
        } catch {}
        reject(Object.assign(new Error(detail), { status: x.status }));
      }
    };
    x.onerror = () => reject(Object.assign(new Error(lost), { status: 0 }));
    x.send(piece);
  });
}

export const PIECE = 8 * 1024 * 1024;

// Sends `file` to `url` from `offset` a piece at a time; a piece refused for where it stands
// (409, 423) or lost with the network is taken up from where the server says it stands.
export async function sendAll(csrf, lost, url, offset, file, onProgress) {
  let failures = 0;
  while (offset < file.size) {
    try {
      offset = await send(csrf, lost, url, offset, file.slice(offset, offset + PIECE), onProgress);
      failures = 0;
    } catch (e) {
      if (e.status !== 0 && e.status !== 409 && e.status !== 423) throw e;
      if (++failures > 5) throw e;
      await new Promise((r) => setTimeout(r, 500 * failures));
      const h = await tusRequest(csrf, "HEAD", url);
      if (!h.ok) throw new Error(await problem(h));
      offset = Number(h.headers.get("upload-offset"));
    }
  }
  return offset;
}
