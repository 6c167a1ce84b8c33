// The viewer's tools in a real headless Chromium: measuring with the mouse (answered by the
// server from the stored mesh), picks read back through the API, and animations.
import assert from "node:assert/strict";
import { test, serverAndBrowser, post, openPage, waitForModel, fixture } from "./harness.mjs";

const setup = serverAndBrowser();

/** Opens viewer `id` showing the bracket, drawn. */
async function bracketPage(id) {
  const page = await openPage(setup.browser, `${setup.server.base}/viewer/${id}`);
  await page.waitForSelector("#connection[data-state=connected]");
  await post(setup.server.base, `/api/model?viewer=${id}`, fixture("bracket.json"));
  await waitForModel(page, "bracket");
  return page;
}

/** Screen points where the renderer's own picking finds a face well inside its outline (so the
 * mouse picks that face, not an edge or vertex beside it): `[{x, y, id}]`, one per face. */
async function faceTargets(page) {
  return page.evaluate(() => {
    const viewer = window.viewer;
    const caster = viewer.raycaster;
    const canvas = viewer.renderer.domElement.getBoundingClientRect();
    const faceAt = (x, y) => {
      caster.mouse.set(((x - canvas.left) / canvas.width) * 2 - 1, -((y - canvas.top) / canvas.height) * 2 + 1);
      caster.mouseMoved = true;
      const group = caster.getValidIntersectedObjs()[0]?.object.parent;
      const id = group?.name.replaceAll("|", "/");
      return group?.shapeInfo?.topo === "face" ? id : null;
    };
    const found = new Map();
    const step = 12;
    for (let y = canvas.top + 3 * step; y < canvas.bottom - 3 * step; y += step) {
      for (let x = canvas.left + 3 * step; x < canvas.right - 3 * step; x += step) {
        const id = faceAt(x, y);
        if (!id || found.has(id)) continue;
        const around = [[-2, 0], [2, 0], [0, -2], [0, 2], [-2, -2], [2, 2], [-2, 2], [2, -2]];
        if (around.every(([dx, dy]) => faceAt(x + dx * step, y + dy * step) === id)) found.set(id, { x, y, id });
      }
    }
    caster.mouseMoved = false;
    return [...found.values()];
  });
}

/** A person's click: move there, let the renderer highlight what is under the mouse, click. */
async function pickAt(page, { x, y }) {
  await page.mouse.move(x, y, { steps: 3 });
  await page.waitForTimeout(250);
  await page.mouse.down();
  await page.mouse.up();
}

test("two faces picked with the mouse show the distance the server computed", async () => {
  const page = await bracketPage("measure-distance");
  await page.click("[data-tooltip=\"Measure distance between shapes\"]");
  const targets = await faceTargets(page);
  assert.ok(targets.length >= 2, `faces to click: ${JSON.stringify(targets)}`);
  const measured = page.evaluate(() => new Promise((resolve) =>
    addEventListener("ocp-notebook:measured", (e) => resolve(e.detail), { once: true })));
  await pickAt(page, targets[0]);
  await pickAt(page, targets[1]);
  const answer = await measured;
  assert.deepEqual(answer.picks, [targets[0].id, targets[1].id], "the faces under the mouse were measured");
  assert.equal(answer.source, "mesh");
  await page.waitForSelector(".tcv_distance_measurement_panel", { state: "visible", timeout: 10_000 });
  const total = await page.textContent(".tcv_distance_measurement_panel .tcv_total");
  assert.equal(total, answer.distance.toFixed(2), "the panel shows the server's distance");
  // The same question over HTTP gets the same answer, and the page reported the picks.
  const again = await post(setup.server.base, "/api/viewer/measure-distance/measure",
    JSON.stringify({ tool: "DistanceMeasurement", ids: answer.picks }));
  assert.equal(again.distance, answer.distance);
  await page.waitForFunction(async () => {
    const status = await (await fetch("/api/viewer/measure-distance/status")).json();
    return status.status.selectedShapeIDs?.length === 2;
  }, null, { timeout: 10_000, polling: 300 });
  assert.deepEqual(page.errors, []);
  await page.close();
});

