// Big models in headless Chromium (WebGL on SwiftShader): push -> pixels on the canvas, next to
// one steady re-draw of the same scene in the same run, with the page's own breakdown (its
// `ocp:` performance marks) and every drawing the renderer made on the way.
//
//   OCP_NOTEBOOK_BIN=target/release/ocp-notebook node web/bench/big-model.mjs [MODEL ...]
//
// MODEL is a number of triangles for `ocp-notebook sample` (1250000 makes a 40 MB sphere),
// `pins` or `plate` (build123d models from web/bench/cad_models.py, made once in the Python test
// environment and kept in target/bench: a 122-part assembly and an edge-heavy solid), or a JSON
// file (any form POST /api/model takes). Default: the bracket fixture, 1250000, pins, plate.
//
// "Pixels" is what a person waits for: after the push, the page's `ocp-notebook:rendered` event,
// then two animation frames and a 1-pixel readPixels, which waits for the drawing to finish, all
// timed in the page as the event comes (not when the harness next looks). A
// steady re-draw is `viewer.update(true)` and the same readPixels, the median of three. Then
// the push is repeated with the renderer's draw calls timed (each followed by a readPixels), to
// count the drawings made before the first pixels. With TRACE=folder, the measured push of each
// model is also recorded as a Chromium trace (folder/MODEL.json, for chrome://tracing or
// Perfetto): fetch, parse, decode, the renderer's build, shader compilation and GPU work.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { startServer, post, launch, openPage, fixture } from "../test/harness.mjs";
import { cadModel } from "./cad-models.mjs";

const args = process.argv.slice(2);
const models = (args.length ? args : ["tests/fixtures/bracket.json", "1250000", "pins", "plate"]).map((arg) => {
  if (/^\d+$/.test(arg)) {
    const body = execFileSync(process.env.OCP_NOTEBOOK_BIN, ["sample", "--triangles", arg], { maxBuffer: 1 << 30 });
    return { name: `sphere ${Number(arg).toLocaleString("en")} triangles`, body };
  }
  if (arg === "pins" || arg === "plate") return { name: arg, body: cadModel(arg) };
  return { name: arg.split("/").pop(), body: readFileSync(arg) };
});

const server = await startServer();
const browser = await launch();
const seconds = (ms) => `${(ms / 1000).toFixed(2)} s`;

/** Pushes `body` to the page's viewer and answers push -> pixels in ms, and the page's marks. */
async function pushToPixels(page, viewer, body) {
  await page.evaluate(() => {
    performance.clearMarks();
    window.__rendered = [];
  });
  const start = Date.now();
  const { model_id: modelId } = await post(server.base, `/api/model?viewer=${viewer}`, body);
  const pixels = await page.waitForFunction((id) => window.__rendered.find((r) => r.modelId === id)?.pixels, modelId, { timeout: 300_000, polling: 100 });
  const end = await pixels.jsonValue();
  const marks = await page.evaluate((start) => performance.getEntriesByType("mark")
    .filter((m) => m.name.startsWith("ocp:"))
    .map((m) => `${m.name.slice(4)} +${((performance.timeOrigin + m.startTime - start) / 1000).toFixed(2)}`), start);
  return { ms: end - start, marks };
}

async function steadyRedraw(page) {
  const times = [];
  for (let i = 0; i < 3; i++) {
    times.push(await page.evaluate(() => {
      const start = performance.now();
      window.viewer.update(true);
      const gl = window.viewer.renderer.getContext();
      gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, new Uint8Array(4));
      return performance.now() - start;
    }));
  }
  return times.sort((a, b) => a - b)[1];
}

try {
  for (const [index, model] of models.entries()) {
    const viewer = `big-${index}`;
    const page = await openPage(browser, `${server.base}/viewer/${viewer}`);
    await page.waitForSelector("#connection[data-state=connected]");
    await page.evaluate(() => {
      window.__rendered = [];
      addEventListener("ocp-notebook:rendered", (event) => {
        const rendered = { ...event.detail };
        window.__rendered.push(rendered);
        requestAnimationFrame(() => requestAnimationFrame(() => {
          const gl = window.viewer.renderer.getContext();
          gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, new Uint8Array(4));
          rendered.pixels = performance.timeOrigin + performance.now();
        }));
      });
    });
    // The renderer exists before the measured push, as in a notebook that showed something.
    await pushToPixels(page, viewer, fixture("box.json"));
    if (process.env.TRACE) {
      const path = `${process.env.TRACE}/${model.name.replace(/[^\w.-]+/g, "-")}.json`;
      await browser.startTracing(page, { path, categories: ["devtools.timeline", "disabled-by-default-devtools.timeline", "gpu", "v8.execute", "blink.user_timing"] });
    }
    const pushed = await pushToPixels(page, viewer, model.body);
    if (process.env.TRACE) await browser.stopTracing();
    const redraw = await steadyRedraw(page);

    // Again, counting the drawings.
    await pushToPixels(page, viewer, fixture("box.json"));
    await page.evaluate(() => {
      const renderer = window.viewer.renderer;
      const draw = renderer.render.bind(renderer);
      window.__draws = [];
      renderer.render = (scene, camera) => {
        const start = performance.now();
        draw(scene, camera);
        const gl = renderer.getContext();
        gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, new Uint8Array(4));
        window.__draws.push(Math.round(performance.now() - start));
      };
    });
    await pushToPixels(page, viewer, model.body);
    const draws = await page.evaluate(() => window.__draws);
    console.log(`${model.name} (${(model.body.length / 1e6).toFixed(1)} MB): push -> pixels ${seconds(pushed.ms)}, `
      + `steady re-draw ${seconds(redraw)}, ratio ${(pushed.ms / redraw).toFixed(2)}`);
    console.log(`  page marks (s after the push): ${pushed.marks.join(", ") || "none"}`);
    console.log(`  renderer draws until the pixels (ms, each waited for): ${draws.join(", ")}`);
    if (page.errors.length) throw new Error(`the page reported errors: ${page.errors.join("; ")}`);
    await page.close();
  }
} finally {
  await browser.close();
  await server.stop();
}
