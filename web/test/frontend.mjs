// Opens a notebook in a running JupyterLab or Notebook 7 in headless Chromium and reports what
// the output of the cell whose code contains MARKER shows: an image, and how much of it is the
// model's colour, or the scene itself, drawn, and how much of its frame is that colour.
//
//   node web/test/frontend.mjs URL MARKER '#colour'
//
// Prints one JSON line: {"ok", "images" (visible images in the output), "image_share" (of the
// largest), "scenes" (scene frames in the output), "scene_share", "caption", "errors"}.
import { launch, colorShare } from "./harness.mjs";

const [url, marker, colour] = process.argv.slice(2);
const browser = await launch();
const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
const page = await context.newPage();
const errors = [];
const result = { ok: false, images: 0, image_share: 0, scenes: 0, scene_share: 0, caption: "", errors };

/** The cell whose code contains the marker, scrolled into view, once the notebook shows it. */
async function markedCell() {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const cells = await page.$$(".jp-Notebook .jp-CodeCell");
    for (const cell of cells) {
      const code = await cell.$eval(".jp-InputArea", (node) => node.textContent).catch(() => "");
      if (code.includes(marker)) {
        await cell.scrollIntoViewIfNeeded();
        return cell;
      }
    }
    // Cells far down may be rendered only when the notebook scrolls to them.
    await page.mouse.move(640, 500);
    await page.mouse.wheel(0, 2000);
    await page.waitForTimeout(500);
  }
  throw new Error(`no cell with ${marker} within 120 s`);
}

try {
  await page.goto(url);
  const cell = await markedCell();
  // Outputs render after the cell is attached; a scene needs its renderer to start.
  await page.waitForTimeout(3000);
  await cell.waitForSelector(".jp-OutputArea-output", { state: "attached", timeout: 60_000 });
  await cell.scrollIntoViewIfNeeded();
  result.caption = (await cell.$eval(".jp-OutputArea", (node) => node.innerText)).trim().slice(0, 300);
  let largest = null;
  for (const image of await cell.$$(".jp-OutputArea-output img")) {
    const box = await image.boundingBox();
    if (!box || box.width < 50 || box.height < 50 || !(await image.isVisible())) continue;
    result.images += 1;
    if (!largest || box.width * box.height > largest.area) largest = { image, area: box.width * box.height };
  }
  if (largest) result.image_share = await colorShare(page, colour, await largest.image.screenshot());
  const frames = await cell.$$(".jp-OutputArea-output .ocp-notebook-scene iframe");
  result.scenes = frames.length;
  for (const element of frames) {
    const frame = await element.contentFrame();
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline && !(await frame.evaluate(() => Boolean(window.viewer?.ready)).catch(() => false))) {
      await page.waitForTimeout(250);
    }
    await page.waitForTimeout(1500);
    result.scene_share = Math.max(result.scene_share, await colorShare(frame, colour).catch(() => 0));
  }
  result.ok = true;
} catch (error) {
  errors.push(String(error));
}
console.log(JSON.stringify(result));
await browser.close();
