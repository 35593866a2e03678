// The review player: a version's proxy shown frame by frame, each frame named by its production
// number (the shot's own, such as 1001) and its source timecode. The picture shown is always
// the frame named: a step seeks to the middle of that frame, and while playing the frame on
// screen is read back from the video (requestVideoFrameCallback). Every word comes from the page.
//
// Keys: space or K play and pause; L plays forward (again: faster), J backward; the arrows and
// `,` `.` step one frame; Shift with them ten; Home and End go to the first and last frame;
// I and O set the loop's in and out, P turns the loop off; F is full screen; Escape puts the
// drawing tool down.
//
// Compared with another version (B), both show the same production frame, side by side, with a
// wipe between them, or one at a time (A/B: B toggles B and A, both always decoded on that frame,
// so no black frame comes between).
//
// A note is written on the frame shown, or on the loop's frames; what is drawn on the picture
// (draw.js) goes with it, and the drawings of the notes are shown on their frames when paused.
//
// In a review session (session.js, which imports `player`) the presenter's every move is told
// to the session, and everyone else's player follows the session's playhead, its own transport
// put aside.

import { Sketch, place, render } from "/assets/draw.js";

const data = JSON.parse(document.getElementById("player-data").textContent);
const video = document.getElementById("player-video");
const stage = document.getElementById("player-stage");
const out = {
  frame: document.getElementById("player-frame"),
  tc: document.getElementById("player-tc"),
  index: document.getElementById("player-index"),
  loop: document.getElementById("player-loop"),
  play: document.getElementById("player-play"),
  speed: document.getElementById("player-speed"),
};
const [num, den] = data.fps;
let last = Math.max(0, data.frames - 1);
const frameMs = () => (1000 * den) / num / (video.playbackRate || 1);
let at = 0; // the file's frame shown (from 0)
let loop = null; // [in, out] as file frames
let reverse = null; // the timer of backward play
const picture = document.getElementById("player-picture");
const vb = document.getElementById("player-video-b");
const B = vb ? data.compare : null;
const svg = document.getElementById("player-draw");
const saved = svg.querySelector("[data-layer=saved]");
const draft = svg.querySelector("[data-layer=draft]");
const tools = document.getElementById("draw-tools");
const sketch = tools
  ? new Sketch(svg, draft, () => {
      tell();
      moved();
    })
  : null;
const liveLayer = svg.querySelector("[data-layer=live]");
let liveMarks = null; // what the session's presenter has drawn: { frame, shapes }
let following = false; // a session's follower: the presenter moves this player
const watchers = [];
// Tells the session (if any) that the playhead was moved here.
function moved() {
  for (const w of watchers) w();
}
const form = {
  frame: document.getElementById("player-note-frame"),
  out: document.getElementById("player-note-out"),
  drawing: document.getElementById("player-note-drawing"),
  on: document.getElementById("player-note-on"),
  drawn: document.getElementById("player-note-drawn"),
  range: document.getElementById("player-note-range"),
  rangeOn: document.getElementById("player-note-range-on"),
  rangeText: document.getElementById("player-note-range-text"),
};

// Timecode of `frames` (a count since midnight) at the file's rate, drop-frame where it is.
function timecode(frames) {
  const nominal = data.nominal;
  const day = nominal * 86400 - (data.drop ? (nominal / 30) * 2 * (1440 - 144) : 0);
  let f = ((frames % day) + day) % day;
  if (data.drop) {
    const drop = (nominal / 30) * 2;
    const perMinute = nominal * 60 - drop;
    const perTen = perMinute * 10 + drop;
    const tens = Math.floor(f / perTen);
    const rest = f % perTen;
    f += drop * 9 * tens + (rest > drop ? drop * Math.floor((rest - drop) / perMinute) : 0);
  }
  const two = (n) => String(n).padStart(2, "0");
  const ff = f % nominal;
  const s = Math.floor(f / nominal);
  return `${two(Math.floor(s / 3600))}:${two(Math.floor(s / 60) % 60)}:${two(s % 60)}${data.drop ? ";" : ":"}${two(ff)}`;
}