test("a face picked with the properties tool shows its area and is read back as the selection", async () => {
  const page = await bracketPage("measure-face");
  await page.click("[data-tooltip=\"Show shape properties\"]");
  const [target] = await faceTargets(page);
  const measured = page.evaluate(() => new Promise((resolve) =>
    addEventListener("ocp-notebook:measured", (e) => resolve(e.detail), { once: true })));
  await pickAt(page, target);
  const answer = await measured;
  assert.deepEqual(answer.picks, [target.id]);
  assert.ok(answer.area > 0 && typeof answer.geom_type === "string", JSON.stringify(answer));
  await page.waitForSelector(".tcv_properties_measurement_panel", { state: "visible", timeout: 10_000 });
  assert.equal(await page.textContent(".tcv_properties_measurement_panel .tcv_area"), String(answer.area));
  // What both bridges' `selection()` read: the face, by its part and index.
  const picked = await page.waitForFunction(async (id) => {
    const answer = await (await fetch("/api/viewer/measure-face/selection")).json();
    return answer.picks.length === 1 && answer.picks[0].id === id && answer.picks[0];
  }, target.id, { timeout: 10_000, polling: 300 });
  const pick = await picked.jsonValue();
  assert.equal(pick.path, "/Group/bracket");
  assert.equal(pick.kind, "face");
  assert.equal(target.id, `/Group/bracket/faces/faces_${pick.index}`);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test("an animation moves its part over time, also for a page opened later, and stops", async () => {
  const id = "animated";
  const page = await openPage(setup.browser, `${setup.server.base}/viewer/${id}`);
  await page.waitForSelector("#connection[data-state=connected]");
  await post(setup.server.base, `/api/model?viewer=${id}`, fixture("assembly.json"));
  await waitForModel(page, "top_plate");
  const animation = {
    tracks: [
      ["/assembly/top_plate", "tz", [0, 1, 2], [0, 30, 0]],
      { path: "/assembly/gears/gear_left", action: "rz", times: [0, 2], values: [0, 180] },
      ["/assembly/base", "q", [0, 2], [[0, 0, 0, 1], [0, 0, 0.7071068, 0.7071068]]],
    ],
  };
  const answer = await post(setup.server.base, `/api/viewer/${id}/animation`, JSON.stringify(animation));
  assert.equal(answer.animation.duration, 2);
  const height = (p) => p.evaluate(() => window.viewer.nestedGroup?.groups["/assembly/top_plate"]?.position.z);
  await page.waitForFunction(() => window.viewer?.hasAnimation(), null, { timeout: 20_000 });
  const canvas = page.locator("#viewer canvas").first();
  const first = await canvas.screenshot();
  const z1 = await height(page);
  await page.waitForTimeout(600);
  const second = await canvas.screenshot();
  const z2 = await height(page);
  assert.notEqual(z1, z2, "the top plate moves");
  // A back-and-forth track passes through no turn at its ends: sample while it is turned.
  const base = () => window.viewer.nestedGroup.groups["/assembly/base"].quaternion.toArray();
  await page.waitForFunction((read) => Math.abs(eval(read)()[2]) > 0.01, base.toString(), { timeout: 10_000 }).catch(() => {});
  const turn = await page.evaluate(base);
  assert.ok(turn.every(Number.isFinite) && Math.abs(turn[2]) > 0.01, `the base turns: ${turn}`);
  assert.ok(!first.equals(second), "the pixels change over time");

  // A page opened now plays the same animation.
  const later = await openPage(setup.browser, `${setup.server.base}/viewer/${id}`);
  await waitForModel(later, "top_plate");
  await later.waitForFunction(() => window.viewer?.hasAnimation(), null, { timeout: 20_000 });
  await later.close();

  const stop = await fetch(`${setup.server.base}/api/viewer/${id}/animation`, { method: "DELETE" });
  assert.equal(stop.status, 200);
  await page.waitForFunction(() => window.viewer?.ready && !window.viewer.hasAnimation(), null, { timeout: 20_000 });
  assert.deepEqual(page.errors, []);
  await page.close();
});
