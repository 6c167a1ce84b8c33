// Every push a version (parts stored by content), measured as a user meets it:
//
//   OCP_NOTEBOOK_BIN=target/release/ocp-notebook node web/bench/versions.mjs [RUNS]
//
// 1. Re-running a cell: 40 pushes of one 8.5 MB model (`ocp-notebook sample --triangles
//    265000`) to one viewer. The server's `model_bytes` (/health) and its RSS after the 40th
//    push, as ratios of the same figures after the first push (the baseline, in the same run).
// 2. A one-part edit of the 122-part build123d assembly (`pins`, 34 MB, made by
//    web/bench/cad_models.py as big-model.mjs makes it; its 122 meshes are 8 distinct ones,
//    each stored once): the bytes the version adds to the
//    server (its history's `new_bytes`) and the bytes a page showing the version before fetches
//    (its tree form and the parts it lacks), each against the whole model.
// 3. Push -> drawn in headless Chromium (WebGL on SwiftShader) for that edit, against a full
//    re-send in the same run: the same page code and model size, with every mesh changed (and
//    no two alike), so that the page has to fetch and decode all of it. Median of RUNS (default 5) alternating
//    runs; the ratio of the medians.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { startServer, post, launch, openPage } from "../test/harness.mjs";
import { cadModel } from "./cad-models.mjs";

const runs = Number(process.argv[2] ?? 5);
const bin = process.env.OCP_NOTEBOOK_BIN;
const mb = (bytes) => `${(bytes / 1e6).toFixed(2)} MB`;
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** The server's resident memory, from /proc. */
function rss(pid) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)[1]) * 1024;
}

const health = async (base) => (await fetch(`${base}/health`)).json();

/** `model` with the first vertex of each shared mesh in `which` moved (by `by`, and a little
 * more for each, so that no two are alike): a new mesh each, as an edit of that part makes. */
function edited(model, which, by) {
  const copy = structuredClone(model);
  for (const index of which) {
    const vertices = copy.data.instances[index].vertices;
    const bytes = Buffer.from(vertices.buffer, "base64");
    bytes.writeFloatLE(bytes.readFloatLE(0) + by + index / 1024, 0);
    vertices.buffer = bytes.toString("base64");
  }
  return copy;
}

// 1. Re-running a cell 40 times.
{
  const server = await startServer(0, ["--history", "64"]);
  const pid = server.pid;
  const body = execFileSync(bin, ["sample", "--triangles", "265000"], { maxBuffer: 1 << 30 });
  const idle = rss(pid);
  await post(server.base, "/api/model?viewer=cell", body);
  const once = { bytes: (await health(server.base)).model_bytes, rss: rss(pid) };
  for (let i = 1; i < 40; i++) await post(server.base, "/api/model?viewer=cell", body);
  const forty = { bytes: (await health(server.base)).model_bytes, rss: rss(pid) };
  const history = await (await fetch(`${server.base}/api/viewer/cell/history`)).json();
  console.log(`1. 40 pushes of one ${mb(body.length)} model to one viewer (${history.versions.length} versions kept):`);
  console.log(`   model_bytes ${mb(once.bytes)} after 1, ${mb(forty.bytes)} after 40: ratio ${(forty.bytes / once.bytes).toFixed(3)}`);
  console.log(`   RSS ${mb(once.rss)} after 1, ${mb(forty.rss)} after 40 (idle ${mb(idle)}): ratio ${(forty.rss / once.rss).toFixed(3)}`);
  await server.stop();
}

// 2 and 3. A one-part edit of the assembly.
const model = JSON.parse(cadModel("pins"));
const whole = Buffer.byteLength(JSON.stringify(model));
const unique = new Set(model.data.instances.map((mesh) => JSON.stringify(mesh))).size;
const server = await startServer();
const browser = await launch();
const viewers = { one: "one-part", all: "full-resend" };
const pages = {};
for (const [kind, viewer] of Object.entries(viewers)) {
  await post(server.base, `/api/model?viewer=${viewer}`, JSON.stringify(model));
  pages[kind] = await openPage(browser, `${server.base}/viewer/${viewer}`, {
    init: () => {
      window.__rendered = [];
      addEventListener("ocp-notebook:rendered", (event) => window.__rendered.push(event.detail));
    },
  });
  await pages[kind].waitForFunction(() => window.__rendered.length > 0, null, { timeout: 300_000 });
  pages[kind].fetched = [];
  pages[kind].context().on("response", (response) => {
    if (response.url().includes(`/api/model/`) && !response.url().endsWith("/events")) {
      pages[kind].fetched.push(Number(response.headers()["content-length"] ?? 0));
    }
  });
}

const everyPart = model.data.instances.map((_, i) => i);
const times = { one: [], all: [] };
const sent = { one: [], all: [] };
let stored = 0;
for (let run = 0; run < runs; run++) {
  for (const kind of run % 2 ? ["all", "one"] : ["one", "all"]) {
    const page = pages[kind];
    const next = edited(model, kind === "one" ? [5] : everyPart, run + 1);
    page.fetched.length = 0;
    const start = Date.now();
    const { model_id: modelId } = await post(server.base, `/api/model?viewer=${viewers[kind]}`, JSON.stringify(next));
    const at = await page.waitForFunction((id) => window.__rendered.find((r) => r.modelId === id)?.at, modelId, { timeout: 300_000, polling: 50 });
    times[kind].push((await at.jsonValue()) - start);
    await page.waitForTimeout(200);
    sent[kind].push(page.fetched.reduce((sum, bytes) => sum + bytes, 0));
    if (kind === "one") {
      const history = await (await fetch(`${server.base}/api/viewer/${viewers.one}/history`)).json();
      stored = history.versions.at(-1).new_bytes;
    }
  }
}
console.log(`2. a one-part edit of the ${model.data.instances.length}-part assembly (${mb(whole)}; ${unique} distinct meshes, each stored once):`);
console.log(`   stored ${mb(stored)} new (${((100 * stored) / whole).toFixed(2)} % of the model)`);
console.log(`   a page showing the version before fetched ${mb(median(sent.one))} (${((100 * median(sent.one)) / whole).toFixed(2)} %); with every part changed, ${mb(median(sent.all))}`);
console.log(`3. push -> drawn, median of ${runs}: one part changed ${(median(times.one) / 1000).toFixed(2)} s, every part changed (a full re-send) ${(median(times.all) / 1000).toFixed(2)} s: ratio ${(median(times.one) / median(times.all)).toFixed(2)}`);
console.log(`   one part: ${times.one.map((t) => (t / 1000).toFixed(2)).join(", ")}; every part: ${times.all.map((t) => (t / 1000).toFixed(2)).join(", ")}`);
await browser.close();
await server.stop();
