// The history control: step through a viewer's versions (every push is one), back to live, and
// the compare view of a version against the one before. Stepping needs no kernel: on the viewer
// page versions come from the server by content, so a step to a neighbour fetches only the parts
// that differ; a scene file carries them (see scene.js).
import { compareTree, legend } from "./compare.js";

const time = (iso) => new Date(iso).toLocaleTimeString();

export class Versions {
  /** `history()` answers `{versions, model_id}` (the server's `/history`: the model on screen);
   * `diff(to)` what changed from the version before `to` (the server's `/diff`); `load(modelId)`
   * a version decoded (`{model_id, decoded}`); `draw(model, config)` draws one (without
   * `config`, keeping the camera);
   * `goLive()` draws the newest push the page held back. */
  constructor({ history, diff, load, draw, goLive, liveTitle = "Back to what the notebook shows now" }) {
    this.liveTitle = liveTitle;
    this.history = history;
    this.diff = diff;
    this.load = load;
    this.draw = draw;
    this.showLatest = goLive;
    this.versions = [];
    this.onServer = null;
    this.live = true;
    /** Counts the user's steps, so that a load that finishes after a later step draws nothing. */
    this.steps = 0;
    this.shown = null;
    this.comparing = false;
    this.bar = this.build();
    this.legend = document.createElement("div");
    this.legend.className = "ocp-legend";
    this.legend.hidden = true;
    document.body.append(this.bar, this.legend);
  }

  build() {
    const bar = document.createElement("div");
    bar.id = "history";
    bar.className = "ocp-history";
    bar.hidden = true;
    const button = (text, title, action) => {
      const element = document.createElement("button");
      element.type = "button";
      element.textContent = text;
      element.title = title;
      element.addEventListener("click", () => this.guard(action));
      return element;
    };
    this.previous = button("◀", "The version before", () => this.step(-1));
    this.label = document.createElement("span");
    this.label.className = "ocp-history-label";
    this.next = button("▶", "The version after", () => this.step(1));
    this.liveButton = button("live", this.liveTitle, () => this.goLive());
    this.liveButton.className = "ocp-live";
    const compare = document.createElement("label");
    this.compareBox = document.createElement("input");
    this.compareBox.type = "checkbox";
    this.compareBox.addEventListener("change", () => this.guard(() => this.setCompare(this.compareBox.checked)));
    compare.append(this.compareBox, " compare");
    compare.title = "Colour each part by what changed since the version before";
    bar.append(this.previous, this.label, this.next, this.liveButton, compare);
    return bar;
  }

  async guard(action) {
    try {
      await action();
    } catch (error) {
      console.warn("ocp-notebook: the version cannot be shown", error);
      this.label.textContent = `cannot show it: ${error.message ?? error}`;
    }
  }

  /** Reads the list again (after a push, at start). */
  async refresh() {
    const history = await this.history();
    if (!history) return;
    this.versions = history.versions;
    this.onServer = history.model_id;
    this.render();
  }

  /** The page drew `model` (a decoded version): what the bar says follows it. */
  drawn(model) {
    this.shown = model;
    this.render();
  }

  /** Draws `model` (a decoded version), once: as it is, or in the compare view while that is
   * on; with `config` (a push's), else the page's keeping the camera. */
  async show(model, config) {
    this.drawn(model);
    if (!this.comparing) return this.draw(model, config);
    try {
      await this.drawCompare(config);
    } catch (error) {
      this.draw(model, config);
      throw error;
    }
  }

  cleared() {
    this.shown = null;
    // The server shows nothing now: stepping to its newest version is looking back.
    this.onServer = null;
    this.live = true;
    this.render();
  }

  /** A push is being drawn: a step still loading draws nothing when it ends. */
  follow() {
    this.steps++;
  }

  index() {
    return this.versions.findIndex((version) => version.model_id === this.shown?.model_id);
  }

  render() {
    const at = this.index();
    this.bar.hidden = this.versions.length < 2;
    // After a clear (nothing shown), ◀ steps to the newest version.
    this.previous.disabled = at === 0 || this.versions.length === 0;
    this.next.disabled = at < 0 || at >= this.versions.length - 1;
    this.liveButton.disabled = this.live;
    this.liveButton.dataset.newer = String(!this.live && this.onServer !== this.shown?.model_id);
    this.label.textContent = at < 0
      ? `${this.versions.length} version${this.versions.length === 1 ? "" : "s"} kept`
      : `version ${at + 1} of ${this.versions.length} · ${this.versions[at].label ?? time(this.versions[at].created)}`;
  }

  async step(by) {
    const at = this.index() < 0 ? this.versions.length : this.index();
    const target = this.versions[at + by];
    if (!target) return;
    const step = ++this.steps;
    const wasLive = this.live;
    this.live = target.model_id === this.onServer && at + by === this.versions.length - 1;
    let model;
    try {
      model = await this.load(target.model_id);
    } catch (error) {
      // The list was stale (the version was dropped since): the page goes on as it was, with
      // the list read again, and draws a push it held back meanwhile.
      if (step === this.steps) await this.resume(wasLive);
      throw error;
    }
    if (step !== this.steps) return;
    await this.show(model);
  }

  async resume(wasLive) {
    this.live = wasLive;
    await this.refresh();
    if (wasLive && this.onServer && this.onServer !== this.shown?.model_id) await this.goLive();
  }

  async goLive() {
    this.steps++;
    this.live = true;
    this.render();
    await this.showLatest();
    await this.refresh();
  }

  async setCompare(on) {
    this.comparing = on;
    this.legend.hidden = !on;
    if (!this.shown) return;
    if (on) await this.drawCompare();
    else this.draw(this.shown);
  }

  /** The version on screen painted by what changed since the one before it. */
  async drawCompare(config) {
    const shown = this.shown;
    const diff = await this.diff(shown.model_id);
    const before = diff.from ? (await this.load(diff.from)).decoded : null;
    if (this.shown !== shown || !this.comparing) return;
    legend(this.legend, diff);
    this.draw({ model_id: shown.model_id, decoded: compareTree(shown.decoded, before, diff) }, config);
  }
}