function tell() {
  out.frame.textContent = String(data.first + at);
  out.tc.textContent = data.tc0 === null ? "—" : timecode(data.tc0 + at);
  out.index.textContent = data.texts.of.replace("{at}", String(at + 1)).replace("{all}", String(data.frames));
  out.loop.textContent = loop
    ? data.texts.loop.replace("{in}", String(data.first + loop[0])).replace("{out}", String(data.first + loop[1]))
    : data.texts.no_loop;
  out.play.textContent = video.paused && !reverse ? data.texts.play : data.texts.pause;
  stage.dataset.frame = String(data.first + at);
  stage.dataset.index = String(at);
  overlay();
  noteAt();
}

// The drawings of the notes on the frame shown, while paused; the drawing being made, on its
// frame.
function overlay() {
  const f = data.first + at;
  const still = video.paused && !reverse;
  const here = still ? data.marks.filter((m) => f >= m.frame && f <= (m.out ?? m.frame)) : [];
  render(saved, here.flatMap((m) => m.shapes));
  svg.dataset.marks = String(here.length);
  const shared = still && liveMarks && liveMarks.frame === f ? liveMarks.shapes : [];
  render(liveLayer, shared);
  svg.dataset.live = String(shared.length);
  if (sketch) draft.style.display = sketch.frame === null || sketch.frame === f ? "" : "none";
}

// Where the note being written is: on the frame drawn on, else the frame shown; on the loop's
// frames when asked.
function noteAt() {
  if (!form.frame) return;
  const drawn = sketch !== null && sketch.shapes.length > 0;
  if (sketch && !drawn) sketch.frame = null;
  form.range.hidden = !loop;
  if (!loop) form.rangeOn.checked = false;
  const ranged = loop !== null && form.rangeOn.checked;
  const frame = ranged ? data.first + loop[0] : drawn ? sketch.frame : data.first + at;
  form.frame.value = String(frame);
  form.out.value = ranged ? String(data.first + loop[1]) : "";
  form.drawing.value = drawn ? JSON.stringify(sketch.shapes) : "";
  form.on.textContent = ranged
    ? data.texts.on_range.replace("{in}", String(frame)).replace("{out}", form.out.value)
    : data.texts.on_frame.replace("{frame}", String(frame));
  form.drawn.hidden = !drawn;
  if (loop) {
    form.rangeText.textContent = data.texts.range
      .replace("{in}", String(data.first + loop[0]))
      .replace("{out}", String(data.first + loop[1]));
  }
  if (tools) {
    for (const b of tools.querySelectorAll("[data-tool]")) b.setAttribute("aria-pressed", String(sketch.tool === b.dataset.tool));
    for (const b of tools.querySelectorAll("[data-colour]")) b.setAttribute("aria-pressed", String(sketch.colour === b.dataset.colour));
    document.getElementById("draw-undo").disabled = !drawn;
    document.getElementById("draw-clear").disabled = !drawn;
  }
}

// The file's frame `n`, paused: the middle of the frame, so rounding never shows its neighbour.
function show(n) {
  stopReverse();
  if (!video.paused) video.pause();
  if (vb && !vb.paused) vb.pause();
  at = Math.min(Math.max(0, n), last);
  stage.dataset.settled = "false";
  video.currentTime = ((at + 0.5) * den) / num;
  seekB();
  tell();
  moved();
}

// Settled once the picture named is shown, and B's beside it: no seek of either under way.
function seeked() {
  if (video.paused && !video.seeking && !(vb && vb.seeking)) stage.dataset.settled = "true";
}
video.addEventListener("seeked", seeked);

// B's frame for A's frame `n`: the same production frame, if B has it.
function bIndex(n) {
  const i = data.first + n - B.first;
  return i >= 0 && i < B.frames ? i : null;
}
const bTime = (i) => ((i + 0.5) * B.fps[1]) / B.fps[0];

