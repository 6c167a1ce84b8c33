// Live settings in a real headless Chromium: config updates, clearing, the camera across updates,
// and the display options a page URL carries.
import assert from "node:assert/strict";
import { test, serverAndBrowser, post, openPage, waitForModel, colorShare, fixture } from "./harness.mjs";

const setup = serverAndBrowser();

/** The box fixture with its config changed by `change`. */
function box(change = {}) {
  const message = JSON.parse(fixture("box.json"));
  Object.assign(message.config, change);
  return JSON.stringify(message);
}

const rotation = (page) => page.evaluate(() => window.viewer.getCameraQuaternion().map((q) => Math.round(q * 1e4) / 1e4));

async function orbit(page) {
  await page.mouse.move(600, 420);
  await page.mouse.down();
  await page.mouse.move(760, 330, { steps: 12 });
  await page.mouse.up();
}

test("a config update changes a live page without re-sending the model, keeping the camera", async () => {
  await post(setup.server.base, "/api/model?viewer=cfg", box({ theme: "light", ortho: true }));
  const page = await openPage(setup.browser, `${setup.server.base}/viewer/cfg`);
  await waitForModel(page, "box");
  assert.equal(await page.getAttribute("html", "data-theme"), "light");
  assert.equal(await page.evaluate(() => window.viewer.getCameraType()), "ortho");
  await orbit(page);
  const turned = await rotation(page);

  await post(setup.server.base, "/api/viewer/cfg/config", JSON.stringify({ theme: "dark", ortho: false }));
  await page.waitForFunction(() => document.documentElement.dataset.theme === "dark" && window.viewer?.ready);
  await page.waitForFunction(() => window.viewer.getCameraType() === "perspective");
  assert.deepEqual(await rotation(page), turned, "the orbit survives the update");
  assert.ok((await colorShare(page, "#e8b024")) > 0.01, "the box is still drawn");
  assert.deepEqual(page.errors, []);
  await page.close();
});

test("clear brings back the splash, and the next push shows again", async () => {
  await post(setup.server.base, "/api/model?viewer=wipe", box());
  const page = await openPage(setup.browser, `${setup.server.base}/viewer/wipe`);
  await waitForModel(page, "box");
  assert.equal(await page.isVisible("#splash"), false);
  await post(setup.server.base, "/api/viewer/wipe/clear", "");
  await page.waitForSelector("#splash", { state: "visible" });
  const screen = await page.screenshot();
  assert.ok((await colorShare(page, "#e8b024", screen)) < 0.001, "the box is gone from the screen");
  const shot = await fetch(`${setup.server.base}/api/viewer/wipe/screenshot?timeout=2`, { method: "POST" });
  assert.equal(shot.status, 504, "a cleared viewer has nothing to photograph");
  await post(setup.server.base, "/api/model?viewer=wipe", fixture("bracket.json"));
  await waitForModel(page, "bracket");
  assert.equal(await page.isVisible("#splash"), false);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test("resetCamera keep holds the user's view across pushes; reset returns to the default", async () => {
  await post(setup.server.base, "/api/model?viewer=cam", box({ resetCamera: "reset" }));
  const page = await openPage(setup.browser, `${setup.server.base}/viewer/cam`);
  await waitForModel(page, "box");
  const initial = await rotation(page);
  await orbit(page);
  const turned = await rotation(page);
  assert.notDeepEqual(turned, initial, "the mouse turned the camera");

  const rendered = (id) => page.waitForFunction((id) => window.__last === id, id);
  await page.evaluate(() => window.addEventListener("ocp-notebook:rendered", (e) => (window.__last = e.detail.modelId)));
  let { model_id: id } = await post(setup.server.base, "/api/model?viewer=cam", box({ resetCamera: "keep", defaultOpacity: 0.6 }));
  await rendered(id);
  assert.deepEqual(await rotation(page), turned, "keep: the view stays where the user left it");

  ({ model_id: id } = await post(setup.server.base, "/api/model?viewer=cam", box({ resetCamera: "reset" })));
  await rendered(id);
  assert.deepEqual(await rotation(page), initial, "reset: the default view again");
  assert.deepEqual(page.errors, []);
  await page.close();
});

test("a page URL sets the theme, the toolbar and the height, over the model's config", async () => {
  await post(setup.server.base, "/api/model?viewer=opts", box({ theme: "light", tools: true }));
  const page = await openPage(setup.browser, `${setup.server.base}/viewer/opts?theme=dark&tools=false&height=300`);
  await page.waitForFunction(() => window.viewer?.ready);
  assert.ok((await colorShare(page, "#e8b024")) > 0.02, "the box is drawn");
  assert.equal(await page.getAttribute("html", "data-theme"), "dark");
  assert.equal(await page.isVisible(".tcv_cad_toolbar"), false, "no toolbar");
  assert.equal(await page.isVisible(".tcv_cad_tree"), false, "no tree either (tools=false)");
  const canvas = await page.locator("canvas").first().boundingBox();
  assert.ok(Math.abs(canvas.height - 300) <= 2, `the viewer is 300 px high: ${canvas.height}`);
  assert.deepEqual(page.errors, []);
  await page.close();
});
