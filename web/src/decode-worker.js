// Fetches and decodes a model off the page's main thread, so that the page stays responsive and
// says how far it is. Posts `{progress: "download", received, total}` while the bytes arrive,
// `{progress: "decode"}`, then `{modelId, shapes}` with every typed array transferred (not
// copied), or `{error}`.
import { buffersOf, toShapes } from "./decode.js";

self.onmessage = async ({ data: { url, bytes } }) => {
  try {
    const response = await fetch(url);
    if (!response.ok) {
      const detail = await response.json().catch(() => ({}));
      throw new Error(detail.error?.message ?? `the model could not be fetched (${response.status})`);
    }
    const reader = response.body.getReader();
    const chunks = [];
    let received = 0;
    let reported = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      received += value.length;
      if (received - reported >= (bytes || 0) / 100) {
        self.postMessage({ progress: "download", received, total: bytes });
        reported = received;
      }
    }
    // Wall-clock time, for the page's `ocp:fetched` mark (a worker has a clock of its own).
    self.postMessage({ progress: "decode", received, total: bytes, at: performance.timeOrigin + performance.now() });
    const message = JSON.parse(await new Blob(chunks).text());
    const shapes = toShapes(message);
    self.postMessage({ modelId: message.model_id, shapes }, [...buffersOf(shapes)]);
  } catch (error) {
    self.postMessage({ error: error.message ?? String(error) });
  }
};
