// Fetches and decodes a model off the page's main thread, so that the page stays responsive and
// says how far it is. Posts `{progress: "download", received, total}` while the bytes arrive,
// `{progress: "decode"}`, then `{modelId, shapes}` with every typed array transferred (not
// copied), or `{error}`.
import { buffersOf, toShapes } from "./decode.js";

/** The body as text, decoded chunk by chunk while the next one is on its way (a Blob of the
 * chunks would pass every byte through the browser process before it could be read). */
async function receive(reader, bytes) {
  const decoder = new TextDecoder();
  const parts = [];
  let received = 0;
  let reported = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(decoder.decode(value, { stream: true }));
    received += value.length;
    if (received - reported >= (bytes || 0) / 100) {
      self.postMessage({ progress: "download", received, total: bytes });
      reported = received;
    }
  }
  parts.push(decoder.decode());
  return { text: parts.join(""), received };
}

self.onmessage = async ({ data: { url, bytes } }) => {
  try {
    const response = await fetch(url);
    if (!response.ok) {
      const detail = await response.json().catch(() => ({}));
      throw new Error(detail.error?.message ?? `the model could not be fetched (${response.status})`);
    }
    const { text, received } = await receive(response.body.getReader(), bytes);
    // Wall-clock time, for the page's `ocp:fetched` mark (a worker has a clock of its own).
    self.postMessage({ progress: "decode", received, total: bytes, at: performance.timeOrigin + performance.now() });
    const message = JSON.parse(text);
    const shapes = toShapes(message);
    self.postMessage({ modelId: message.model_id, shapes }, [...buffersOf(shapes)]);
  } catch (error) {
    self.postMessage({ error: error.message ?? String(error) });
  }
};
