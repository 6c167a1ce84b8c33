// A model over the inline limit, as a person waits for it: the page says what it is doing, draws
// the model once, and says why when a load fails.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test, serverAndBrowser, post, openPage, waitForModel, colorShare, fixture } from "./harness.mjs";

const setup = serverAndBrowser();
// A generated sphere of 3.2 MB: over the inline limit and the size from which the page reports
// progress.
const sphere = () => execFileSync(process.env.OCP_NOTEBOOK_BIN, ["sample", "--triangles", "100000"], { maxBuffer: 1 << 28 });

/** Opens the viewer with a model on it already (so the renderer exists), then records the
 * progress lines the page shows and the renderer's drawings of the whole scene. */
async function watchedPage(viewer) {
  await post(setup.server.base, `/api/model?viewer=${viewer}`, fixture("box.json"));
  const page = await openPage(setup.browser, `${setup.server.base}/viewer/${viewer}`);
  await waitForModel(page, "box");
  await page.evaluate(() => {
    window.__progress = [];
    window.__drawings = 0;
    window.__rendered = [];
    const line = document.getElementById("progress");
    new MutationObserver(() => { if (!line.hidden) window.__progress.push(line.textContent); })
      .observe(line, { childList: true, characterData: true, subtree: true, attributes: true });
    addEventListener("ocp-notebook:rendered", (event) => window.__rendered.push(event.detail.modelId));
    const renderer = window.viewer.renderer;
    const draw = renderer.render.bind(renderer);
    renderer.render = (scene, camera) => {
      if (scene === window.viewer.scene) window.__drawings += 1;
      draw(scene, camera);
    };
  });
  return page;
}

test("a big model says what the page is doing and is drawn once", async () => {
  const page = await watchedPage("big-progress");
  const { model_id: modelId } = await post(setup.server.base, "/api/model?viewer=big-progress", sphere());
  await page.waitForFunction((id) => window.__rendered.includes(id), modelId, { timeout: 120_000 });
  await page.waitForTimeout(300); // anything deferred would have drawn by now
  const progress = [...new Set(await page.evaluate(() => window.__progress))];
  assert.ok(progress.some((line) => /^Downloading the model: \d+% of 3\.\d MB$/.test(line)), progress.join(" | "));
  assert.ok(progress.includes("Building the scene") && progress.includes("Drawing"), progress.join(" | "));
  assert.equal(await page.isVisible("#progress"), false, "the line goes once the model is drawn");
  assert.equal(await page.evaluate(() => window.__drawings), 1, "the scene was drawn once");
  assert.ok((await colorShare(page, "#e8b024")) > 0.05, "the sphere is on the screen");
  assert.deepEqual(page.errors, []);
  await page.close();
});

test("hiding a part in the tree redraws at once", async () => {
  const page = await watchedPage("tree-click");
  const { model_id: modelId } = await post(setup.server.base, "/api/model?viewer=tree-click", fixture("bracket.json"));
  await page.waitForFunction((id) => window.__rendered.includes(id), modelId, { timeout: 60_000 });
  await waitForModel(page, "bracket");
  assert.ok((await colorShare(page, "#e8b024")) > 0.02, "the bracket is drawn");
  const before = await page.evaluate(() => window.__drawings);
  // The eye of the bracket's own tree row (the last row's first icon).
  await page.locator(".tcv_cad_tree_container .tv-icon0").last().click();
  await page.waitForFunction((n) => window.__drawings > n, before, { timeout: 10_000 });
  const screen = await page.screenshot();
  assert.ok((await colorShare(page, "#e8b024", screen)) < 0.002, "the hidden bracket is gone from the screen");
  assert.deepEqual(page.errors, []);
  await page.close();
});

test("a big model that cannot be loaded says why", async () => {
  const page = await watchedPage("big-broken");
  await page.route("**/api/model/**", (route) => route.fulfill({
    status: 410,
    contentType: "application/json",
    body: JSON.stringify({ error: { code: "model_evicted", message: "model abc was evicted" } }),
  }));
  await post(setup.server.base, "/api/model?viewer=big-broken", sphere());
  await page.waitForSelector("#message:not([hidden])", { timeout: 60_000 });
  assert.equal(await page.textContent("#message"), "This model cannot be shown: model abc was evicted");
  assert.equal(await page.isVisible("#progress"), false);
  await page.close();
});
