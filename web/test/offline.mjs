// Opens an HTML file (a notebook converted with nbconvert, or a scene file) from file:// in
// headless Chromium with every network request blocked, and reports whether the scene inside
// it (the file itself, or an `<iframe srcdoc>` in it) draws its model:
//
//   node web/test/offline.mjs FILE NAME '#colour'
//
// Prints one JSON line: {"ok", "colour_share", "outside" (URLs the scene's frame asked for
// beyond the file; a converted notebook's own page may ask for its template's scripts, which
// fail here and do not matter), "errors"}.
import { pathToFileURL } from "node:url";
import { launch, waitForModel, colorShare } from "./harness.mjs";

const [file, name, colour] = process.argv.slice(2);
const url = pathToFileURL(file).href;
const browser = await launch();
const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
const asked = [];
await context.route("**/*", (route) => {
  const target = route.request().url();
  asked.push({ url: target, frame: route.request().frame() });
  return target.startsWith("file:") ? route.continue() : route.abort();
});
const page = await context.newPage();
const errors = [];
page.on("pageerror", (e) => errors.push(String(e)));
const result = { ok: false, colour_share: 0, outside: [], errors };
let scene = null;
try {
  await page.goto(url);
  const deadline = Date.now() + 60_000;
  while (!scene && Date.now() < deadline) {
    for (const frame of page.frames()) {
      if (await frame.evaluate(() => Boolean(window.viewer?.ready)).catch(() => false)) scene = frame;
    }
    if (!scene) await page.waitForTimeout(250);
  }
  if (!scene) throw new Error("no frame of the file drew a scene within 60 s");
  await scene.evaluate(() => window.frameElement?.scrollIntoView?.()).catch(() => {});
  await waitForModel(scene, name);
  result.colour_share = await colorShare(scene, colour);
  result.ok = true;
} catch (error) {
  errors.push(String(error));
}
result.outside = asked
  .filter(({ url, frame }) => frame === scene && !url.startsWith("file:") && !/^(data|blob|about):/.test(url))
  .map(({ url }) => url);
console.log(JSON.stringify(result));
await browser.close();
