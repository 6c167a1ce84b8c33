// The /viewers page in headless Chromium: a live list with thumbnails, counts, relative times and
// links, usable at phone width.
import assert from "node:assert/strict";
import { test, serverAndBrowser, post, openPage, waitForModel, colorShare, fixture } from "./harness.mjs";

const setup = serverAndBrowser();

test("the viewers page lists viewers live, with thumbnails, counts and scene links", async () => {
  const base = setup.server.base;
  await post(base, "/api/model?viewer=listed-bracket", fixture("bracket.json"));
  await post(base, "/api/viewer/listed-empty/config", "{}");
  // A page draws the bracket and posts its thumbnail.
  const viewer = await openPage(setup.browser, `${base}/viewer/listed-bracket`);
  await waitForModel(viewer, "bracket");
  const deadline = Date.now() + 20_000;
  while ((await fetch(`${base}/api/viewer/listed-bracket/thumbnail`)).status !== 200) {
    assert.ok(Date.now() < deadline, "the page posted a thumbnail after drawing");
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const thumbnail = await fetch(`${base}/api/viewer/listed-bracket/thumbnail`);
  assert.equal(thumbnail.headers.get("content-type"), "image/webp");
  const share = await colorShare(viewer, "#e8b024", Buffer.from(await thumbnail.arrayBuffer()));
  assert.ok(share > 0.05, `the thumbnail shows the bracket (${(share * 100).toFixed(1)}% of its colour)`);

  const page = await openPage(setup.browser, `${base}/viewers`);
  const bracket = page.locator('[data-viewer-id="listed-bracket"]');
  await bracket.locator("img").waitFor();
  const width = await bracket.locator("img").evaluate((img) => img.decode().then(() => img.naturalWidth));
  assert.ok(width >= 200 && width <= 320, `the thumbnail shows, ${width} px wide`);
  assert.match(await bracket.textContent(), /1 part · 2,?764 triangles/);
  assert.match(await bracket.textContent(), /1 page open · active (just now|\d+ s ago)/);
  assert.equal(await bracket.locator("a", { hasText: "download scene" }).getAttribute("href"), "viewer/listed-bracket/scene.html");
  const empty = page.locator('[data-viewer-id="listed-empty"]');
  assert.match(await empty.textContent(), /no model/);
  assert.equal(await empty.locator("a", { hasText: "download scene" }).count(), 0);

  // Viewers come and go without a reload.
  await post(base, "/api/model?viewer=listed-new", fixture("box.json"));
  await page.locator('[data-viewer-id="listed-new"]').waitFor({ timeout: 10_000 });
  assert.equal(await page.locator(".ocp-card").first().getAttribute("data-viewer-id"), "listed-new", "the most recent first");
  await fetch(`${base}/api/viewer/listed-empty`, { method: "DELETE" });
  await page.locator('[data-viewer-id="listed-empty"]').waitFor({ state: "detached", timeout: 10_000 });

  // A phone: one column, nothing wider than the screen.
  await page.setViewportSize({ width: 380, height: 700 });
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 380), "no sideways scrolling");
  const [first, second] = await page.locator(".ocp-card").evaluateAll((cards) => cards.slice(0, 2).map((c) => c.getBoundingClientRect().top));
  assert.ok(second > first, "cards stack in one column");
  assert.deepEqual(page.errors, []);
  assert.deepEqual(viewer.errors, []);
  await page.close();
  await viewer.close();
});
