// A SharedWorker that gives every viewer page of this server in this browser one shared event
// stream. Browsers open at most six HTTP/1.1 connections per host, so a notebook with a dozen
// viewer iframes cannot hold a stream each; here they share `api/events?viewer=a&viewer=b...`,
// reopened (resuming every viewer exactly, by its composite id) when the set of viewers changes.
// A deleted viewer's pages get its `closed` event and are let go: the stream is reopened without
// it (the server answers a deleted viewer in a shared stream with one `closed` event each time).

const pages = new Map(); // port -> { viewer, base }
let source = null;
let openKey = "";
let lastId = ""; // composite: "a:17,b:42"
let state = "connecting";

function broadcastState(next) {
  state = next;
  for (const port of pages.keys()) port.postMessage({ state });
}

function withoutViewer(composite, viewer) {
  return composite.split(",").filter((pair) => pair && !pair.startsWith(`${viewer}:`)).join(",");
}

function reopen(force = false) {
  const viewers = [...new Set([...pages.values()].map((page) => page.viewer))].sort();
  const key = viewers.join(",");
  if (key === openKey && !force) return;
  source?.close();
  source = null;
  openKey = key;
  if (viewers.length === 0) return;
  const base = [...pages.values()][0].base;
  const url = new URL("api/events", base);
  for (const viewer of viewers) url.searchParams.append("viewer", viewer);
  if (lastId) url.searchParams.set("last_event_id", lastId);
  const stream = new EventSource(url);
  source = stream;
  broadcastState("connecting");
  stream.onopen = () => broadcastState("connected");
  stream.onerror = () => {
    broadcastState("reconnecting");
    if (stream.readyState === EventSource.CLOSED && source === stream) {
      setTimeout(() => source === stream && reopen(true), 1000);
    }
  };
  stream.onmessage = (message) => {
    if (message.lastEventId) lastId = message.lastEventId;
    let event;
    try {
      event = JSON.parse(message.data);
    } catch {
      return;
    }
    const closed = event.type === "closed";
    for (const [port, page] of pages) {
      if (page.viewer !== event.viewer_id) continue;
      port.postMessage({ event });
      if (closed) {
        port.postMessage({ state: "closed" });
        pages.delete(port);
      }
    }
    if (closed) {
      lastId = withoutViewer(lastId, event.viewer_id);
      reopen();
    }
  };
}

self.onconnect = (connection) => {
  const port = connection.ports[0];
  port.onmessage = ({ data }) => {
    if (data.subscribe) {
      const known = [...pages.values()].some((page) => page.viewer === data.subscribe);
      pages.set(port, { viewer: data.subscribe, base: data.base });
      port.postMessage({ state });
      // A second page of a viewer already streamed needs that viewer's current state: forget
      // its position so the reopened stream starts it afresh.
      if (known) lastId = withoutViewer(lastId, data.subscribe);
      reopen(known);
    } else if (data.unsubscribe) {
      pages.delete(port);
      reopen();
    }
  };
  port.start();
};
