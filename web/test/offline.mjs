// Opens an HTML file (a notebook converted with nbconvert, or a scene file) from file:// in
// headless Chromium with every network request blocked, and reports whether the scene inside
// it (the file itself, or an `<iframe srcdoc>` in it) draws its model:
//
//   node web/test/offline.mjs FILE NAME '#colour'
//   node web/test/offline.mjs FILE MARKER '#colour' image
//
// Prints one JSON line: {"ok", "colour_share", "outside" (URLs the scene's frame asked for
// beyond the file; a converted notebook's own page may ask for its template's scripts, which
// fail here and do not matter), "errors"}. With `image` (a notebook converted with
// `--sanitize-html`, which keeps no script): whether the output of the cell whose code contains
// MARKER shows the model as an image instead, {"ok", "images", "colour_share" (of the
// largest), "scenes" (frames in the file with a viewer), "caption", "errors"}.
import { pathToFileURL } from "node:url";
import { launch, waitForModel, colorShare } from "./harness.mjs";

const [file, name, colour, mode] = process.argv.slice(2);
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
if (mode === "image") {
  await page.goto(url);
  await page.waitForTimeout(2000);
  result.images = 0;
  let cell = null;
  for (const candidate of await page.$$(".jp-CodeCell")) {
    const code = await candidate.$eval(".jp-InputArea", (node) => node.textContent).catch(() => "");
    if (code.includes(name)) cell = candidate;
  }
  if (!cell) errors.push(`no cell with ${name}`);
  result.caption = cell ? (await cell.$eval(".jp-OutputArea", (n) => n.innerText).catch(() => "")).trim().slice(0, 300) : "";
  let largest = null;
  for (const image of cell ? await cell.$$(".jp-OutputArea-output img") : []) {
    const box = await image.boundingBox();
    if (!box || box.width < 50 || box.height < 50 || !(await image.isVisible())) continue;
    result.images += 1;
    if (!largest || box.width * box.height > largest.area) largest = { image, area: box.width * box.height };
  }
  if (largest) result.colour_share = await colorShare(page, colour, await largest.image.screenshot());
  result.scenes = 0;
  for (const frame of page.frames()) {
    if (await frame.evaluate(() => Boolean(window.viewer)).catch(() => false)) result.scenes += 1;
  }
  result.ok = Boolean(cell);
  console.log(JSON.stringify(result));
  await browser.close();
  process.exit(0);
}
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
