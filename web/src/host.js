// Owns the three-cad-viewer instance: creates it on the first model, renders updates (keeping the
// camera when the config says "keep" or "center"), applies live settings, clears, and shows
// messages.
import { Viewer } from "./three-cad-viewer.js";
import { splitOptions } from "./options.js";
import { finished, renderOnce } from "./frames.js";
import { copyFrame } from "./thumbnail.js";

/** three-cad-viewer 3.1.6 keeps the groups it built for a model across `clear()` and reuses them
 * in the next `render()`, so a second model would show the first one again. */
function forgetModel(viewer) {
  for (const field of ["nestedGroup", "compactNestedGroup", "expandedNestedGroup", "compactTree", "expandedTree", "tree", "bbox"]) {
    viewer[field] = null;
  }
}

/** Tracks name the nodes of the model they were made for: any other model ignores them. */
const madeFor = (animation, modelId) => Boolean(animation) && animation.model_id === modelId;

export class ViewerHost {
  /** `reporter.notify(change)` hears the renderer's notifications; `measure` offers the
   * measurement tools (a page with a server to answer them). */
  constructor(container, pageOptions, reporter, { measure = false } = {}) {
    this.container = container;
    this.pageOptions = pageOptions;
    this.reporter = reporter;
    this.measure = measure;
    this.viewer = null;
    this.config = {};
    /** The model on screen (`{model_id, decoded}`). */
    this.model = null;
    window.addEventListener("resize", () => this.resize());
  }

  /** The renderer's display options for the current config and the page's URL options (the URL
   * wins: it is what the embedder asked for). */
  display() {
    const { display } = splitOptions({ measureTools: this.measure, ...this.config, ...this.pageOptions });
    return { ...display, ...this.size(display) };
  }

  size(display) {
    const treeWidth = display.treeWidth ?? 240;
    const glass = display.glass ?? true;
    const toolbar = display.tools === false ? 0 : 38;
    const height = this.pageOptions.height ?? window.innerHeight - toolbar - 8;
    return {
      cadWidth: Math.max(200, window.innerWidth - (glass ? 0 : treeWidth) - 4),
      height: Math.max(150, height),
      treeWidth,
      glass,
    };
  }

  /** The renderer for the current display options; a change of theme, tree width, glass or
   * tools builds a new one (3.1.6 reads them only when it is created). */
  ensureViewer() {
    const display = this.display();
    const key = JSON.stringify({ ...display, cadWidth: 0, height: 0 });
    if (this.viewer && this.displayKey === key) return this.viewer;
    this.discardViewer();
    this.viewer = new Viewer(this.container, display, (change) => this.reporter.notify(change));
    this.displayKey = key;
    return this.viewer;
  }

  /** Camera settings carried over from the model on screen: all of them for `keep`, the view
   * direction and zoom for `center` (the new model's own bounds give the target). */
  carriedCamera(mode) {
    const viewer = this.viewer;
    if (!viewer?.ready || (mode !== "keep" && mode !== "center")) return {};
    const carried = { quaternion: viewer.getCameraQuaternion(), zoom: viewer.getCameraZoom() };
    if (mode === "keep") {
      carried.position = viewer.getCameraPosition();
      carried.target = viewer.getCameraTarget();
    }
    return carried;
  }

  /** Draws `model` (`{model_id, decoded}`: the renderable tree, see decode.js) with `config`. */
  show(model, config) {
    this.hideMessage();
    this.config = { ...config };
    const shapes = model.decoded;
    const camera = this.carriedCamera(this.config.resetCamera);
    const viewer = this.ensureViewer();
    const { render, viewer: viewerOptions } = splitOptions(this.config);
    const modelId = model.model_id;
    let draw;
    try {
      viewer.clear();
      forgetModel(viewer);
      draw = renderOnce(
        viewer,
        // 3.1.6 shows the measure buttons by the viewer options, not the display options.
        () => viewer.render(shapes, render, { ...viewerOptions, ...camera, measureTools: this.display().measureTools }),
        () => this.drawn(viewer, modelId),
      );
    } catch (error) {
      // A renderer that failed half way is not trusted again: the next model gets a new one.
      this.discardViewer();
      this.model = null;
      throw error;
    }
    performance.mark("ocp:built");
    if (document.getElementById("progress")?.hidden === false) this.progress("Drawing");
    document.getElementById("splash").hidden = true;
    this.model = model;
    const animation = this.config.animation;
    if (madeFor(animation, modelId)) {
      try {
        this.animate(viewer, animation);
      } catch (error) {
        console.warn("ocp-notebook: the animation cannot be played", error);
      }
    }
    // The renderer notifies camera changes only when the user moves it: report where it starts.
    this.reporter.notify({
      position: viewer.getCameraPosition(),
      quaternion: viewer.getCameraQuaternion(),
      target: viewer.getCameraTarget(),
      zoom: viewer.getCameraZoom(),
    });
    try {
      draw();
    } catch (error) {
      // Like the renderer's own drawing it stands in for: the model is built, and the next
      // drawing (the renderer's deferred one, a camera move) shows it.
      console.warn("ocp-notebook: the drawing failed", error);
    }
  }

