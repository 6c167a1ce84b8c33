// The viewer page: one three-cad-viewer on one viewer id, fed by the server's event stream.
import { connect } from "./stream.js";
import { ViewerHost } from "./host.js";
import { Reporter } from "./report.js";
import { thumbnailOf } from "./thumbnail.js";

const body = document.body;
const viewerId = body.dataset.viewerId;
const root = body.dataset.root;
const pageOptions = JSON.parse(body.dataset.options || "{}");
const api = (path) => new URL(root + path, document.baseURI).href;

const reporter = new Reporter(api, viewerId);
const host = new ViewerHost(document.getElementById("viewer"), pageOptions, reporter);

const handlers = {
  async model_update(event) {
    performance.mark("ocp:event");
    const message = event.model ?? (await fetchModel(event.url));
    host.show(message, event.config);
  },
  async resync(event) {
    if (event.model_id) {
      await handlers.model_update(event);
    } else {
      host.clear();
      host.configure(event.config);
    }
  },
  config_update(event) {
    host.configure(event.config);
  },
  clear() {
    host.clear();
  },
  closed() {
    host.showMessage("This viewer was closed.");
  },
  async screenshot_request(event) {
    const image = await host.image();
    if (image) await reporter.screenshot(image, event.request_id);
  },
};

async function fetchModel(url) {
  const response = await fetch(api(url.replace(/^\//, "")));
  if (!response.ok) {
    const detail = await response.json().catch(() => ({}));
    throw new Error(detail.error?.message ?? `the model could not be fetched (${response.status})`);
  }
  const text = await response.text();
  performance.mark("ocp:fetched");
  const message = JSON.parse(text);
  performance.mark("ocp:parsed");
  return message;
}

// After each drawing settles, a small picture of it for the /viewers page.
let thumbnailTimer = null;
addEventListener("ocp-notebook:rendered", () => {
  clearTimeout(thumbnailTimer);
  thumbnailTimer = setTimeout(() => {
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
