// The backend of three-cad-viewer's measurement tools. In measure mode the renderer reports the
// active tool (`activeTool`) and the picks (`selectedShapeIDs`) through its notify callback, then
// waits for a `tool_response`. This asks the server, which answers from the stored mesh, and hands
// the answer to the renderer; a failure is said in the renderer's info box.
import { fetchJson } from "./http.js";

/** Picks each tool measures. */
const PICKS = { DistanceMeasurement: 2, PropertiesMeasurement: 1, AngleMeasurement: 2 };

const escapeHtml = (text) =>
  String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

export class MeasureTools {
  /** `api(path)` makes a server URL; `current()` answers `{viewer, modelId}` on screen. */
  constructor(api, viewerId, current) {
    this.api = api;
    this.viewerId = viewerId;
    this.current = current;
    this.tool = null;
    this.asked = 0;
  }

  /** Follows the renderer's notifications (`{key: {old, new}}`). */
  observe(change) {
    if (change.activeTool) {
      const tool = change.activeTool.new;
      this.tool = PICKS[tool] ? tool : null;
      this.asked += 1; // an answer for the old tool is dropped
    }
    const ids = change.selectedShapeIDs?.new;
    if (!Array.isArray(ids)) return;
    // Any change of the picks makes an answer on its way stale.
    const ticket = ++this.asked;
    if (this.tool && ids.length === PICKS[this.tool]) this.ask(this.tool, ids, ticket);
  }

  async ask(tool, ids, ticket) {
    const { viewer, modelId } = this.current();
    if (!viewer) return;
    let answer;
    try {
      answer = await fetchJson(this.api(`api/viewer/${this.viewerId}/measure`), {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ tool, ids, model_id: modelId }),
      });
    } catch (error) {
      if (ticket !== this.asked) return;
      this.say(viewer, `Cannot measure: ${error.message ?? error}`);
      // The renderer waits for an answer until its picks change: let go of them, so the next
      // picks are measured afresh.
      viewer.cadTools?.handleResetSelection();
      return;
    }
    // A newer pick, another tool or another renderer makes this answer stale.
    if (ticket !== this.asked || this.current().viewer !== viewer) return;
    viewer.handleBackendResponse(answer);
    window.dispatchEvent(new CustomEvent("ocp-notebook:measured", { detail: answer }));
  }

  say(viewer, text) {
    viewer.info?.addHtml(`<pre style="white-space: pre-wrap;">${escapeHtml(text)}</pre>`);
  }
}
