// Push -> first rendered frame, in headless Chromium (WebGL on SwiftShader), for the box and the
// bracket. A viewer page is open and connected; each sample POSTs a model and waits for the page
// to announce (`ocp-notebook:rendered`) the frame after the renderer drew it. The clocks are the
// same machine's wall clock on both sides.
//
//   OCP_NOTEBOOK_BIN=target/release/ocp-notebook node web/bench/first-frame.mjs [samples]
import { startServer, post, launch, openPage, fixture } from "../test/harness.mjs";

const samples = Number(process.argv[2] ?? 15);
const models = { box: fixture("box.json"), bracket: fixture("bracket.json") };

const server = await startServer();
const browser = await launch();
try {
  const page = await openPage(browser, `${server.base}/viewer/bench`);
  await page.waitForSelector("#connection[data-state=connected]");
  await page.evaluate(() => {
    window.__rendered = [];
    window.addEventListener("ocp-notebook:rendered", (event) => window.__rendered.push(event.detail));
  });
  const times = { box: [], bracket: [] };
  // Alternate so that every push replaces a different model; the first round warms up.
  for (let round = -1; round < samples; round++) {
    for (const [name, body] of Object.entries(models)) {
      const start = Date.now();
      const { model_id: modelId } = await post(server.base, "/api/model?viewer=bench", body);
      const handle = await page.waitForFunction(
        (id) => window.__rendered.find((r) => r.modelId === id)?.at,
        modelId,
        { timeout: 60_000, polling: "raf" },
      );
      const at = await handle.jsonValue();
      if (round >= 0) times[name].push(at - start);
    }
  }
  if (page.errors.length) throw new Error(`the page reported errors: ${page.errors.join("; ")}`);
  await page.close();
  for (const [name, list] of Object.entries(times)) report(`${name} push -> first frame`, list);

  // A page opened on a viewer that already holds the model: navigation -> first frame (includes
  // loading the page, its modules and the 929 KB renderer from the browser's cache).
  for (const [name, body] of Object.entries(models)) {
    await post(server.base, `/api/model?viewer=open-${name}`, body);
    const list = [];
    for (let round = -1; round < Math.ceil(samples / 2); round++) {
      const fresh = await browser.newPage({ viewport: { width: 1200, height: 800 } });
      await fresh.addInitScript(() => {
        window.__rendered = [];
        window.addEventListener("ocp-notebook:rendered", (event) => window.__rendered.push(event.detail));
      });
      const start = Date.now();
      await fresh.goto(`${server.base}/viewer/open-${name}`);
      const handle = await fresh.waitForFunction(() => window.__rendered[0]?.at, null, { timeout: 60_000, polling: "raf" });
      if (round >= 0) list.push((await handle.jsonValue()) - start);
      await fresh.close();
    }
    report(`${name} page open -> first frame`, list);
  }
} finally {
  await browser.close();
  await server.stop();
}

function report(label, list) {
  list.sort((a, b) => a - b);
  const at = (q) => list[Math.min(list.length - 1, Math.floor(q * list.length))];
  console.log(`${label.padEnd(32)} p50 ${at(0.5).toFixed(0)} ms, p90 ${at(0.9).toFixed(0)} ms, max ${list.at(-1).toFixed(0)} ms (${list.length} samples)`);
}
