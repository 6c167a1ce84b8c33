// Models fetched by URL (those over the server's inline limit) are fetched and decoded in a
// worker (decode-worker.js); the page gets the decoded tree, its typed arrays transferred.
import { toShapes } from "./decode.js";

export class ModelLoader {
  constructor(workerUrl) {
    this.workerUrl = workerUrl;
  }

  /** `{model_id, decoded}` for the model at `url` (`bytes` long, for progress); `onProgress`
   * hears `{stage: "download", received, total}` and `{stage: "decode", at}` (`at`: when the
   * last byte arrived, wall-clock ms). */
  load(url, bytes, onProgress = () => {}) {
    if (!this.workerUrl || typeof Worker !== "function") return this.loadHere(url);
    return new Promise((resolve, reject) => {
      const worker = new Worker(this.workerUrl, { type: "module" });
      const done = (settle, value) => {
        worker.terminate();
        settle(value);
      };
      worker.onmessage = ({ data }) => {
        if (data.progress) onProgress({ stage: data.progress, received: data.received, total: data.total, at: data.at });
        else if (data.error) done(reject, new Error(data.error));
        else done(resolve, { model_id: data.modelId, decoded: data.shapes });
      };
      worker.onerror = (event) => done(reject, new Error(`the model could not be decoded: ${event.message ?? "the decoder failed"}`));
      worker.postMessage({ url, bytes });
    });
  }

  /** Without workers: the same on the page's own thread. */
  async loadHere(url) {
    const response = await fetch(url);
    if (!response.ok) {
      const detail = await response.json().catch(() => ({}));
      throw new Error(detail.error?.message ?? `the model could not be fetched (${response.status})`);
    }
    const message = await response.json();
    return { model_id: message.model_id, decoded: toShapes(message) };
  }
}
