// Unpacks a one-file scene (see templates/scene.html.j2): the renderer and the page's modules,
// gzipped in one JSON array of [name, source] (each importing only modules before it), become
// blob: modules whose relative imports point at each other; then the gzipped model (or versions)
// is unpacked and drawn. Nothing is fetched from a network: the file's Content-Security-Policy allows only
// what is inside it.

function bytesOf(id) {
  const text = document.getElementById(id).textContent.trim();
  if (typeof Uint8Array.fromBase64 === "function") return Uint8Array.fromBase64(text);
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

async function gunzip(id) {
  const stream = new Blob([bytesOf(id)]).stream().pipeThrough(new DecompressionStream("gzip"));
  return new Response(stream).text();
}

function say(text) {
  const box = document.getElementById("message");
  box.textContent = text;
  box.hidden = false;
}

try {
  if (typeof DecompressionStream !== "function") {
    throw new Error("this browser cannot unpack it (it needs DecompressionStream: Chrome 80, Firefox 113, Safari 16.4 or newer)");
  }
  const modules = JSON.parse(await gunzip("ocp-code"));
  const urls = {};
  for (const [index, [name, text]] of modules.entries()) {
    // The renderer's bundle (first) imports nothing; the page's modules import siblings as
    // "./name.js".
    const source = index === 0
      ? text
      : text.replace(/(from\s*|import\s*)"\.\/([\w.-]+\.js)"/g, (_, head, dep) => `${head}"${urls[dep]}"`);
    urls[name] = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
  }
  const { showScene } = await import(urls["scene.js"]);
  document.getElementById("splash").textContent = "Unpacking the model…";
  // One model, or versions (which then carry the one the scene opens on).
  const message = document.getElementById("ocp-model") ? JSON.parse(await gunzip("ocp-model")) : null;
  const config = JSON.parse(document.getElementById("ocp-config").textContent);
  const history = document.getElementById("ocp-history") ? JSON.parse(await gunzip("ocp-history")) : null;
  showScene(message, config, JSON.parse(document.body.dataset.options || "{}"), history);
} catch (error) {
  say(`This scene cannot be shown: ${error.message ?? error}`);
  console.error("ocp-notebook:", error);
}
