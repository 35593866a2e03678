// A movie's cuts page: while the job looks, the page looks again every two seconds; once found,
// each change's frames on either side are painted from the proxy, one seek at a time (the
// middle of each frame, so rounding never shows its neighbour).
const data = JSON.parse(document.getElementById("cuts-data").textContent);

if (data.looking) setTimeout(() => location.reload(), 2000);

const canvases = [...document.querySelectorAll("canvas[data-at]")];
if (data.proxy && data.fps && canvases.length) {
  const [num, den] = data.fps;
  const video = document.createElement("video");
  video.muted = true;
  video.preload = "auto";
  video.src = data.proxy;
  const seek = (t) =>
    new Promise((done) => {
      video.addEventListener("seeked", done, { once: true });
      video.currentTime = t;
    });
  video.addEventListener(
    "loadeddata",
    async () => {
      for (const c of canvases) {
        await seek(((Number(c.dataset.at) + 0.5) * den) / num);
        const g = c.getContext("2d");
        // The picture, letterboxed into the canvas.
        const s = Math.min(c.width / video.videoWidth, c.height / video.videoHeight);
        const w = video.videoWidth * s;
        const h = video.videoHeight * s;
        g.fillStyle = "#000";
        g.fillRect(0, 0, c.width, c.height);
        g.drawImage(video, (c.width - w) / 2, (c.height - h) / 2, w, h);
        c.dataset.painted = "true";
      }
      document.body.dataset.cutsPainted = "true";
    },
    { once: true },
  );
}
