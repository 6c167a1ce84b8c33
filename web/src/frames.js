// One drawing per model, made as soon as it is built, and knowing when it is on the screen.
//
// three-cad-viewer 3.1.6 draws the whole scene at the end of `render()` and again 50 ms later
// (`toggleAnimationLoop` defers an `update`). The picture is the same; for a big model on a
// software renderer each drawing costs seconds. The page holds back every drawing `render()`
// makes, then draws once itself, right after its own set-up of the model (an animation's first
// pose) instead of 50 ms later, and skips the renderer's deferred drawing. Skipping the first
// `update` after that drawing is safe whatever it was: the deferred drawing always comes, so if
// the skipped one was a camera move, the deferred one draws it. The renderer hands `update` to
// its tree view during `render()`, so the stand-in stays in place and passes every later call on.
//
// `ocp-notebook:rendered` then means drawn: a WebGL fence signals when the GPU has finished the
// frame, polled without blocking the page.

/** The renderer's own `update` of each viewer, wrapped once however many models it shows. */
const originals = new WeakMap();

/** Runs `render` (which calls `viewer.render`) with its drawings held back, and answers `draw`,
 * which makes the model's one drawing; `onDrawn` runs right after it, in the same task. */
export function renderOnce(viewer, render, onDrawn) {
  if (!originals.has(viewer)) originals.set(viewer, viewer.update);
  const update = originals.get(viewer);
  let stage = "rendering";
  viewer.update = (...args) => {
    if (stage === "rendering") return;
    if (stage === "drawn") {
      // The renderer's deferred drawing (or whatever came first: see above).
      stage = "live";
      return;
    }
    update(...args);
    if (stage === "built") {
      stage = "drawn";
      onDrawn();
    }
  };
  try {
    render();
  } finally {
    stage = "built";
  }
  // As the renderer's closing drawing: markers drawn, no notification (the page reports).
  return () => viewer.update(true, false);
}

/** Resolves when the GPU has finished every command issued so far on `gl` (at once where
 * fences are missing, and when the context is lost: a disposed renderer draws nothing more). */
export function finished(gl) {
  if (!gl || typeof gl.fenceSync !== "function" || gl.isContextLost()) return Promise.resolve();
  const sync = gl.fenceSync(gl.SYNC_GPU_COMMANDS_COMPLETE, 0);
  gl.flush();
  return new Promise((resolve) => {
    const poll = () => {
      if (gl.isContextLost()) {
        resolve();
        return;
      }
      const status = gl.clientWaitSync(sync, 0, 0);
      if (status === gl.TIMEOUT_EXPIRED) {
        setTimeout(poll, 4);
        return;
      }
      gl.deleteSync(sync);
      resolve();
    };
    poll();
  });
}
