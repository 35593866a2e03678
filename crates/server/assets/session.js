// A review session's page: the session's bar, and the review player (player.js) when the
// version the session is on can play. Everyone follows the presenter's playhead: the page
// opens where the session was when it was drawn, and the session's stream sends where it is on
// arriving (a late joiner or a reload is there at once) and each change after; a playing
// playhead is counted on from when it was set, on the server's clock. The presenter's own moves
// are sent as they happen, those made at one go as one, the newest only when one is still on its
// way. Another item or version, another presenter or the end reloads the page, which the server
// draws as the session now is. Every word comes from the page.

const s = JSON.parse(document.getElementById("session-data").textContent);
const loaded = performance.now();
const url = `/api/v1/review-sessions/${s.id}`;
const page = `/app/review-sessions/${s.id}`;
const live = document.getElementById("session-live");
const headers = { "content-type": "application/json", "x-csrf-token": s.csrf };
const presenting = s.presenting;
let leaving = false;
const reload = () => {
  leaving = true;
  location.replace(page);
};

// The player, when the version plays; a version still being made shows its bar only.
const player = document.getElementById("player-video")
  ? (await import("/assets/player.js")).player
  : { ready: Promise.resolve(), now: () => null, onMove() {}, follow() {}, apply() {} };
player.follow(!s.ended && !presenting);

// Where a state's playhead is now (ms since it was set).
const since = (st, got) => (st.playhead.playing ? Date.parse(st.now) - Date.parse(st.moved_at) + (performance.now() - got) : 0);
let applying = false;
function go(st, got) {
  applying = true;
  try {
    player.apply(st.playhead, since(st, got));
  } finally {
    applying = false;
  }
}

// Opened where the session was when the page was drawn, the presenter's page too (a reload
// goes on from where the session is); only then are the presenter's moves the session's.
let ready = false;
let waiting = null; // the newest state, until the picture can be shown
player.ready.then(() => {
  ready = true;
  go(waiting ? waiting.st : s.state, waiting ? waiting.got : loaded);
  waiting = null;
  if (presenting) player.onMove(moved);
});

// Following.
let seen = s.state.seq;
if (!s.ended) {
  const stream = new EventSource(`${url}/stream`);
  stream.addEventListener("state", (e) => {
    const st = JSON.parse(e.data);
    const got = performance.now();
    live.textContent = s.texts.live;
    if (st.seq < seen) return;
    seen = st.seq;
    // Changed since the page was drawn: to another item or version (the playlist changed),
    // another presenter, or ended.
    const elsewhere = st.playhead.item !== s.state.playhead.item || st.version_id !== s.state.version_id;
    const changed = st.seq > s.state.seq && (elsewhere || st.presenter_id !== s.state.presenter_id);
    if (st.ended_at || changed) {
      stream.close();
      reload();
      return;
    }
    if (presenting) return;
    if (ready) go(st, got);
    else waiting = { st, got };
  });
  // The stream reconnects by itself; meanwhile the page says so.
  stream.addEventListener("error", () => {
    if (!leaving) live.textContent = s.texts.lost;
  });
}

// Presenting: each move sent as it happens.
const say = async (r) => {
  const problem = await r.json().catch(() => ({}));
  // No longer the presenter, or the session ended: the page as it now is.
  if (problem.code === "tracking.not_presenter" || r.status === 409) return reload();
  live.textContent = problem.title || s.texts.refused;
};
const put = (body) => fetch(`${url}/playhead`, { method: "PUT", headers, body: JSON.stringify(body) });
let sending = false;
let again = false;
let soon = false;
// Moves made at one go (a play that first goes to the loop's in) are sent as one.
function moved() {
  if (applying || leaving || soon) return;
  soon = true;
  queueMicrotask(() => {
    soon = false;
    send();
  });
}
async function send() {
  if (sending) {
    again = true;
    return;
  }
  sending = true;
  try {
    do {
      again = false;
      if (leaving) break;
      const r = await put({ item: s.state.playhead.item, ...player.now() });
      if (!r.ok) await say(r);
    } while (again);
  } catch {
    // Not sent: said, and sent again shortly (the newest playhead).
    live.textContent = s.texts.lost;
    setTimeout(moved, 500);
  } finally {
    sending = false;
  }
}
// Whatever was on its way, sent first; nothing after.
async function last() {
  leaving = true;
  while (sending) await new Promise((done) => setTimeout(done, 10));
}
if (presenting) {
  for (const b of document.querySelectorAll("[data-item]")) {
    b.addEventListener("click", async () => {
      const item = Number(b.dataset.item);
      await last();
      const r = await put({ item, frame: s.firsts[item], playing: false, rate: 1 });
      if (r.ok) reload();
      else {
        leaving = false;
        await say(r);
      }
    });
  }
}
const post = (what) => async () => {
  await last();
  const r = await fetch(`${url}/${what}`, { method: "POST", headers, body: "{}" });
  if (r.ok) reload();
  else {
    leaving = false;
    await say(r);
  }
};
document.getElementById("session-take-over")?.addEventListener("click", post("presenter"));
document.getElementById("session-end")?.addEventListener("click", post("end"));
