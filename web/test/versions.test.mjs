// Every push a version, in a real headless Chromium: stepping back through the history, the
// compare view, a page opened late, a one-part edit fetching that part alone, and scene files
// that carry the history and step through it offline.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { test, serverAndBrowser, post, openPage, openOffline, waitForModel, colorShare, fixture } from "./harness.mjs";

// Models travel by URL (over the inline limit), as big ones do, so the page fetches by content.
const setup = serverAndBrowser(["--inline-limit", "1KiB"]);

const GREEN_TOP = "#33cc33";
const BLUE_BASE = "#4682b4";
const ORANGE_CHANGED = "#e69f00";

/** The colours and opacities of the meshes the renderer built for the part at `path`. */
const materialsOf = (page, path) => page.evaluate((path) => {
  const group = window.viewer.nestedGroup.groups[path];
  const materials = [];
  group?.traverse((object) => { if (object.isMesh && object.material) materials.push(object.material); });
  return materials.map((m) => ({ opacity: m.opacity, transparent: m.transparent, color: m.color?.getHexString() }));
}, path);

const assembly = () => JSON.parse(fixture("assembly.json"));

/** The assembly without its green top plate. */
function withoutTop(model = assembly()) {
  model.data.shapes.parts = model.data.shapes.parts.filter((part) => part.name !== "top_plate");
  return model;
}

/** The assembly with its gears' mesh edited (one vertex moved). */
function withGearEdited(model = assembly()) {
  const vertices = model.data.instances[2].vertices;
  const bytes = Buffer.from(vertices.buffer, "base64");
  bytes.writeFloatLE(bytes.readFloatLE(0) + 0.5, 0);
  vertices.buffer = bytes.toString("base64");
  return model;
}

const push = (viewer, model) => post(setup.server.base, `/api/model?viewer=${viewer}`, JSON.stringify(model));

/** A page of `viewer` that records each drawn model and every parts request's size. */
async function watchedPage(viewer) {
  const page = await openPage(setup.browser, `${setup.server.base}/viewer/${viewer}`, {
    init: () => {
      window.__rendered = [];
      addEventListener("ocp-notebook:rendered", (event) => window.__rendered.push(event.detail.modelId));
    },
  });
  page.partsFetched = [];
  // The page's decoding worker fetches the parts: the browser context sees its responses.
  page.context().on("response", (response) => {
    if (/\/api\/(model\/[^/]+\/parts|part\/)/.test(response.url())) {
      page.partsFetched.push({ url: response.url(), bytes: Number(response.headers()["content-length"] ?? 0) });
    }
  });
  return page;
}

const drawn = (page, modelId) =>
  page.waitForFunction((id) => window.__rendered.at(-1) === id, modelId, { timeout: 60_000 });

const label = (page) => page.textContent("#history .ocp-history-label");

