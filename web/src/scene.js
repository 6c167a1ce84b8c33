// The page of a one-file scene: the model the file carries, drawn with the full viewer UI (tree,
// clipping, camera, themes) and no server. Loaded by scene-loader.js from inside the file.
import { ViewerHost } from "./host.js";

/** Nothing to report to: a scene has no server. */
const offline = { notify() {} };

/** Draws `message` with the viewer's `config`; `options` are the page options the file was made
 * with (theme, tree width, ...). */
export function showScene(message, config, options) {
  const host = new ViewerHost(document.getElementById("viewer"), options, offline);
  host.show(message, config);
  return host;
}
