// One drawing per model, made as soon as it is built, and knowing when it is on the screen.
//
// three-cad-viewer 3.1.6 draws the whole scene at the end of `render()` and again 50 ms later
// (`toggleAnimationLoop` defers an `update`). The picture is the same; for a big model on a
// software renderer each drawing costs seconds. The page holds back every drawing `render()`
// makes and draws once itself when it has set the model up, without waiting the 50 ms; the
// first `update` after that drawing is skipped. That is the renderer's deferred drawing, or, if
// something came first (a camera move, an animation's loop), that: the deferred drawing always
// follows, so nothing stays undrawn. An animation that plays draws its first frame itself while
// the page sets it up; the page's own drawing is then the one skipped. The renderer hands
// `update` to its tree view during `render()`, so the stand-in stays in place and passes every
// later call on.
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
