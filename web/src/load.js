// Models fetched by URL (those over the server's inline limit, and versions a page steps to) are
// fetched and decoded in a worker (decode-worker.js), by content: the page keeps the parts it has
// decoded (`PartCache`), and fetches and decodes only those a model adds.
import { toShapes } from "./decode.js";
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

  /** `{model_id, decoded}` for the model whose tree, parts and part URLs `urls` has, fetching
   * only the parts `cache` lacks. `onProgress` hears `{stage: "download", received, total}` and
   * `{stage: "decode", at}` (`at`: when the last byte arrived, wall-clock ms). */
  load(urls, cache, onProgress = () => {}) {
    return new Promise((resolve, reject) => {
      // Each model gets a worker of its own (two may load at once); the spare if it is free.
      const worker = this.spare ?? new Worker(this.workerUrl, { type: "module" });
      this.spare = null;
      // What the worker is told the page has stays until this load has used it.
      const have = cache.pin();
      const done = (settle, value) => {
        worker.terminate();
        cache.unpin(have);
        settle(value);
        setTimeout(() => this.warm(), 0);
      };
      worker.onmessage = ({ data }) => {
        if (data.progress) {
          onProgress({ stage: data.progress, received: data.received, total: data.total, at: data.at });
        } else if (data.error) {
          done(reject, new Error(data.error));
        } else {
          try {
            cache.add(data.decoded);
            const decoded = toShapes(data.message, (hash) => cache.get(hash));
            cache.loaded(data.modelId, Object.keys(data.message.parts ?? {}));
            done(resolve, { model_id: data.modelId, decoded });
          } catch (error) {
            done(reject, error);
          }
        }
      };
      worker.onerror = (event) => done(reject, new Error(`the model could not be decoded: ${event.message ?? "the decoder failed"}`));
      worker.postMessage({ ...urls, have: [...have] });
    });
  }
}

/** The parts a page has decoded, by hash: those of the last two models it loaded (the version
 * on screen and the one before, so that stepping between neighbours fetches nothing), and those
 * a load in flight counts on. */
export class PartCache {
  constructor() {
    this.parts = new Map();
    this.kept = [];
    this.pins = new Set();
    /** The last model loaded by content: the cache has all of its parts. */
    this.complete = null;
  }

  /** The hashes the cache has, kept until `unpin` of what this answers. */
  pin() {
    const have = new Set(this.parts.keys());
    this.pins.add(have);
    return have;
  }

  unpin(have) {
    this.pins.delete(have);
  }

  /** A model the cache has every part of, to name to the server: `preferred` (the version on
   * screen) if it is one, else the last one loaded. */
  since(preferred) {
    return this.kept.some((model) => model.modelId === preferred) ? preferred : this.complete;
  }

  add(decoded) {
    for (const [hash, shape] of Object.entries(decoded)) this.parts.set(hash, shape);
  }

  get(hash) {
    const shape = this.parts.get(hash);
    if (!shape) throw new Error(`part ${hash} was not fetched`);
    return shape;
  }

  /** The page loaded `modelId`, made of `parts` (hashes): keeps those, the last other model's,
   * and what loads in flight count on. */
  loaded(modelId, parts) {
    this.complete = modelId;
    this.kept = [{ modelId, parts }, ...this.kept.filter((model) => model.modelId !== modelId)].slice(0, 2);
    const keep = new Set(this.kept.flatMap((model) => model.parts));
    for (const pinned of this.pins) for (const hash of pinned) keep.add(hash);
    for (const hash of this.parts.keys()) {
      if (!keep.has(hash)) this.parts.delete(hash);
    }
  }
}
