// The page of a one-file scene: the model the file carries, drawn with the full viewer UI (tree,
// clipping, camera, themes) and no server. Loaded by scene-loader.js from inside the file. A
// scene that carries its viewer's versions steps through them with the history control, from
// the file alone.
import { ViewerHost } from "./host.js";
import { decodeShape, toShapes } from "./decode.js";
import { Versions } from "./versions.js";

/** Nothing to report to: a scene has no server. */
const offline = { notify() {} };

/** Draws the model the file carries, `message`, or the version `history` names as shown, with
 * the viewer's `config`; `options` are the page options the file was made with (theme, tree
 * width, ...); `history` the versions it carries, if any
 * (`{shown, versions: [{model_id, created, label, diff, data}], parts}`). */
export function showScene(message, config, options, history = null) {
  const host = new ViewerHost(document.getElementById("viewer"), options, offline);
  if (history) stepsThrough(host, history, config);
  else host.show({ model_id: message.model_id, decoded: toShapes(message) }, config);
  return host;
}

/** The history control over the versions the file carries, opening on the one shown. */
function stepsThrough(host, history, config) {
  // Each part decoded once, when a version first needs it; its text goes then.
  const parts = new Map();
  const partOf = (hash) => {
    if (!parts.has(hash)) {
      parts.set(hash, decodeShape(history.parts[hash]));
      delete history.parts[hash];
    }
    return parts.get(hash);
  };
  const version = (modelId) => {
    const found = history.versions.find((v) => v.model_id === modelId);
    if (!found) throw new Error(`this scene has no version ${modelId}`);
    return found;
  };
  const draw = (model, settings = { ...host.config, resetCamera: "keep" }) => host.show(model, settings);
  const versions = new Versions({
    history: async () => ({ versions: history.versions, model_id: history.shown }),
    diff: async (to) => {
      const at = history.versions.findIndex((v) => v.model_id === to);
      return { ...version(to).diff, from: history.versions[at - 1]?.model_id ?? null, to };
    },
    load: async (modelId) => ({ model_id: modelId, decoded: toShapes(version(modelId), partOf) }),
    draw,
    liveTitle: "Back to the version this file opens on",
    goLive: () => versions.show(opening()),
  });
  const opening = () => ({ model_id: history.shown, decoded: toShapes(version(history.shown), partOf) });
  const shown = opening();
  host.show(shown, config);
  versions.refresh().then(() => versions.drawn(shown));
}
