// One drawing per model, and knowing when it is on the screen.
//
// three-cad-viewer 3.1.6 draws the whole scene at the end of `render()` and again 50 ms later
// (`toggleAnimationLoop` defers an `update`). The picture is the same; for a big model on a
// software renderer each drawing costs seconds. The page lets the deferred drawing alone happen:
// it stubs `update` during `render()`, then hooks the first `update` after it.
//
// `ocp-notebook:rendered` then means drawn: a WebGL fence signals when the GPU has finished the
// frame, polled without blocking the page.

/** Runs `render` (which calls `viewer.render`) with its closing drawing skipped; `onDrawn` runs
 * right after the next drawing the renderer makes, in the same task. */
export function renderOnce(viewer, render, onDrawn) {
  const update = viewer.update;
  viewer.update = () => {};
  try {
    render();
  } finally {
    viewer.update = (...args) => {
      viewer.update = update;
      update(...args);
      onDrawn();
    };
  }
}

/** Resolves when the GPU has finished every command issued so far on `gl` (at once where
 * fences are missing). */
export function finished(gl) {
  if (!gl || typeof gl.fenceSync !== "function") return Promise.resolve();
  const sync = gl.fenceSync(gl.SYNC_GPU_COMMANDS_COMPLETE, 0);
  gl.flush();
  return new Promise((resolve) => {
    const poll = () => {
      const status = gl.clientWaitSync(sync, 0, 0);
      if (status === gl.WAIT_FAILED || status === gl.TIMEOUT_EXPIRED) {
        setTimeout(poll, 4);
        return;
      }
      gl.deleteSync(sync);
      resolve();
    };
    poll();
  });
}