// B on A's frame; where B has no such frame, its nearest, and a word saying so.
function seekB() {
  if (!vb) return;
  const i = bIndex(at);
  const none = document.getElementById("compare-none");
  none.hidden = i !== null;
  if (i === null) none.textContent = B.texts_none.replace("{frame}", String(data.first + at));
  picture.dataset.bFrame = i === null ? "" : String(B.first + i);
  picture.dataset.bMissing = String(i === null);
  const target = bTime(i ?? Math.min(Math.max(0, data.first + at - B.first), B.frames - 1));
  if (Math.abs(vb.currentTime - target) > 1e-6) vb.currentTime = target;
}
if (vb) {
  B.texts_none = data.texts.b_none;
  vb.addEventListener("seeked", () => {
    if (vb.paused) seeked();
  });
  // B's own picture bounds its frames, as A's does.
  vb.addEventListener("loadedmetadata", () => {
    if (Number.isFinite(vb.duration) && vb.duration > 0) {
      B.frames = Math.max(1, Math.min(B.frames, Math.round((vb.duration * B.fps[0]) / B.fps[1])));
    }
  });
}

function stopReverse() {
  if (reverse) {
    clearInterval(reverse);
    reverse = null;
  }
}

function play(rate) {
  stopReverse();
  video.playbackRate = rate;
  out.speed.value = String(rate);
  if (loop && (at < loop[0] || at >= loop[1])) show(loop[0]);
  stage.dataset.settled = "false";
  video.play();
  if (vb) {
    vb.playbackRate = rate;
    if (bIndex(at) !== null) vb.play().catch(() => {});
  }
  tell();
  moved();
}

function backward() {
  if (!video.paused) video.pause();
  stopReverse();
  const rate = Number(out.speed.value) || 1;
  reverse = setInterval(() => {
    const lowest = loop ? loop[0] : 0;
    if (at <= lowest) {
      if (loop) at = loop[1] + 1;
      else {
        stopReverse();
        tell();
        return;
      }
    }
    at -= 1;
    video.currentTime = ((at + 0.5) * den) / num;
    if (vb) {
      const i = bIndex(at);
      if (i !== null) vb.currentTime = bTime(i);
    }
    tell();
  }, 1000 / ((num / den) * rate));
  tell();
  moved();
}

function toggle() {
  if (video.paused && !reverse) play(Number(out.speed.value) || 1);
  else show(at);
}

// Back to the loop's in, playing on.
function again() {
  at = loop[0];
  video.currentTime = ((loop[0] + 0.5) * den) / num;
  follower();
  tell();
}

// While playing, B is kept on A's frame: started where B's frames begin, stopped where they
// end, put back when it drifts by more than a frame.
function follower() {
  if (!vb) return;
  const i = bIndex(at);
  const none = document.getElementById("compare-none");
  none.hidden = i !== null;
  picture.dataset.bMissing = String(i === null);
  if (i === null) {
    if (!vb.paused) vb.pause();
    none.textContent = B.texts_none.replace("{frame}", String(data.first + at));
    return;
  }
  if (Math.abs(vb.currentTime - bTime(i)) > (1.5 * B.fps[1]) / B.fps[0]) vb.currentTime = bTime(i);
  if (vb.paused && !vb.ended && !video.paused) {
    vb.playbackRate = video.playbackRate;
    vb.play().catch(() => {});
  }
}

// While playing, the frame on screen is the one named. The loop's out is played as long as any
// other frame, then playing goes on from its in.
let turning = null;
function follow(_now, meta) {
  if (!video.paused) {
    at = Math.min(last, Math.max(0, Math.round((meta.mediaTime * num) / den)));
    follower();
    if (loop && at > loop[1]) again();
    else if (loop && at === loop[1] && !turning) {
      turning = setTimeout(() => {
        turning = null;
        if (loop && !video.paused && at >= loop[1]) again();
      }, frameMs());
    }
    tell();
  }
  video.requestVideoFrameCallback(follow);
}
if ("requestVideoFrameCallback" in HTMLVideoElement.prototype) video.requestVideoFrameCallback(follow);
video.addEventListener("ended", () => {
  if (loop) {
    again();
    video.play();
  } else show(last);
});
// The picture's own length bounds the frames named (a count read from the file's container can
// include a longer sound track).
video.addEventListener("loadedmetadata", () => {
  if (Number.isFinite(video.duration) && video.duration > 0) {
    last = Math.max(0, Math.min(last, Math.round((video.duration * num) / den) - 1));
    tell();
  }
});
video.addEventListener("pause", tell);

