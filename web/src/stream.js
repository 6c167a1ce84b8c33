// The server's event stream. EventSource reconnects by itself after a dropped connection and
// sends Last-Event-ID, so the server replays exactly what was missed. It gives up for good when
// an answer is not an event stream (a server shutting down, a proxy error page); then this
// module opens a new one itself, naming the last event seen in the URL, with growing pauses.
// It reports the connection state and hands each event's JSON on, in order.

export function connect(url, onEvent, onState) {
  let queue = Promise.resolve();
  let lastId = null;
  let pause = 500;

  function open() {
    const target = new URL(url);
    if (lastId) target.searchParams.set("last_event_id", lastId);
    const source = new EventSource(target);
    onState("connecting");
    source.onopen = () => {
      pause = 500;
      onState("connected");
    };
    source.onerror = () => {
      if (source.readyState !== EventSource.CLOSED) {
        onState("reconnecting");
        return;
      }
      onState("reconnecting");
      setTimeout(open, pause);
      pause = Math.min(pause * 2, 5000);
    };
    source.onmessage = (message) => {
      if (message.lastEventId) lastId = message.lastEventId;
      let event;
      try {
        event = JSON.parse(message.data);
      } catch {
        return;
      }
      // One event at a time: a model fetch must finish before the next update applies.
      queue = queue.then(() => onEvent(event));
    };
  }

  open();
}
