// One-file scenes opened from file:// with every network request blocked: the server's
// `/viewer/<id>/scene.html` and `ocp-notebook export` both draw their model with no server.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { test, serverAndBrowser, post, waitForModel, colorShare, fixture, openOffline } from "./harness.mjs";

const setup = serverAndBrowser();
const folder = mkdtempSync(join(tmpdir(), "ocp-scenes-"));
const fixturePath = (name) => new URL(`../../tests/fixtures/${name}`, import.meta.url).pathname;

function onlyTheFile(asked, url) {
  const outside = asked.filter((target) => target !== url && !/^(data|blob):/.test(target));
  assert.deepEqual(outside, [], "the scene asked for nothing outside itself");
}

test("the server's scene file draws its model from file:// with no network", async () => {
  await post(setup.server.base, "/api/model?viewer=offline", fixture("bracket.json"));
  await post(setup.server.base, "/api/viewer/offline/config", JSON.stringify({ axes: true }));
  const response = await fetch(`${setup.server.base}/viewer/offline/scene.html`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-disposition"), /attachment; filename="offline.html"/);
  const path = join(folder, "offline.html");
  writeFileSync(path, Buffer.from(await response.arrayBuffer()));
  await setup.server.stop(); // no server at all from here on
  setup.server = null;

  const url = pathToFileURL(path).href;
  const { context, page, asked } = await openOffline(setup.browser, url);
  await waitForModel(page, "bracket");
  const share = await colorShare(page, "#e8b024");
  assert.ok(share > 0.01, `the bracket's colour covers ${(share * 100).toFixed(1)}% of the image`);
  assert.equal(await page.evaluate(() => window.viewer.getAxes()), true, "the viewer's settings came along");
  assert.ok(await page.isVisible(".tcv_cad_tree_container"), "with the viewer's tree");
  onlyTheFile(asked, url);
  // The renderer writes part names into the page as HTML: the file's policy lets no inline
  // handler run.
  await page.evaluate(() => document.body.insertAdjacentHTML("beforeend", '<img src="x" onerror="window.__ran = 1">'));
  await page.waitForTimeout(300);
  assert.equal(await page.evaluate(() => window.__ran), undefined, "an injected handler did not run");
  page.errors = page.errors.filter((error) => !/Content Security Policy|img-src/.test(error));
  assert.deepEqual(page.errors, []);
  console.log(`# scene of the bracket: ${(statSync(path).size / 1000).toFixed(1)} KB`);
  await context.close();
});

test("ocp-notebook export writes a scene that draws offline", async () => {
  const path = join(folder, "box.html");
  const printed = execFileSync(process.env.OCP_NOTEBOOK_BIN, ["export", fixturePath("box.json"), "-o", path], { encoding: "utf8" });
  assert.match(printed, /box\.html \([0-9.]+ KB\)/);
  const url = pathToFileURL(path).href;
  const { context, page, asked } = await openOffline(setup.browser, url);
  await waitForModel(page, "box");
  assert.ok((await colorShare(page, "#e8b024")) > 0.01, "the box is drawn");
  assert.equal(await page.title(), "box");
  onlyTheFile(asked, url);
  assert.deepEqual(page.errors, []);
  await context.close();
});

test("a file that is not a model is refused with where it is wrong", async () => {
  const bad = join(folder, "bad.json");
  writeFileSync(bad, JSON.stringify({ type: "data", data: { shapes: { version: 3, parts: 7 } } }));
  let failure;
  try {
    execFileSync(process.env.OCP_NOTEBOOK_BIN, ["export", bad, "-o", join(folder, "bad.html")], { encoding: "utf8", stdio: "pipe" });
  } catch (error) {
    failure = error;
  }
  assert.ok(failure, "the export failed");
  assert.match(failure.stderr, /bad\.json: not a model the viewer accepts: \$\.data\.shapes/);
  assert.throws(() => statSync(join(folder, "bad.html")), "nothing was written");
});