  /** After the model's drawing: keep a snapshot of it (for thumbnails), and once the GPU has
   * finished it, tell embedders and tests (`ocp-notebook:rendered`, with wall-clock time to
   * compare across processes). */
  async drawn(viewer, modelId) {
    // A renderer replaced (a clear, a new theme) before its drawing was finished shows nothing.
    if (this.viewer !== viewer || !viewer.ready) return;
    const frame = copyFrame(viewer.renderer?.domElement);
    await finished(viewer.renderer?.getContext());
    if (this.viewer !== viewer) return;
    performance.mark("ocp:drawn");
    this.progress(null);
    const at = performance.timeOrigin + performance.now();
    window.dispatchEvent(new CustomEvent("ocp-notebook:rendered", { detail: { modelId, at } }));
    const copy = await frame;
    this.lastFrame?.close?.();
    this.lastFrame = copy;
  }

  /** Plays `animation` (the server checked it against this model): 3.1.6 moves `tx`, `ty` and
   * `tz` tracks by the sum of all values so far, so they go to it as `t` vectors. */
  animate(viewer, { tracks, duration, speed, repeat, autoplay }) {
    const axis = { tx: 0, ty: 1, tz: 2 };
    for (const { path, action, times, values } of tracks) {
      if (action in axis) {
        const vectors = values.map((v) => [0, 0, 0].map((_, k) => (k === axis[action] ? v : 0)));
        viewer.addAnimationTrack(path, "t", times, vectors);
      } else if (action === "q") {
        // 3.1.6 multiplies by each value as a three.js quaternion, not an array.
        const rotations = values.map(([x, y, z, w]) => new window.THREE.Quaternion(x, y, z, w));
        viewer.addAnimationTrack(path, "q", times, rotations);
      } else {
        viewer.addAnimationTrack(path, action, times, values);
      }
    }
    viewer.initAnimation(duration, speed, "A", repeat);
    if (autoplay) viewer.controlAnimation("play");
  }

  /** Plays `animation` (the server's `animation` event; `null` stops it) if it was made for the
   * model on screen. */
  setAnimation(animation) {
    if (animation && !madeFor(animation, this.model?.model_id)) return;
    this.configure({ animation });
  }

  configure(config) {
    this.config = { ...this.config, ...config };
    if (this.model) this.show(this.model, { ...this.config, resetCamera: "keep" });
  }

  discardViewer() {
    try {
      this.viewer?.dispose();
    } catch {
      // already broken
    }
    this.viewer = null;
    this.displayKey = null;
    this.container.replaceChildren();
  }

  /** Back to the splash. The renderer goes too: 3.1.6 cannot draw or photograph a cleared one. */
  clear() {
    this.model = null;
    this.lastFrame?.close?.();
    this.lastFrame = null;
    this.progress(null);
    this.discardViewer();
    this.hideMessage();
    document.getElementById("splash").hidden = false;
  }

  resize() {
    if (!this.viewer) return;
    const { cadWidth, treeWidth, height, glass } = this.display();
    this.viewer.resizeCadView(cadWidth, treeWidth, height, glass);
  }

  async image() {
    if (!this.viewer || !this.viewer.ready) return null;
    const result = await this.viewer.getImage("screenshot");
    return result.dataUrl;
  }

  /** A line saying what the page is doing with a big model; `null` takes it away. */
  progress(text) {
    const line = document.getElementById("progress");
    if (!line) return;
    line.textContent = text ?? "";
    line.hidden = text == null;
  }

  showError(error) {
    this.progress(null);
    this.showMessage(`This model cannot be shown: ${error.message ?? error}`);
    console.warn("ocp-notebook:", error);
  }

  showMessage(text) {
    const box = document.getElementById("message");
    box.textContent = text;
    box.hidden = false;
  }

  hideMessage() {
    document.getElementById("message").hidden = true;
  }
}
