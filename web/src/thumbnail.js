// A small picture of what the page drew, for the /viewers page. It is copied from the renderer's
// canvas in the same task as the drawing (the frame is still in WebGL's drawing buffer then), so
// taking it costs no second drawing and never touches the renderer afterwards.

/** The frame just drawn on `canvas`, scaled to `width` pixels wide, as a canvas of our own; null
 * when the canvas is empty. Copying waits for the drawing to finish. */
export function copyFrame(canvas, width = 320) {
  if (!canvas?.width || !canvas?.height) return null;
  const scale = Math.min(1, width / canvas.width);
  const copy = document.createElement("canvas");
  copy.width = Math.max(1, Math.round(canvas.width * scale));
  copy.height = Math.max(1, Math.round(canvas.height * scale));
  copy.getContext("2d").drawImage(canvas, 0, 0, copy.width, copy.height);
  return copy;
}

/** A copied frame as a WebP data URL (PNG where the browser cannot write WebP). */
export function thumbnailOf(frame) {
  return frame ? frame.toDataURL("image/webp", 0.8) : null;
}
