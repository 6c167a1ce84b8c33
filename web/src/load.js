// Models fetched by URL (those over the server's inline limit) are fetched and decoded in a
// worker (decode-worker.js); the page gets the decoded tree, its typed arrays transferred.
export class ModelLoader {
  constructor(workerUrl) {
    this.workerUrl = workerUrl;
    this.spare = null;
  }

  /** Starts a worker ahead of the next model, so that its download does not wait for the
   * decoder to load. Only pages that have loaded a model keep one: one that shows inline models
   * only (most of a notebook's) never needs it. A spare that fails to start is dropped. */
  warm() {
    if (this.spare) return;
    const spare = new Worker(this.workerUrl, { type: "module" });
    spare.addEventListener("error", () => {
      if (this.spare === spare) this.spare = null;
    });
    this.spare = spare;
  }

  /** `{model_id, decoded}` for the model at `url` (`bytes` long, for progress); `onProgress`
   * hears `{stage: "download", received, total}` and `{stage: "decode", at}` (`at`: when the
   * last byte arrived, wall-clock ms). */
  load(url, bytes, onProgress = () => {}) {
    return new Promise((resolve, reject) => {
      // Each model gets a worker of its own (two may load at once); the spare if it is free.
      const worker = this.spare ?? new Worker(this.workerUrl, { type: "module" });
      this.spare = null;
      const done = (settle, value) => {
        worker.terminate();
        settle(value);
        setTimeout(() => this.warm(), 0);
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
}
