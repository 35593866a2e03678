// A movie's cuts page: while the job looks, the page looks again every two seconds; once found,
// each change's frames on either side are painted from the proxy, one seek at a time (the
// middle of each frame, so rounding never shows its neighbour). A seek is done when the video
// has said so and the frame sought has been handed to the screen (requestVideoFrameCallback):
// under load the first can come before the second, and the picture drawn would be the frame
// before. Each canvas keeps the frame it shows (`data-shown`).
const data = JSON.parse(document.getElementById("cuts-data").textContent);

if (data.looking) setTimeout(() => location.reload(), 2000);

const canvases = [...document.querySelectorAll("canvas[data-at]")];
if (data.proxy && data.fps && canvases.length) {
  const [num, den] = data.fps;
  const video = document.createElement("video");
  video.muted = true;
  video.preload = "auto";
  video.playsInline = true;
  // In the page (frames reach the screen only from a video that is drawn), out of the way.
  video.setAttribute("aria-hidden", "true");
  video.style.cssText = "position:fixed;right:0;bottom:0;width:4px;height:4px;opacity:0.01;pointer-events:none";
  document.body.append(video);
  video.src = data.proxy;
  const frames = "requestVideoFrameCallback" in HTMLVideoElement.prototype;
  // Resolves with the frame number shown once the seek to frame `at` is on screen (or, after
  // three seconds without word of it, -1: drawn as it is rather than never).
  const seek = (at) =>
    new Promise((done) => {
      let seeked = false;
      let shown = frames ? null : -1;
      const finish = () => {
        if (seeked && shown !== null) {
          clearTimeout(late);
          done(shown);
        }
      };
      const late = setTimeout(() => done(-1), 3000);
      const watch = () =>
        video.requestVideoFrameCallback((_, m) => {
          const f = Math.round((m.mediaTime * num) / den);
          // A frame from before the seek: wait for the next.
          if (f !== at) return watch();
          shown = f;
          finish();
        });
      if (frames) watch();
      video.addEventListener(
        "seeked",
        () => {
          seeked = true;
          finish();
        },
        { once: true },
      );
      video.currentTime = ((at + 0.5) * den) / num;
    });
  video.addEventListener(
    "loadeddata",
    async () => {
      for (const c of canvases) {
        const shown = await seek(Number(c.dataset.at));
        const g = c.getContext("2d");
        // The picture, letterboxed into the canvas.
        const s = Math.min(c.width / video.videoWidth, c.height / video.videoHeight);
        const w = video.videoWidth * s;
        const h = video.videoHeight * s;
        g.fillStyle = "#000";
        g.fillRect(0, 0, c.width, c.height);
        g.drawImage(video, (c.width - w) / 2, (c.height - h) / 2, w, h);
        c.dataset.painted = "true";
        if (shown >= 0) c.dataset.shown = String(shown);
      }
      document.body.dataset.cutsPainted = "true";
    },
    { once: true },
  );
}
