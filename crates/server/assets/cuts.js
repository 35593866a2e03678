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
  // three seconds without word of it, -1: drawn as it is rather than never). Whatever is left
  // waiting is let go either way.
  const seek = (at) =>
    new Promise((done) => {
      let seeked = false;
      let shown = frames ? null : -1;
      let handle = null;
      const end = (frame) => {
        clearTimeout(late);
        video.removeEventListener("seeked", onSeeked);
        if (handle !== null) video.cancelVideoFrameCallback(handle);
        handle = null;
        done(frame);
      };
      const finish = () => {
        if (seeked && shown !== null) end(shown);
      };
      const late = setTimeout(() => end(-1), 3000);
      const watch = () => {
        handle = video.requestVideoFrameCallback((_, m) => {
          handle = null;
          const f = Math.round((m.mediaTime * num) / den);
          // A frame from before the seek: wait for the next.
          if (f !== at) return watch();
          shown = f;
          finish();
        });
      };
      const onSeeked = () => {
        seeked = true;
        finish();
      };
      if (frames) watch();
      video.addEventListener("seeked", onSeeked);
      video.currentTime = ((at + 0.5) * den) / num;
    });
  video.addEventListener(
    "loadeddata",
    async () => {
      let last = -1;
      for (const c of canvases) {
        const at = Number(c.dataset.at);
        // The frame on screen already (a shot of one frame is both sides' neighbour): no seek,
        // which would bring no new frame to wait for.
        const shown = at === last ? at : await seek(at);
        last = shown;
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
      video.removeAttribute("src");
      video.load();
      video.remove();
      document.body.dataset.cutsPainted = "true";
    },
    { once: true },
  );
}
