// Fetches and decodes a model off the page's main thread, so that the page stays responsive and
// says how far it is. A model comes by content: its tree form first (small), then in one request
// the parts the page lacks (the model's parts without those of a model the page has), and any
// still missing one by one. Posts `{progress: "download", received, total}` while the parts
// arrive, `{progress: "decode"}`, then `{modelId, message, decoded}` (the tree form, and the new
// parts by hash with every typed array transferred, not copied), or `{error}`.
import { buffersOfShape, decodeShape } from "./decode.js";
import { fetchJson, fetchOk } from "./http.js";

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

/** `tree`, `parts` and `part` are URLs (`part` takes a hash on its end); `have`: the hashes the
 * page has decoded already. */
async function load({ tree, parts, part, have }) {
  const message = await fetchJson(tree);
  const had = new Set(have);
  const lacking = Object.keys(message.parts ?? {}).filter((hash) => !had.has(hash));
  const bytes = lacking.reduce((sum, hash) => sum + message.parts[hash], 0);
  let sent = {};
  let received = 0;
  if (lacking.length > 0) {
    ({ text: sent, received } = await receive((await fetchOk(parts)).body.getReader(), bytes));
  }
  // Wall-clock time, for the page's `ocp:fetched` mark (a worker has a clock of its own).
  self.postMessage({ progress: "decode", received, total: bytes, at: performance.timeOrigin + performance.now() });
  if (typeof sent === "string") sent = JSON.parse(sent);
  const decoded = {};
  for (const hash of lacking) {
    // The page may lack some parts of the model it named: those come one by one.
    const mesh = sent[hash] ?? (await fetchJson(part + hash));
    decoded[hash] = decodeShape(mesh);
  }
  const buffers = new Set();
  for (const shape of Object.values(decoded)) buffersOfShape(shape, buffers);
  self.postMessage({ modelId: message.model_id, message, decoded }, [...buffers]);
}

self.onmessage = async ({ data }) => {
  try {
    await load(data);
  } catch (error) {
    self.postMessage({ error: error.message ?? String(error) });
  }
};
