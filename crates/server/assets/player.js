// The review player: a version's proxy shown frame by frame, each frame named by its production
// number (the shot's own, such as 1001) and its source timecode. The picture shown is always
// the frame named: a step seeks to the middle of that frame, and while playing the frame on
// screen is read back from the video (requestVideoFrameCallback). Every word comes from the page.
//
// Keys: space or K play and pause; L plays forward (again: faster), J backward; the arrows and
// `,` `.` step one frame; Shift with them ten; Home and End go to the first and last frame;
// I and O set the loop's in and out, P turns the loop off; F is full screen.

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
  // A note is written on the frame shown.
  const frame = document.getElementById("player-note-frame");
  if (frame) frame.value = String(data.first + at);
  const on = document.getElementById("player-note-on");
  if (on) on.textContent = data.texts.on_frame.replace("{frame}", String(data.first + at));
}

// The file's frame `n`, paused: the middle of the frame, so rounding never shows its neighbour.
function show(n) {
  stopReverse();
  if (!video.paused) video.pause();
  at = Math.min(Math.max(0, n), last);
  stage.dataset.settled = "false";
  video.currentTime = ((at + 0.5) * den) / num;
  tell();
}

video.addEventListener("seeked", () => {
  if (video.paused) stage.dataset.settled = "true";
});

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
  tell();
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
    tell();
  }, 1000 / ((num / den) * rate));
  tell();
}

function toggle() {
  if (video.paused && !reverse) play(Number(out.speed.value) || 1);
  else show(at);
}

// Back to the loop's in, playing on.
function again() {
  at = loop[0];
  video.currentTime = ((loop[0] + 0.5) * den) / num;
  tell();
}

// While playing, the frame on screen is the one named. The loop's out is played as long as any
// other frame, then playing goes on from its in.
let turning = null;
function follow(_now, meta) {
  if (!video.paused) {
    at = Math.min(last, Math.max(0, Math.round((meta.mediaTime * num) / den)));
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
  else return;
  e.preventDefault();
  tell();
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
  // The keys are the player's again.
  out.speed.blur();
});
if (video.readyState >= 2) show(data.open_at);
else video.addEventListener("loadeddata", () => show(data.open_at), { once: true });
tell();
