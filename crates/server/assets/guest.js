// A guest's player: a note is written where the copy stands (milliseconds from its start),
// shown as the picture moves; writing one stops the picture there.
const video = document.querySelector("video.share-video");
const at = document.getElementById("share-note-at");
const when = document.getElementById("share-note-when");
if (video && at) {
  const tell = () => {
    const ms = Math.round(video.currentTime * 1000);
    at.value = String(ms);
    const s = Math.floor(ms / 1000);
    when.textContent = `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}.${String(ms % 1000).padStart(3, "0")}`;
  };
  for (const e of ["timeupdate", "seeked", "pause", "loadedmetadata"]) video.addEventListener(e, tell);
  document.querySelector("[data-testid=share-note-form] textarea").addEventListener("focus", () => {
    video.pause();
    tell();
  });
}