document.addEventListener("keydown", (e) => {
  if (e.target.closest("input, textarea, select") || e.ctrlKey || e.metaKey || e.altKey) return;
  const by = e.shiftKey ? 10 : 1;
  const key = e.key.toLowerCase();
  // Following a session, the presenter moves the picture; full screen is still one's own.
  if (following && key !== "f") return;
  if (key === " " || key === "k") toggle();
  else if (key === "l") play(video.paused || reverse ? 1 : Math.min(4, video.playbackRate * 2));
  else if (key === "j") backward();
  else if (key === "arrowright" || key === "." || key === ">") show(at + by);
  else if (key === "arrowleft" || key === "," || key === "<") show(at - by);
  else if (key === "home") show(loop ? loop[0] : 0);
  else if (key === "end") show(loop ? loop[1] : last);
  // An in after the out (or an out before the in) starts the loop over from that end.
  else if (key === "i") loop = [at, loop && loop[1] >= at ? loop[1] : last];
  else if (key === "o") loop = [loop && loop[0] <= at ? loop[0] : 0, at];
  else if (key === "p") loop = null;
  else if (key === "f") fullscreen();
  else if (key === "escape" && sketch?.tool) sketch.use(sketch.tool);
  else if (key === "b" && vb) swap();
  else return;
  e.preventDefault();
  tell();
  if ("iop".includes(key)) moved();
});

function fullscreen() {
  if (document.fullscreenElement) document.exitFullscreen();
  else stage.requestFullscreen?.();
}

// A note's frame, shown; a frame this file does not hold is not offered.
for (const b of document.querySelectorAll("[data-goto]")) {
  const index = Number(b.dataset.goto) - data.first;
  if (index < 0 || index > last) b.disabled = true;
  b.addEventListener("click", () => show(index));
}
for (const b of document.querySelectorAll("[data-step]")) {
  b.addEventListener("click", () => show(at + Number(b.dataset.step)));
}
out.play.addEventListener("click", toggle);
document.getElementById("player-full")?.addEventListener("click", fullscreen);
out.speed.addEventListener("change", () => {
  video.playbackRate = Number(out.speed.value) || 1;
  if (reverse) backward();
  else moved();
  // The keys are the player's again.
  out.speed.blur();
});
// Comparing: the way the two are shown, the wipe's place, which one is shown in A/B.
function mode(m) {
  picture.classList.remove("side", "wipe", "ab");
  picture.classList.add(m);
  picture.dataset.shown = "a";
  document.getElementById("compare-wipe-at").hidden = m !== "wipe";
  document.getElementById("compare-swap").hidden = m !== "ab";
  wipe();
  lay();
}
function wipe() {
  const v = Number(document.getElementById("compare-wipe-at").value) / 10;
  picture.style.setProperty("--wipe", `${v}%`);
}
// A/B: the other one, at once (both are on the frame already).
function swap() {
  if (!picture.classList.contains("ab")) mode("ab");
  picture.dataset.shown = picture.dataset.shown === "a" ? "b" : "a";
  svg.style.visibility = picture.dataset.shown === "b" ? "hidden" : "";
  for (const r of document.querySelectorAll("input[name=mode]")) r.checked = r.value === "ab";
}
if (vb) {
  for (const r of document.querySelectorAll("input[name=mode]")) {
    r.addEventListener("change", () => {
      svg.style.visibility = "";
      mode(r.value);
      r.blur();
    });
  }
  document.getElementById("compare-wipe-at").addEventListener("input", wipe);
  document.getElementById("compare-swap").addEventListener("click", (e) => {
    swap();
    e.currentTarget.blur();
  });
}
// Comparing from the frame shown.
document.querySelector("[data-testid=compare-pick]")?.addEventListener("submit", () => {
  document.getElementById("compare-frame").value = String(data.first + at);
});

