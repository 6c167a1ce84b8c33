// The compare view: a version drawn with each part in the colour of what happened to it since
// the version before (the server's diff), removed parts as faint ghosts, unchanged ones dimmed.
// The colours are Okabe and Ito's, chosen to stay apart for people with the common kinds of
// colour-blindness; ghosts and dimmed parts differ by transparency as well.

export const KINDS = [
  { key: "added", label: "added", color: "#0072B2", alpha: 1 },
  { key: "changed", label: "changed", color: "#E69F00", alpha: 1 },
  { key: "moved", label: "moved", color: "#009E73", alpha: 1 },
  { key: "restyled", label: "recoloured", color: "#CC79A7", alpha: 1 },
  { key: "removed", label: "removed", color: "#D55E00", alpha: 0.3 },
  { key: "unchanged", label: "unchanged", color: "#9E9E9E", alpha: 0.25 },
];

const byKey = Object.fromEntries(KINDS.map((kind) => [kind.key, kind]));

/** The kind of each part path in `diff` (the server's `/diff` answer). */
function kindsOf(diff) {
  const kinds = new Map();
  for (const { key } of KINDS) for (const path of diff[key] ?? []) kinds.set(path, byKey[key]);
  return kinds;
}

function paint(node, kinds) {
  if (node.parts) return { ...node, parts: node.parts.map((child) => paint(child, kinds)) };
  const kind = kinds.get(node.id) ?? byKey.unchanged;
  return { ...node, color: kind.color, alpha: kind.alpha };
}

/** The parts of `node` whose paths are in `keep`, in their groups, renamed from under `from` to
 * under `to`; `null` when none is. */
function ghosts(node, keep, from, to) {
  const id = to + node.id.slice(from.length);
  if (!node.parts) {
    return keep.has(node.id) ? { ...node, id, color: byKey.removed.color, alpha: byKey.removed.alpha } : null;
  }
  const parts = node.parts.map((child) => ghosts(child, keep, from, to)).filter(Boolean);
  return parts.length ? { ...node, id, parts } : null;
}

/** The decoded tree `after` painted by `diff`, with the parts removed since `before` (a decoded
 * tree, or null) added as ghosts in a group `removed_parts` of its root. */
export function compareTree(after, before, diff) {
  const painted = paint(after, kindsOf(diff));
  const removed = new Set(diff.removed ?? []);
  if (!before || removed.size === 0) return painted;
  const group = `${after.id}/removed_parts`;
  const ghost = ghosts(before, removed, before.id, group);
  if (!ghost) return painted;
  return { ...painted, parts: [...painted.parts, { ...ghost, name: "removed_parts" }] };
}

/** The legend: a swatch, a name and a count for each kind the diff has. */
export function legend(box, diff) {
  box.replaceChildren();
  for (const kind of KINDS) {
    const count = diff[kind.key]?.length ?? 0;
    if (count === 0) continue;
    const row = document.createElement("div");
    row.className = "ocp-legend-row";
    row.dataset.kind = kind.key;
    const swatch = document.createElement("span");
    swatch.className = "ocp-swatch";
    swatch.style.background = kind.color;
    swatch.style.opacity = String(Math.max(kind.alpha, 0.45));
    row.append(swatch, `${kind.label} ${count}`);
    box.append(row);
  }
}
