// A small picture of what the page drew, posted after each drawing for the /viewers page.

/** Models above this many triangles get no thumbnail: the renderer draws the scene once more
 * to photograph it, which for big models on a software renderer costs seconds. */
const MAX_TRIANGLES = 500_000;

/** The viewer's current image, scaled to `width` pixels wide, as a WebP data URL (PNG where the
 * browser cannot write WebP); null for an empty or too big scene. */
export async function thumbnailOf(viewer, triangles, width = 320) {
  if (!viewer?.ready || triangles > MAX_TRIANGLES) return null;
  const { dataUrl } = await viewer.getImage("thumbnail");
  const image = new Image();
  image.src = dataUrl;
  await image.decode();
  const scale = Math.min(1, width / image.width);
  const canvas = document.createElement("canvas");
  canvas.width = Math.max(1, Math.round(image.width * scale));
  canvas.height = Math.max(1, Math.round(image.height * scale));
  canvas.getContext("2d").drawImage(image, 0, 0, canvas.width, canvas.height);
  return canvas.toDataURL("image/webp", 0.8);
}

/** Triangles in a renderable tree (what decode.js makes). */
export function triangleCount(node) {
  if (node.parts) return node.parts.reduce((sum, part) => sum + triangleCount(part), 0);
  return (node.shape?.triangles?.length ?? 0) / 3;
}