// The drawing layer lies on the picture, whatever the window's size.
function lay() {
  place(svg, video);
  sketch?.show();
  overlay();
}
new ResizeObserver(lay).observe(video);
video.addEventListener("loadedmetadata", lay);
document.addEventListener("fullscreenchange", lay);
if (sketch) {
  // Drawing stops the picture on the frame drawn on; a drawing started on another frame moves
  // there with what it holds.
  svg.addEventListener(
    "pointerdown",
    () => {
      if (!sketch.tool) return;
      if (!video.paused || reverse) show(at);
      sketch.frame = data.first + at;
      draft.style.display = "";
    },
    { capture: true },
  );
  for (const b of tools.querySelectorAll("[data-tool]")) {
    b.addEventListener("click", () => {
      sketch.use(b.dataset.tool);
      b.blur();
      tell();
    });
  }
  for (const b of tools.querySelectorAll("[data-colour]")) {
    b.addEventListener("click", () => {
      sketch.colour = b.dataset.colour;
      b.blur();
      tell();
    });
  }
  document.getElementById("draw-undo").addEventListener("click", () => sketch.undo());
  document.getElementById("draw-clear").addEventListener("click", () => sketch.clear());
  form.rangeOn.addEventListener("change", tell);
}
// Opened once the picture (and B's) can be shown.
const ready = (v) => new Promise((done) => (v.readyState >= 2 ? done() : v.addEventListener("loadeddata", done, { once: true })));
const opened = Promise.all([ready(video), ...(vb ? [ready(vb)] : [])]).then(() => show(data.open_at));
tell();

// What a review session reads of the player, and how it moves it.
const clampFrame = (n) => Math.min(Math.max(0, n), last);
export const player = {
  ready: opened,
  // The playhead here: production frames, as the session keeps them.
  now() {
    const playing = !video.paused || reverse !== null;
    const f = data.first + at;
    const drawn = sketch && sketch.shapes.length > 0 && sketch.frame === f && !playing;
    return {
      frame: f,
      playing,
      rate: (reverse ? -1 : 1) * (Number(out.speed.value) || 1),
      loop_frames: loop ? [data.first + loop[0], data.first + loop[1]] : null,
      drawing: drawn ? sketch.shapes : null,
    };
  },
  onMove(w) {
    watchers.push(w);
  },
  // Following: the transport is the presenter's.
  follow(on) {
    following = on;
    stage.dataset.following = String(on);
    for (const b of stage.querySelectorAll("[data-step], #player-play, #player-speed")) b.disabled = on;
  },
  // The session's playhead `p`, set `elapsed` ms ago: where this player goes.
  apply(p, elapsed) {
    liveMarks = p.drawing ? { frame: p.frame, shapes: p.drawing } : null;
    loop = p.loop_frames ? [clampFrame(p.loop_frames[0] - data.first), clampFrame(p.loop_frames[1] - data.first)] : null;
    const rate = Math.abs(p.rate) || 1;
    out.speed.value = String(rate);
    let target = p.frame - data.first;
    if (p.playing) target += Math.round((Math.max(0, elapsed) / 1000) * (num / den) * p.rate);
    // Played on round the loop, forward or backward.
    if (p.playing && loop && (target < loop[0] || target > loop[1])) {
      const n = loop[1] - loop[0] + 1;
      target = loop[0] + ((((target - loop[0]) % n) + n) % n);
    }
    target = clampFrame(target);
    if (!p.playing) show(target);
    else if (p.rate < 0) {
      at = target;
      backward();
    } else {
      if (video.paused || reverse || Math.abs(at - target) > 1) {
        stopReverse();
        at = target;
        video.currentTime = ((target + 0.5) * den) / num;
      }
      play(rate);
    }
  },
};
