// The viewer page: one three-cad-viewer on one viewer id, fed by the server's event stream.
import { connect } from "./stream.js";
import { toShapes } from "./decode.js";
import { ViewerHost } from "./host.js";
import { Reporter } from "./report.js";
import { thumbnailOf } from "./thumbnail.js";
import { ModelLoader, PartCache } from "./load.js";
import { MeasureTools } from "./tools.js";
import { Versions } from "./versions.js";
import { fetchJson } from "./http.js";

const body = document.body;
const viewerId = body.dataset.viewerId;
const root = body.dataset.root;
/** The renderer's notification of what is picked. */
const PICKS = "selectedShapeIDs";
const pageOptions = JSON.parse(body.dataset.options || "{}");
const api = (path) => new URL(root + path, document.baseURI).href;

const reporter = new Reporter(api, viewerId);
// The server answers the measurement tools for the model on screen.
const tools = new MeasureTools(api, viewerId, () => ({ viewer: host.viewer, modelId: host.model?.model_id }));
const notify = {
  notify(change) {
    tools.observe(change);
    // Picks on a version the user stepped back to stay in the page: the notebook's
    // `selection()` names parts of the model it shows.
    if (!versions.live && PICKS in change) {
      const { [PICKS]: _, ...rest } = change;
      change = rest;
    }
    reporter.notify(change);
  },
};
const host = new ViewerHost(document.getElementById("viewer"), pageOptions, notify, { measure: true });
const loader = new ModelLoader(new URL(body.dataset.decoder, document.baseURI).href);
const cache = new PartCache();

/** Loads a model by content, fetching only the parts the page has not decoded already. */
const load = (modelId, onProgress) => {
  const since = cache.since(versions.shown?.model_id);
  return loader.load({
    tree: api(`api/model/${modelId}/tree`),
    parts: api(`api/model/${modelId}/parts${since ? `?since=${since}` : ""}`),
    part: api("api/part/"),
  }, cache, onProgress);
};

/** Draws a version: with a push's config, else (a step) the page's, keeping the camera. */
const draw = (model, config = { ...host.config, resetCamera: "keep" }) => host.show(model, config);
/** A JSON answer of the server, or its error. */
const answer = (path) => fetchJson(api(path));

const versions = new Versions({
  history: () => answer(`api/viewer/${viewerId}/history`).catch(() => null),
  diff: (to) => answer(`api/viewer/${viewerId}/diff?to=${to}`),
  load: (modelId) => load(modelId),
  draw,
  goLive: async () => {
    if (!latest) {
      // The viewer was cleared while the user looked back.
      host.clear();
      versions.cleared();
      return;
    }
    await showEvent(latest);
  },
});

/** Models from this size on say what the page is doing while they load. */
const PROGRESS_FROM = 2_000_000;
const megabytes = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`;

/** Until the browser has painted what the page just changed (a progress line) before a task
 * that holds the main thread; at most 100 ms (hidden pages get no animation frames). */
const painted = () => Promise.race([
  new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0))),
  new Promise((resolve) => setTimeout(resolve, 100)),
]);

/** The newest model event: drawn, or held back while the user looks at another version. */
let latest = null;

/** Draws the model a `model_update` or `resync` event announces, inline or loaded by content;
 * nothing when the user stepped to another version while it loaded. */
async function showEvent(event) {
  const step = versions.steps;
  if (event.model) {
    const model = { ...event.model, decoded: toShapes(event.model) };
    await versions.show(model, event.config);
    return;
  }
  const big = event.bytes >= PROGRESS_FROM;
  const progress = ({ stage, received, total, at }) => {
    if (at) performance.mark("ocp:fetched", { startTime: at - performance.timeOrigin });
    if (!big) return;
    host.progress(stage === "download" && total
      ? `Downloading the model: ${Math.min(100, Math.floor((100 * received) / total))}% of ${megabytes(total)}`
      : `Decoding ${megabytes(total ?? received)}`);
  };
  progress({ stage: "download", received: 0, total: event.bytes });
  const model = await load(event.model_id, progress);
  performance.mark("ocp:decoded");
  if (versions.steps !== step || !versions.live) {
    host.progress(null);
    return;
  }
  if (big) {
    host.progress("Building the scene");
    await painted();
  }
  await versions.show(model, event.config);
}

const handlers = {
  async model_update(event) {
    performance.mark("ocp:event");
    latest = event;
    const listed = versions.refresh().catch(() => {});
    // While the user looks at another version, a push waits behind the "live" button.
    if (!versions.live) {
      await listed;
      return;
    }
    versions.follow();
    await showEvent(event);
    await listed;
  },
  async resync(event) {
    if (event.model_id) {
      await handlers.model_update(event);
    } else {
      latest = null;
      host.clear();
      versions.cleared();
      host.configure(event.config);
    }
  },
  config_update(event) {
    host.configure(event.config);
  },
  clear() {
    latest = null;
    host.clear();
    versions.cleared();
  },
  animation(event) {
    host.setAnimation(event.animation);
  },
  closed() {
    host.showMessage("This viewer was closed.");
  },
  async screenshot_request(event) {
    const image = await host.image();
    if (image) await reporter.screenshot(image, event.request_id);
  },
};

// After each drawing settles, a small picture of it for the /viewers page.
let thumbnailTimer = null;
addEventListener("ocp-notebook:rendered", () => {
  clearTimeout(thumbnailTimer);
  thumbnailTimer = setTimeout(() => {
    // The /viewers page shows what the notebook shows, not a version looked back at.
    if (!versions.live) return;
    const image = thumbnailOf(host.lastFrame);
    if (image) reporter.thumbnail(image);
  }, 800);
});

const base = new URL(root, document.baseURI).href;
const workerUrl = document.body.dataset.worker ? new URL(document.body.dataset.worker, document.baseURI).href : null;

connect({ base, viewer: viewerId, workerUrl }, async (event) => {
  const handle = handlers[event.type];
  console.debug(`ocp-notebook: ${event.type}`, event.model_id ?? "");
  if (!handle) return;
  try {
    await handle(event);
  } catch (error) {
    host.showError(error);
  }
}, (state) => {
  const badge = document.getElementById("connection");
  badge.dataset.state = state;
  badge.title = state;
});
