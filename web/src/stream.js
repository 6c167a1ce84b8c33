// The server's events for this page's viewer. Pages share one stream per browser through a
// SharedWorker (events-worker.js) where the browser has one; otherwise the page holds its own
// EventSource. Either way EventSource resumes with Last-Event-ID after a drop, and a stream the
// browser gave up on (a server shutting down) is reopened with the last id in the URL. A deleted
// viewer is final: after its `closed` event (or the server's 204 for it) nothing is reopened.

export function connect({ base, viewer, workerUrl }, onEvent, onState) {
  let queue = Promise.resolve();
  const deliver = (event) => {
    // One event at a time: a model fetch must finish before the next update applies.
    queue = queue.then(() => onEvent(event));
  };
  if (typeof SharedWorker === "function" && workerUrl) {
    try {
      const worker = new SharedWorker(workerUrl, { name: "ocp-notebook-events" });
      worker.port.onmessage = ({ data }) => {
        if (data.state) onState(data.state);
        if (data.event) deliver(data.event);
      };
      worker.port.start();
      worker.port.postMessage({ subscribe: viewer, base });
      addEventListener("pagehide", () => worker.port.postMessage({ unsubscribe: viewer }));
      return;
    } catch (error) {
      console.warn("ocp-notebook: no shared worker, using a stream of this page's own", error);
    }
  }
  direct({ base, viewer }, deliver, onState);
}

function direct({ base, viewer }, deliver, onState) {
  const url = new URL(`api/viewer/${viewer}/events`, base);
  let lastId = null;
  let pause = 500;
  let closed = false;
  const close = () => {
    closed = true;
    onState("closed");
  };
  function open() {
    const target = new URL(url);
    if (lastId) target.searchParams.set("last_event_id", lastId);
    const source = new EventSource(target);
    onState("connecting");
    source.onopen = () => {
      pause = 500;
      onState("connected");
    };
    source.onerror = async () => {
      if (closed) return;
      onState("reconnecting");
      if (source.readyState !== EventSource.CLOSED) return;
      // The browser gave up: a server going away, or its 204 for a deleted viewer, which
      // EventSource cannot tell apart. The viewer's status says which (410 once deleted).
      if (await wasDeleted(base, viewer)) {
        deliver({ type: "closed", viewer_id: viewer });
        close();
        return;
      }
      setTimeout(open, pause);
      pause = Math.min(pause * 2, 5000);
    };
    source.onmessage = (message) => {
      if (message.lastEventId) lastId = message.lastEventId;
      let event;
      try {
        event = JSON.parse(message.data);
      } catch {
        return; // not an event of ours
      }
      deliver(event);
      if (event.type === "closed") {
        source.close();
        close();
      }
    };
  }
  open();
}

async function wasDeleted(base, viewer) {
  try {
    const response = await fetch(new URL(`api/viewer/${viewer}/status`, base));
    return response.status === 410;
  } catch {
    return false;
  }
}