test("stepping back shows the earlier version, and a one-part edit fetches that part alone", async () => {
  const first = await push("steps", assembly());
  const page = await watchedPage("steps");
  await waitForModel(page, "top_plate");
  await drawn(page, first.model_id);
  assert.ok((await colorShare(page, GREEN_TOP)) > 0.005, "the green top plate is drawn");
  const fetchedFirst = page.partsFetched.reduce((sum, { bytes }) => sum + bytes, 0);

  // A one-part edit: the page fetches the gears' mesh and nothing else.
  page.partsFetched = [];
  const edited = await push("steps", withGearEdited());
  await drawn(page, edited.model_id);
  const fetched = page.partsFetched.reduce((sum, { bytes }) => sum + bytes, 0);
  const gear = JSON.stringify(withGearEdited().data.instances[2]).length;
  assert.ok(fetched <= gear * 1.05 && fetched > gear * 0.9,
    `the edit fetched ${fetched} bytes of parts; the gears' mesh is ${gear}, the whole model ${fetchedFirst}`);

  const third = await push("steps", withoutTop(withGearEdited()));
  await drawn(page, third.model_id);
  assert.ok((await colorShare(page, GREEN_TOP)) < 0.0005, "the top plate is gone");
  assert.equal(await page.isVisible("#history"), true, "the history control shows with two versions or more");
  assert.match(await label(page), /^version 3 of 3 · /);

  // Back twice: the first version, green top and all, with nothing fetched (the page has it).
  page.partsFetched = [];
  await page.click("#history button[title='The version before']");
  await drawn(page, edited.model_id);
  await page.click("#history button[title='The version before']");
  await drawn(page, first.model_id);
  assert.match(await label(page), /^version 1 of 3 · /);
  assert.ok((await colorShare(page, GREEN_TOP)) > 0.005, "stepping back drew the top plate again");

  // A push while looking back waits behind "live".
  const fourth = await push("steps", withoutTop());
  await page.waitForFunction(() => /^version 1 of 4 · /.test(document.querySelector("#history .ocp-history-label").textContent));
  assert.equal(await page.getAttribute("#history .ocp-live", "data-newer"), "true", "live says the notebook shows another version");
  assert.equal(await page.evaluate(() => window.__rendered.at(-1)), first.model_id, "still the version the user chose");
  await page.click("#history .ocp-live");
  await drawn(page, fourth.model_id);
  assert.match(await label(page), /^version 4 of 4 · /);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test("the compare view colours a changed part and ghosts a removed one", async () => {
  await push("compare", assembly());
  const second = await push("compare", withoutTop(withGearEdited()));
  const page = await watchedPage("compare");
  await waitForModel(page, "gear_left");
  await drawn(page, second.model_id);
  assert.ok((await colorShare(page, BLUE_BASE)) > 0.005, "the blue base plate, before the toggle");
  await page.check("#history input[type=checkbox]");
  await page.waitForFunction(() => document.querySelector(".ocp-legend")?.textContent.includes("removed 1"));
  const legend = await page.textContent(".ocp-legend");
  assert.match(legend, /changed 2/);
  assert.match(legend, /unchanged 5/);
  await page.waitForFunction(() => Boolean(window.viewer?.nestedGroup?.groups?.["/assembly/removed_parts/top_plate"]));
  await page.waitForTimeout(300);
  assert.ok((await colorShare(page, BLUE_BASE)) < 0.001, "the unchanged base is dimmed to grey");
  assert.ok((await colorShare(page, ORANGE_CHANGED)) > 0.002, "the changed gears are drawn in the compare view's orange");
  const gear = await materialsOf(page, "/assembly/gears/gear_left");
  assert.ok(gear.some((m) => m.color === "e69f00" && m.opacity === 1), `the changed gear: ${JSON.stringify(gear)}`);
  const ghost = await materialsOf(page, "/assembly/removed_parts/top_plate");
  // Its faces (the renderer adds edges and clipping caps in colours of their own).
  const faces = ghost.filter((m) => m.color === "d55e00");
  assert.ok(faces.length > 0, `the removed top plate is in the scene, in the removed colour: ${JSON.stringify(ghost)}`);
  assert.ok(faces.every((m) => m.transparent && m.opacity <= 0.35), `a faint ghost: ${JSON.stringify(faces)}`);

  // A push while comparing is drawn once, compared with the version before it.
  const third = await push("compare", assembly());
  await page.waitForFunction(() => document.querySelector(".ocp-legend")?.textContent.includes("added 1"));
  await drawn(page, third.model_id);
  await page.waitForTimeout(1000);
  const draws = await page.evaluate((id) => window.__rendered.filter((drawnId) => drawnId === id).length, third.model_id);
  assert.equal(draws, 1, "the push is drawn once, in the compare view");
  assert.ok((await colorShare(page, GREEN_TOP)) < 0.0005, "the added top plate is painted as added, not in its own green");

  await page.uncheck("#history input[type=checkbox]");
  await page.waitForFunction(() => !window.viewer?.nestedGroup?.groups?.["/assembly/removed_parts/top_plate"]);
  assert.equal(await page.isVisible(".ocp-legend"), false);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test("a page opened late sees the whole history", async () => {
  const ids = [];
  for (const model of [assembly(), withGearEdited(), withoutTop()]) ids.push((await push("late", model)).model_id);
  const page = await watchedPage("late");
  await waitForModel(page, "gear_left");
  await drawn(page, ids[2]);
  await page.waitForFunction(() => /version 3 of 3/.test(document.querySelector("#history .ocp-history-label")?.textContent));
  await page.click("#history button[title='The version before']");
  await drawn(page, ids[1]);
  await page.click("#history button[title='The version before']");
  await drawn(page, ids[0]);
  assert.match(await label(page), /^version 1 of 3 · /);
  assert.equal(await page.isDisabled("#history button[title='The version before']"), true);

  // A clear keeps the versions: ◀ steps back to the newest.
  await post(setup.server.base, "/api/viewer/late/clear", "");
  await page.waitForFunction(() => document.querySelector("#history .ocp-history-label")?.textContent === "3 versions kept");
  await page.click("#history button[title='The version before']");
  await drawn(page, ids[2]);
  assert.match(await label(page), /^version 3 of 3 · /);
  // That is looking back (the notebook shows nothing): "live" clears the page again.
  assert.equal(await page.isDisabled("#history .ocp-live"), false, "live takes the page back to the cleared viewer");
  await page.click("#history .ocp-live");
  await page.waitForSelector("#splash", { state: "visible" });
  assert.equal(await label(page), "3 versions kept");
  assert.deepEqual(page.errors, []);
  await page.close();
});

test("a version that cannot be loaded leaves the page following the notebook", async () => {
  const first = await push("stale", assembly());
  const second = await push("stale", withGearEdited());
  const page = await watchedPage("stale");
  await drawn(page, second.model_id);
  await page.waitForFunction(() => /^version 2 of 2 · /.test(document.querySelector("#history .ocp-history-label")?.textContent));
  // The first version cannot be read, as when it was dropped after the page read the list.
  await page.route(`**/api/model/${first.model_id}/tree`, (route) => route.fulfill({
    status: 410,
    contentType: "application/json",
    body: JSON.stringify({ error: { code: "model_evicted", message: `model ${first.model_id} was evicted` } }),
  }));
  await page.click("#history button[title='The version before']");
  await page.waitForFunction(() => /^cannot show it: .*was evicted/.test(document.querySelector("#history .ocp-history-label").textContent));
  assert.equal(await page.isDisabled("#history .ocp-live"), true, "the page still follows the notebook");
  const third = await push("stale", withoutTop());
  await drawn(page, third.model_id);
  await page.waitForFunction(() => /^version 3 of 3 · /.test(document.querySelector("#history .ocp-history-label").textContent));
  assert.ok((await colorShare(page, GREEN_TOP)) < 0.0005, "the push after the failed step is drawn");
  await page.close();
});

test("a scene that carries the history steps through it from file://, with no server", async () => {
  await push("scene", assembly());
  const last = await push("scene", withoutTop());
  const response = await fetch(`${setup.server.base}/viewer/scene/scene.html?history=1`);
  assert.equal(response.status, 200);
  const folder = mkdtempSync(join(tmpdir(), "ocp-versions-"));
  const path = join(folder, "scene.html");
  writeFileSync(path, Buffer.from(await response.arrayBuffer()));
  const plain = await (await fetch(`${setup.server.base}/viewer/scene/scene.html`)).text();
  assert.ok(!plain.includes('id="ocp-history"'), "without ?history=1 a scene carries its model alone");

  const url = pathToFileURL(path).href;
  const { context, page, asked } = await openOffline(setup.browser, url);
  await waitForModel(page, "gear_left");
  await page.waitForFunction(() => /^version 2 of 2 · /.test(document.querySelector("#history .ocp-history-label")?.textContent));
  assert.ok((await colorShare(page, GREEN_TOP)) < 0.0005, `the scene opens on the last version (${last.model_id})`);
  await page.click("#history button[title='The version before']");
  await page.waitForFunction(() => /^version 1 of 2 · /.test(document.querySelector("#history .ocp-history-label").textContent));
  await page.waitForTimeout(500);
  assert.ok((await colorShare(page, GREEN_TOP)) > 0.005, "stepping back drew the top plate again, offline");
  await page.click("#history button[title='The version after']");
  await page.check("#history input[type=checkbox]");
  await page.waitForFunction(() => document.querySelector(".ocp-legend")?.textContent.includes("removed 1"));
  assert.deepEqual(asked.filter((target) => target !== url && !/^(data|blob):/.test(target)), [], "nothing from outside the file");
  assert.deepEqual(page.errors, []);
  await context.close();
});

test("ocp-notebook export --history makes a scene of several files, named by them", async () => {
  const folder = mkdtempSync(join(tmpdir(), "ocp-versions-"));
  const files = [["first.json", assembly()], ["second.json", withoutTop()]].map(([name, model]) => {
    writeFileSync(join(folder, name), JSON.stringify(model));
    return join(folder, name);
  });
  const path = join(folder, "steps.html");
  execFileSync(process.env.OCP_NOTEBOOK_BIN, ["export", ...files, "--history", "-o", path]);
  assert.throws(() => execFileSync(process.env.OCP_NOTEBOOK_BIN, ["export", ...files, "-o", path], { stdio: "pipe" }),
    /give --history/, "several files need --history");
  const { context, page } = await openOffline(setup.browser, pathToFileURL(path).href);
  await waitForModel(page, "gear_left");
  await page.waitForFunction(() => document.querySelector("#history .ocp-history-label")?.textContent === "version 2 of 2 · second");
  await page.click("#history button[title='The version before']");
  await page.waitForFunction(() => document.querySelector("#history .ocp-history-label").textContent === "version 1 of 2 · first");
  assert.deepEqual(page.errors, []);
  await context.close();
});
