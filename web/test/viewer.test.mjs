// The viewer page in a real headless Chromium: what a person sees and does.
import assert from "node:assert/strict";
import { test, serverAndBrowser, post, openPage, waitForModel, colorShare, fixture } from "./harness.mjs";

const setup = serverAndBrowser();

test("the box renders in its colour, with its name in the tree", async () => {
  await post(setup.server.base, "/api/model?viewer=box", fixture("box.json"));
  const page = await openPage(setup.browser, `${setup.server.base}/viewer/box`);
  await waitForModel(page, "box");
  const share = await colorShare(page, "#e8b024");
  assert.ok(share > 0.02, `the box's colour covers ${(share * 100).toFixed(1)}% of the image`);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test("a mesh with a `part` key of its own is drawn as the mesh it is", async () => {
  // A stored model's tree form stands `{"part": hash}` alone for each big mesh; a posted mesh
  // may carry a `part` key too (the format skips keys it does not name).
  const message = JSON.parse(fixture("box.json"));
  message.data.instances[0].part = "a name of the user's";
  await post(setup.server.base, "/api/model?viewer=own-part", JSON.stringify(message));
  const page = await openPage(setup.browser, `${setup.server.base}/viewer/own-part`);
  await waitForModel(page, "box");
  assert.ok((await colorShare(page, "#e8b024")) > 0.02, "the box is drawn");
  assert.deepEqual(page.errors, []);
  await page.close();
});

test("a page open before the push updates without reload", async () => {
  const page = await openPage(setup.browser, `${setup.server.base}/viewer/live`);
  await page.waitForSelector("#connection[data-state=connected]");
  assert.equal(await page.isVisible("#splash"), true, "a neutral splash while empty");
  await post(setup.server.base, "/api/model?viewer=live", fixture("assembly.json"));
  await waitForModel(page, "top_plate");
  assert.ok((await colorShare(page, "#4682b4")) > 0.005, "the blue base plate is drawn");
  assert.equal(await page.isVisible("#splash"), false);
  // A second push replaces the model in place.
  await post(setup.server.base, "/api/model?viewer=live", fixture("box.json"));
  await waitForModel(page, "box");
  assert.ok((await colorShare(page, "#e8b024")) > 0.01, "the box replaced the assembly");
  assert.ok((await colorShare(page, "#4682b4")) < 0.001, "the assembly is gone");
  assert.deepEqual(page.errors, []);
  await page.close();
});

test("part names with HTML in them are shown as text and run nothing", async () => {
  const message = JSON.parse(fixture("box.json"));
  const hostile = "<img src=x onerror=window.__pwned=1>";
  const leaf = message.data.shapes.parts[0];
  leaf.name = hostile;
  leaf.id = `${message.data.shapes.id}/${hostile}`;
  await post(setup.server.base, "/api/model?viewer=hostile", JSON.stringify(message));
  const page = await openPage(setup.browser, `${setup.server.base}/viewer/hostile`);
  await waitForModel(page, hostile);
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  await page.close();
});

test("a screenshot requested through the API is a PNG of the model", async () => {
  await post(setup.server.base, "/api/model?viewer=shot", fixture("box.json"));
  const page = await openPage(setup.browser, `${setup.server.base}/viewer/shot`);
  await waitForModel(page, "box");
  const response = await fetch(`${setup.server.base}/api/viewer/shot/screenshot`, { method: "POST" });
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "image/png");
  const png = new Uint8Array(await response.arrayBuffer());
  assert.deepEqual([...png.slice(1, 4)], [0x50, 0x4e, 0x47], "a PNG");
  const share = await colorShare(page, "#e8b024", png);
  assert.ok(share > 0.02, `the box's colour covers ${(share * 100).toFixed(1)}% of the screenshot`);
  await page.close();
});

test("orbiting with the mouse changes the status a notebook reads", async () => {
  await post(setup.server.base, "/api/model?viewer=orbit", fixture("bracket.json"));
  const page = await openPage(setup.browser, `${setup.server.base}/viewer/orbit`);
  await waitForModel(page, "bracket");
  const status = async () => (await (await fetch(`${setup.server.base}/api/viewer/orbit/status`)).json()).status;
  const before = await status();
  await page.mouse.move(700, 450);
  await page.mouse.down();
  await page.mouse.move(820, 380, { steps: 12 });
  await page.mouse.up();
  let after = before;
  for (let i = 0; i < 40 && JSON.stringify(after.quaternion) === JSON.stringify(before.quaternion); i++) {
    await page.waitForTimeout(250);
    after = await status();
  }
  assert.ok(after.quaternion, `the camera is reported: ${JSON.stringify(after)}`);
  assert.notDeepEqual(after.quaternion, before.quaternion, "the rotation changed");
  await page.close();
});

test("a bad setting is refused before it reaches a page, which keeps its model, and the next push works", async () => {
  const base = setup.server.base;
  await post(base, "/api/model?viewer=oops", fixture("box.json"));
  const page = await openPage(setup.browser, `${base}/viewer/oops`);
  await waitForModel(page, "box");
  // An `up` the renderer has no camera for used to break the page ("cannot be shown").
  const broken = JSON.parse(fixture("bracket.json"));
  broken.config.up = "W";
  const refused = await fetch(`${base}/api/model?viewer=oops`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(broken),
  });
  assert.equal(refused.status, 422);
  assert.equal((await refused.json()).error.path, "$.config.up");
  await page.waitForTimeout(1000);
  assert.equal(await page.isVisible("#message"), false, "no message: nothing reached the page");
  await waitForModel(page, "box");
  await post(base, "/api/model?viewer=oops", fixture("bracket.json"));
  await waitForModel(page, "bracket");
  assert.deepEqual(page.errors, []);
  await page.close();
});

/** Deletes `viewer`, then checks what its open page shows: the closed message, a red badge, and
 * (for `requests`, the page's own event-stream requests) nothing reopened for three seconds. */
async function expectClosedForGood(page, requests) {
  await page.waitForSelector("#connection[data-state=closed]", { timeout: 20_000 });
  assert.match(await page.textContent("#message"), /This viewer was closed/);
  const before = requests.length;
  await page.waitForTimeout(3000);
  assert.equal(await page.getAttribute("#connection", "data-state"), "closed", "still closed");
  assert.equal(requests.length, before, `no stream reopened: ${requests.slice(before).join(", ")}`);
}

for (const [mode, shared] of [["a shared stream", true], ["a stream of its own", false]]) {
  test(`a deleted viewer's page (${mode}) says it was closed and stops, also after a reload`, async () => {
    const viewer = `bye-${shared ? "shared" : "own"}`;
    await post(setup.server.base, `/api/model?viewer=${viewer}`, fixture("box.json"));
    const page = await setup.browser.newPage({ viewport: { width: 800, height: 600 } });
    if (!shared) await page.addInitScript(() => delete window.SharedWorker);
    const requests = [];
    page.on("request", (request) => {
      if (request.url().includes("/events")) requests.push(request.url());
    });
    await page.goto(`${setup.server.base}/viewer/${viewer}`);
    await waitForModel(page, "box");
    const deleted = await fetch(`${setup.server.base}/api/viewer/${viewer}`, { method: "DELETE" });
    assert.equal(deleted.status, 200);
    await expectClosedForGood(page, requests);
    await page.reload();
    await expectClosedForGood(page, requests);
    await page.close();
  });
}
