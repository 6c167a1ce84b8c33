// Owns the three-cad-viewer instance: creates it on the first model, renders updates (keeping
// the camera when the config says "keep"), applies live settings, clears, and shows messages.
import { Viewer } from "./three-cad-viewer.js";
import { toShapes } from "./decode.js";
import { splitOptions } from "./options.js";

/** three-cad-viewer 3.1.6 keeps the groups it built for a model across `clear()` and reuses them
 * in the next `render()`, so a second model would show the first one again. */
function forgetModel(viewer) {
  for (const field of ["nestedGroup", "compactNestedGroup", "expandedNestedGroup", "compactTree", "expandedTree", "tree", "bbox"]) {
    viewer[field] = null;
  }
}

export class ViewerHost {
  constructor(container, pageOptions, reporter) {
    this.container = container;
    this.pageOptions = pageOptions;
    this.reporter = reporter;
    this.viewer = null;
    this.config = {};
    this.message = null;
    window.addEventListener("resize", () => this.resize());
  }

  size() {
    const { display } = splitOptions({ ...this.config, ...this.pageOptions });
    const treeWidth = display.treeWidth ?? 240;
    const glass = display.glass ?? true;
    const toolbar = display.tools === false ? 0 : 38;
    return {
      cadWidth: Math.max(200, window.innerWidth - (glass ? 0 : treeWidth) - 4),
      height: Math.max(150, window.innerHeight - toolbar - 8),
      treeWidth,
      glass,
    };
  }

  ensureViewer() {
    if (this.viewer) return this.viewer;
    const { display } = splitOptions({ ...this.config, ...this.pageOptions });
    const options = { ...display, ...this.size() };
    this.viewer = new Viewer(this.container, options, (change) => this.reporter.notify(change));
    return this.viewer;
  }

  show(message, config) {
    this.hideMessage();
    this.config = { ...config };
    const shapes = toShapes(message);
    const keep = this.config.resetCamera === "keep" && this.viewer && this.viewer.ready;
    const camera = keep ? this.viewer.getCameraPosition?.() : null;
    const viewer = this.ensureViewer();
    const { render, viewer: viewerOptions } = splitOptions(this.config);
    if (keep) {
      viewerOptions.position = camera ?? viewerOptions.position;
      viewerOptions.quaternion = viewer.getCameraQuaternion?.() ?? viewerOptions.quaternion;
      viewerOptions.target = viewer.getCameraTarget?.() ?? viewerOptions.target;
      viewerOptions.zoom = viewer.getCameraZoom?.() ?? viewerOptions.zoom;
    }
    try {
      viewer.clear();
      forgetModel(viewer);
      viewer.render(shapes, render, viewerOptions);
    } catch (error) {
      // A renderer that failed half way is not trusted again: the next model gets a new one.
      this.discardViewer();
      throw error;
    }
    document.getElementById("splash").hidden = true;
    this.message = message;
    // For embedders and tests: the model is drawn (wall-clock time, to compare across processes).
    const at = performance.timeOrigin + performance.now();
    window.dispatchEvent(new CustomEvent("ocp-notebook:rendered", { detail: { modelId: message.model_id, at } }));
  }

  configure(config) {
    this.config = { ...this.config, ...config };
    if (this.message) this.show(this.message, { ...this.config, resetCamera: "keep" });
  }

  discardViewer() {
    try {
      this.viewer?.dispose();
    } catch {
      // already broken
    }
    this.viewer = null;
    this.message = null;
    this.container.replaceChildren();
  }

  clear() {
    this.message = null;
    if (this.viewer) this.viewer.clear();
    document.getElementById("splash").hidden = false;
  }

  resize() {
    if (!this.viewer) return;
    const { cadWidth, treeWidth, height, glass } = this.size();
    this.viewer.resizeCadView(cadWidth, treeWidth, height, glass);
  }

  async image() {
    if (!this.viewer || !this.viewer.ready) return null;
    const result = await this.viewer.getImage("screenshot");
    return result.dataUrl;
  }

  showError(error) {
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
