// The server's event stream. EventSource reconnects by itself and sends Last-Event-ID, so the
// server replays exactly what was missed; this module only reports the connection state and
// hands each event's JSON on, in order.

export function connect(url, onEvent, onState) {
  let queue = Promise.resolve();
  const source = new EventSource(url);
  onState("connecting");
  source.onopen = () => onState("connected");
  source.onerror = () => onState(source.readyState === EventSource.CLOSED ? "closed" : "reconnecting");
  source.onmessage = (message) => {
    let event;
    try {
      event = JSON.parse(message.data);
    } catch {
      return;
    }
    // One event at a time: a model fetch must finish before the next update applies.
    queue = queue.then(() => onEvent(event));
  };
  return source;
}
