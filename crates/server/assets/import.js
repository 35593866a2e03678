// The editorial import: a picked file is read into the text box, so the preview and the
// apply post the same text the person sees.
const file = document.getElementById("edl-file");
const text = document.getElementById("edl-text");
file?.addEventListener("change", async () => {
  const f = file.files[0];
  if (f) text.value = await f.text();
});
