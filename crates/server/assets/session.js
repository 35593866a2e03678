// A review session in the player (player.js hands over `player`). Everyone follows the
// presenter's playhead: the session's stream sends where it is on arriving (a late joiner or a
// reload is there at once) and each change after; a playing playhead is counted on from when it
// was set, on the server's clock. The presenter's own moves are sent as they happen, the newest
// only when one is still on its way. Another item, another presenter or the end reloads the
// page, which the server draws as the session now is. Every word comes from the page.

export function join(player, s) {
  const url = `/api/v1/review-sessions/${s.id}`;
  const live = document.getElementById("session-live");
  const presenting = s.presenter === s.me && !s.ended;
  const headers = { "content-type": "application/json", "x-csrf-token": s.csrf };
  const reload = () => location.replace(location.pathname);
  player.follow(!s.ended && !presenting);

  // Following.
  let ready = false;
  let waiting = null; // the newest state, until the picture can be shown
  let applying = false;
  const follow = (st) => {
    const elapsed = st.playhead.playing ? Date.parse(st.now) - Date.parse(st.moved_at) + (performance.now() - st.got) : 0;
    applying = true;
    try {
      player.apply(st.playhead, elapsed);
    } finally {
      applying = false;
    }
  };
  let seen = -1;
  if (!s.ended) {
    const stream = new EventSource(`${url}/stream`);
    stream.addEventListener("state", (e) => {
      const st = JSON.parse(e.data);
      st.got = performance.now();
      if (st.seq < seen) return;
      seen = st.seq;
      live.textContent = s.texts.live;
      if (st.ended_at || st.playhead.item !== s.item || st.presenter_id !== s.presenter) {
        stream.close();
        reload();
        return;
      }
      if (presenting) return;
      if (ready) follow(st);
      else waiting = st;
    });
    // The stream reconnects by itself; meanwhile the page says so.
    stream.addEventListener("error", () => {
      live.textContent = s.texts.lost;
    });
  }
  player.ready.then(() => {
    ready = true;
    if (waiting) follow(waiting);
  });

  // Presenting: each move sent as it happens.
  const say = async (r) => {
    const problem = await r.json().catch(() => ({}));
    live.textContent = problem.title || s.texts.refused;
  };
  const put = (body) => fetch(`${url}/playhead`, { method: "PUT", headers, body: JSON.stringify(body) });
  let sending = false;
  let again = false;
  async function send() {
    if (sending) {
      again = true;
      return;
    }
    sending = true;
    try {
      do {
        again = false;
        const r = await put({ item: s.item, ...player.now() });
        if (r.status === 403 || r.status === 409) return reload();
        if (!r.ok) await say(r);
      } while (again);
    } catch {
      live.textContent = s.texts.lost;
    } finally {
      sending = false;
    }
  }
  if (presenting) {
    player.onMove(() => {
      if (!applying) send();
    });
    for (const b of document.querySelectorAll("[data-item]")) {
      b.addEventListener("click", async () => {
        const item = Number(b.dataset.item);
        const r = await put({ item, frame: s.firsts[item], playing: false, rate: 1 });
        if (r.ok) reload();
        else await say(r);
      });
    }
  }
  const post = (what) => async () => {
    const r = await fetch(`${url}/${what}`, { method: "POST", headers, body: "{}" });
    if (r.ok) reload();
    else await say(r);
  };
  document.getElementById("session-take-over")?.addEventListener("click", post("presenter"));
  document.getElementById("session-end")?.addEventListener("click", post("end"));
}
