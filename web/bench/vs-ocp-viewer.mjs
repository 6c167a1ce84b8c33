// Push -> pixels, this server's page next to ocp_viewer (the standalone OCP CAD viewer from PyPI)
// fed by ocp_vscode, the same model bytes, the same headless Chromium, the same run.
//
//   OCP_NOTEBOOK_BIN=target/release/ocp-notebook OCP_VIEWER_PYTHON=path/to/python \
//     node web/bench/vs-ocp-viewer.mjs MODEL.json ...
//
// OCP_VIEWER_PYTHON must run `-m ocp_viewer` and import ocp_vscode (pip install ocp_viewer
// ocp_vscode). Models are ocp_vscode messages (`ocp-notebook sample`, or a build123d model
// tessellated by ocp_vscode / this project's Python bridge), drawn in ocp_vscode's default gold.
//
// Both pages are measured the same way, from outside: the push starts (the POST here; ocp_vscode's
// `send_data` there, after the JSON is loaded into Python), then the page is photographed until
// the model's colour covers 2% of it. Before each push a blue box replaces the model, so the
// gold that appears is the new one.
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { createInterface } from "node:readline";
import { startServer, post, launch, colorShare, fixture } from "../test/harness.mjs";


const files = process.argv.slice(2);
const python = process.env.OCP_VIEWER_PYTHON;
if (!python || !files.length) throw new Error("usage: OCP_VIEWER_PYTHON=... node web/bench/vs-ocp-viewer.mjs MODEL.json ...");
const GOLD = "#e8b024";

const port = 3900 + Math.floor(Math.random() * 90);
const ocpViewer = spawn(python, ["-m", "ocp_viewer", "--port", String(port)], { stdio: "ignore" });
// ocp_vscode's sender, kept running: each stdin line is a file to send; it answers the wall-clock
// time the send started, then "sent".
const sender = spawn(python, ["-c", `
import json, sys, time
from ocp_vscode.comms import send_data
for line in sys.stdin:
    message = json.load(open(line.strip()))
    print(time.time() * 1000, flush=True)
    send_data(message, port=${port})
    print("sent", flush=True)
`], { stdio: ["pipe", "pipe", "inherit"] });
const answers = createInterface({ input: sender.stdout })[Symbol.asyncIterator]();

const server = await startServer();
const browser = await launch();
const viewport = { width: 1000, height: 700 };

/** Photographs `page` until `test(share of gold)` holds; answers the wall-clock time. */
async function until(page, test, timeout = 300_000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const share = await colorShare(page, GOLD, await page.screenshot());
    if (test(share)) return Date.now();
    if (Date.now() > deadline) throw new Error(`no change on ${page.url()} within ${timeout / 1000} s (gold ${share})`);
    await page.waitForTimeout(50);
  }
}

async function sendToOcpViewer(path) {
  sender.stdin.write(`${path}\n`);
  const start = Number((await answers.next()).value);
  await answers.next(); // "sent"
  return start;
}

try {
  await new Promise((resolve) => setTimeout(resolve, 3000)); // ocp_viewer starting
  const ours = await browser.newPage({ viewport });
  await ours.goto(`${server.base}/viewer/compare`);
  const theirs = await browser.newPage({ viewport });
  await theirs.goto(`http://127.0.0.1:${port}/viewer`);
  const separator = `${tmpdir()}/ocp-bench-separator.json`;
  writeFileSync(separator, fixture("box.json").toString().replaceAll(GOLD, "#4682b4"));

  console.log("| model | size | this page | ocp_viewer | ratio |");
  console.log("|---|---|---|---|---|");
  for (const file of files) {
    const body = readFileSync(file);
    const results = [];
    for (const [page, push] of [
      [ours, async (bytes) => { const start = Date.now(); await post(server.base, "/api/model?viewer=compare", bytes); return start; }],
      [theirs, async (_, path) => sendToOcpViewer(path)],
    ]) {
      await push(readFileSync(separator), separator);
      await until(page, (share) => share < 0.003);
      const start = await push(body, file);
      results.push((await until(page, (share) => share > 0.02)) - start);
    }
    const [mine, other] = results;
    console.log(`| ${file.split("/").pop()} | ${(body.length / 1e6).toFixed(1)} MB | ${(mine / 1000).toFixed(2)} s | ${(other / 1000).toFixed(2)} s | ${(mine / other).toFixed(2)} |`);
  }
} finally {
  sender.kill();
  ocpViewer.kill();
  await browser.close();
  await server.stop();
}
