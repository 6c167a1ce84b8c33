// A small picture of what the page drew, for the /viewers page. The frame is snapshotted in the
// task that drew it (it is still in WebGL's drawing buffer then), so it costs no second drawing
// and never calls into the renderer afterwards.

/** A snapshot of the frame just drawn on `canvas` (an ImageBitmap), or null. */
export function copyFrame(canvas) {
  if (!canvas?.width || !canvas?.height || typeof createImageBitmap !== "function") return Promise.resolve(null);
  return createImageBitmap(canvas).catch(() => null);
}

/** A snapshot scaled to `width` pixels wide, as a WebP data URL (JPEG where the browser cannot
 * write WebP: a PNG could pass the server's thumbnail limit). */
export function thumbnailOf(frame, width = 320) {
  if (!frame) return null;
  const scale = Math.min(1, width / frame.width);
  const canvas = document.createElement("canvas");
  canvas.width = Math.max(1, Math.round(frame.width * scale));
  canvas.height = Math.max(1, Math.round(frame.height * scale));
  canvas.getContext("2d").drawImage(frame, 0, 0, canvas.width, canvas.height);
  const webp = canvas.toDataURL("image/webp", 0.8);
  return webp.startsWith("data:image/webp") ? webp : canvas.toDataURL("image/jpeg", 0.85);
}
