// ocp_vscode's config keys mapped onto three-cad-viewer's three option groups.

const DISPLAY = ["theme", "treeWidth", "glass", "tools", "pinning", "keymap", "measureTools"];
const RENDER = ["ambientIntensity", "directIntensity", "metalness", "roughness", "defaultOpacity", "edgeColor", "normalLen"];
const VIEWER = ["ortho", "control", "up", "axes", "axes0", "grid", "ticks", "centerGrid", "transparent", "blackEdges",
  "collapse", "position", "quaternion", "target", "zoom", "panSpeed", "rotateSpeed", "zoomSpeed",
  "clipIntersection", "clipPlaneHelpers", "clipObjectColors", "clipNormal0", "clipNormal1", "clipNormal2",
  "clipSlider0", "clipSlider1", "clipSlider2"];

function pick(config, keys) {
  const out = {};
  for (const key of keys) if (config[key] !== undefined && config[key] !== null) out[key] = config[key];
  return out;
}

function color(value) {
  return typeof value === "string" && value.startsWith("#") ? parseInt(value.slice(1), 16) : value;
}

export function splitOptions(config) {
  const render = pick(config, RENDER);
  if (render.edgeColor !== undefined) render.edgeColor = color(render.edgeColor);
  const viewer = pick(config, VIEWER);
  // ocp_vscode's show(grid=True) means all three planes.
  if (typeof viewer.grid === "boolean") viewer.grid = [viewer.grid, viewer.grid, viewer.grid];
  return { display: pick(config, DISPLAY), render, viewer };
}
