// Turns a model message into what three-cad-viewer 3.1.6 renders: base64 buffers decoded into
// typed arrays, `{"ref": n}` leaves of the instanced form replaced by their shared mesh, and in a
// tree form (`/api/model/<id>/tree`) each `{"part": "<hash>"}` by that part, decoded.

const TYPED = { float32: Float32Array, int32: Uint32Array, uint32: Uint32Array };

/** Base64 to bytes: natively where the browser can (Chrome 140, Firefox 133, Safari 18.2),
 * else byte by byte. */
function bytesOf(base64) {
  if (typeof Uint8Array.fromBase64 === "function") return Uint8Array.fromBase64(base64);
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function decodeArray(value) {
  if (!value || value.codec !== "b64") return value;
  const Typed = TYPED[value.dtype];
  if (!Typed) throw new Error(`unsupported dtype ${value.dtype}`);
  const bytes = bytesOf(value.buffer);
  return new Typed(bytes.buffer, bytes.byteOffset, bytes.length / 4);
}

/** A mesh with its arrays decoded. */
export function decodeShape(shape) {
  const out = {};
  for (const [key, value] of Object.entries(shape)) out[key] = decodeArray(value);
  return out;
}

function resolve(node, instances, meshOf) {
  if (node.parts) {
    return { ...node, parts: node.parts.map((child) => resolve(child, instances, meshOf)) };
  }
  const shape = node.shape && node.shape.ref !== undefined ? instances[node.shape.ref] : node.shape && meshOf(node.shape);
  if (!shape) throw new Error(`${node.id}: ref ${node.shape?.ref} has no mesh`);
  return { ...node, shape };
}

const noParts = (hash) => {
  throw new Error(`part ${hash} was not fetched`);
};

/** The renderable tree of a message (`data`), a `{shapes}` wrapper or a bare tree; in a tree
 * form, `partOf(hash)` gives each part, decoded. */
export function toShapes(message, partOf = noParts) {
  const data = message.data ?? message.shapes ?? message;
  // The server's placeholder is `{"part": hash}` alone; a mesh may carry a `part` key of its own.
  const placeholder = (shape) => typeof shape.part === "string" && Object.keys(shape).length === 1;
  const meshOf = (shape) => (placeholder(shape) ? partOf(shape.part) : decodeShape(shape));
  if (data.instances) {
    return resolve(data.shapes, data.instances.map(meshOf), meshOf);
  }
  return resolve(data, [], meshOf);
}

/** Every ArrayBuffer of a decoded mesh. */
export function buffersOfShape(shape, found = new Set()) {
  for (const value of Object.values(shape)) {
    if (ArrayBuffer.isView(value)) found.add(value.buffer);
  }
  return found;
}
