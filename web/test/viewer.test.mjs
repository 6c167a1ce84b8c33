// The viewer page in a real headless Chromium: what a person sees and does.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, post, launch, openPage, waitForModel, colorShare, fixture } from "./harness.mjs";

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  server?.stop();
});

test("the box renders in its colour, with its name in the tree", async () => {
  await post(server.base, "/api/model?viewer=box", fixture("box.json"));
  const page = await openPage(browser, `${server.base}/viewer/box`);
  await waitForModel(page, "box");
  const share = await colorShare(page, "#e8b024");
  assert.ok(share > 0.02, `the box's colour covers ${(share * 100).toFixed(1)}% of the image`);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test("a page open before the push updates without reload", async () => {
  const page = await openPage(browser, `${server.base}/viewer/live`);
  await page.waitForSelector("#connection[data-state=connected]");
  assert.equal(await page.isVisible("#splash"), true, "a neutral splash while empty");
  await post(server.base, "/api/model?viewer=live", fixture("assembly.json"));
  await waitForModel(page, "top_plate");
  assert.ok((await colorShare(page, "#4682b4")) > 0.005, "the blue base plate is drawn");
  assert.equal(await page.isVisible("#splash"), false);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test("part names with HTML in them are shown as text and run nothing", async () => {
  const message = JSON.parse(fixture("box.json"));
  const hostile = "<img src=x onerror=window.__pwned=1>";
  const leaf = message.data.shapes.parts[0];
  leaf.name = hostile;
  leaf.id = `${message.data.shapes.id}/${hostile}`;
  await post(server.base, "/api/model?viewer=hostile", JSON.stringify(message));
  const page = await openPage(browser, `${server.base}/viewer/hostile`);
  await waitForModel(page, hostile);
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  await page.close();
});
