// A review session's report: each note's frame painted from its version's proxy (the middle of
// the frame, so rounding never shows its neighbour), with the note's drawing over it, one seek
// at a time; then it is ready to print.
import { render } from "/assets/draw.js";

const data = JSON.parse(document.getElementById("report-data").textContent);
document.getElementById("report-print").addEventListener("click", () => window.print());

const byProxy = new Map();
data.figures.forEach((f, i) => byProxy.set(f.proxy, [...(byProxy.get(f.proxy) || []), { ...f, i }]));

function load(src) {
  const video = document.createElement("video");
  video.muted = true;
  video.preload = "auto";
  video.src = src;
  return new Promise((done, failed) => {
    video.addEventListener("loadeddata", () => done(video), { once: true });
    video.addEventListener("error", failed, { once: true });
  });
}
const seek = (video, t) =>
  new Promise((done) => {
    video.addEventListener("seeked", done, { once: true });
    video.currentTime = t;
  });

for (const [proxy, figures] of byProxy) {
  let video;
  try {
    video = await load(proxy);
  } catch {
    continue;
  }
  const [num, den] = figures[0].fps;
  for (const f of figures) {
    await seek(video, ((f.at + 0.5) * den) / num);
    const figure = document.querySelector(`[data-figure="${f.i}"]`);
    const canvas = figure.querySelector("canvas");
    const vw = video.videoWidth;
    const vh = video.videoHeight;
    canvas.height = Math.round((canvas.width * vh) / vw);
    canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
    const svg = figure.querySelector("svg");
    svg.setAttribute("viewBox", `0 0 ${vw} ${vh}`);
    render(svg.querySelector("g"), f.shapes || []);
    figure.dataset.painted = "true";
  }
}
document.body.dataset.reportPainted = "true";
