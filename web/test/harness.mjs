// Shared pieces of the browser tests: the server binary on a free loopback port, Debian's
// Chromium through playwright-core (WebGL on SwiftShader), and helpers that read what a person
// would see.
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { after, before, test as nodeTest } from "node:test";
import { chromium } from "playwright-core";

const here = new URL(".", import.meta.url);
export const fixture = (name) => readFileSync(new URL(`../../tests/fixtures/${name}`, here));

/** Starts `ocp-notebook` on `port` (0: a free one) with `args`; resolves with its base URL, its
 * process id and a stop function that resolves when the process has exited. */
export async function startServer(port = 0, args = []) {
  const bin = process.env.OCP_NOTEBOOK_BIN;
  if (!bin) throw new Error("OCP_NOTEBOOK_BIN must name the ocp-notebook binary (cargo test sets it)");
  const child = spawn(bin, ["--port", String(port), "--log", "warn", ...args], { stdio: ["ignore", "pipe", "inherit"] });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const line = await new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).once("line", resolve);
    child.once("exit", (code) => reject(new Error(`the server exited (${code})`)));
  });
  const base = line.trim().replace(/\/$/, "");
  return { base, port: Number(new URL(base).port), pid: child.pid, stop: () => (child.kill("SIGTERM"), exited) };
}

export async function post(base, path, body) {
  const response = await fetch(base + path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body,
  });
  const answer = await response.json();
  if (!response.ok) throw new Error(`${path}: ${response.status} ${JSON.stringify(answer)}`);
  return answer;
}

/** Debian's Chromium, headless, with WebGL on SwiftShader. */
export async function launch() {
  const executablePath = process.env.CHROMIUM ?? "/usr/lib/chromium/chromium";
  return chromium.launch({
    executablePath,
    args: [
      "--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--disable-gpu",
      "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync",
    ],
  });
}

/** A server (with the flags `args`) and a browser for the tests of one file, started before
 * them and stopped after: read `setup.server` and `setup.browser` inside the tests. */
export function serverAndBrowser(args = []) {
  const setup = {};
  before(async () => {
    setup.server = await startServer(0, args);
    setup.browser = await launch();
  });
  after(async () => {
    await setup.browser?.close();
    await setup.server?.stop();
  });
  return setup;
}

/** Pages still open, photographed when a test fails. */
const openPages = new Set();
const failures = new URL("../../target/browser-failures/", here);

/** `node:test`'s `test`, keeping a screenshot of every open page when the test fails
 * (target/browser-failures/<test>-<n>.png) for whoever reads the CI log. */
export function test(name, options, body) {
  if (typeof options === "function") [options, body] = [{}, options];
  return nodeTest(name, options, async (context) => {
    try {
      await body(context);
    } catch (error) {
      mkdirSync(failures, { recursive: true });
      const slug = name.replace(/[^a-z0-9]+/gi, "-").slice(0, 60);
      let n = 0;
      for (const page of openPages) {
        const path = new URL(`${slug}-${n++}.png`, failures).pathname;
        await page.screenshot({ path, timeout: 5_000 }).catch(() => {});
        console.error(`screenshot of the failed page: ${path}`);
      }
      throw error;
    }
  });
}

/** A page that records console errors and uncaught exceptions; `init` runs in it before any of
 * its own scripts. */
export async function openPage(browser, url, { init } = {}) {
  const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
  openPages.add(page);
  page.once("close", () => openPages.delete(page));
  page.errors = [];
  page.on("console", (m) => { if (m.type() === "error") page.errors.push(m.text()); });
  page.on("pageerror", (e) => page.errors.push(String(e)));
  if (init) await page.addInitScript(init);
  await page.goto(url);
  return page;
}

/** Waits until the renderer has drawn a model whose tree (expanded, as a person would) lists
 * `name`. */
export async function waitForModel(frame, name, timeout = 60_000) {
  await frame.waitForFunction(
    (part) => {
      if (!window.viewer?.ready) return false;
      const tree = document.querySelector(".tcv_cad_tree_container");
      if (tree?.textContent.includes(part)) return true;
      document.querySelector(".tcv_expand")?.click();
      return false;
    },
    name,
    { timeout, polling: 250 },
  );
}

/** Fraction of the rendered image's pixels close to `hex` (read from the renderer's own image,
 * or from `png` bytes when given). */
export async function colorShare(frame, hex, png = null) {
  const given = png ? `data:image/png;base64,${Buffer.from(png).toString("base64")}` : null;
  return frame.evaluate(async ([hex, given]) => {
    const dataUrl = given ?? (await window.viewer.getImage("test")).dataUrl;
    const image = new Image();
    image.src = dataUrl;
    await image.decode();
    const canvas = document.createElement("canvas");
    canvas.width = image.width;
    canvas.height = image.height;
    const context = canvas.getContext("2d");
    context.drawImage(image, 0, 0);
    const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
    const want = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
    let close = 0;
    for (let i = 0; i < data.length; i += 4) {
      // Lit faces are the colour scaled by the light: compare hue by normalised channels.
      const sum = data[i] + data[i + 1] + data[i + 2];
      const wantSum = want[0] + want[1] + want[2];
      if (sum < 60 || data[i + 3] < 200) continue;
      const off = [0, 1, 2].reduce((d, c) => d + Math.abs(data[i + c] / sum - want[c] / wantSum), 0);
      if (off < 0.06) close++;
    }
    return close / (data.length / 4);
  }, [hex, given]);
}

/** Opens `url` in a context of its own that lets nothing but the file itself load, and records
 * every URL the page asked for. */
export async function openOffline(browser, url) {
  const context = await browser.newContext({ viewport: { width: 1000, height: 700 } });
  const asked = [];
  await context.route("**/*", (route) => {
    const target = route.request().url();
    asked.push(target);
    return target.startsWith("file:") ? route.continue() : route.abort();
  });
  const page = await context.newPage();
  page.errors = [];
  page.on("console", (m) => { if (m.type() === "error") page.errors.push(m.text()); });
  page.on("pageerror", (e) => page.errors.push(String(e)));
  page.on("request", (request) => asked.push(request.url()));
  await page.goto(url);
  return { context, page, asked };
}
