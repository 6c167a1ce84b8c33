// Many viewers in one notebook: browsers open at most six HTTP/1.1 connections per host, so
// twelve viewer iframes must share their event stream (events-worker.js) to all stay live.
import { before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { test, startServer, post, launch, openPage, waitForModel, fixture } from "./harness.mjs";

let server;
let browser;
let notebook;

before(async () => {
  server = await startServer();
  browser = await launch();
  // A "notebook" on another origin whose page holds the iframes named in its query.
  notebook = createServer((request, response) => {
    const ids = new URL(request.url, "http://x").searchParams.getAll("v");
    response.setHeader("Content-Type", "text/html");
    response.end(`<!doctype html><title>notebook</title><link rel="icon" href="data:,">` +
      ids.map((id) => `<iframe name="${id}" src="${server.base}/viewer/${id}" width="380" height="260"></iframe>`).join(""));
  });
  await new Promise((resolve) => notebook.listen(0, "127.0.0.1", resolve));
});

after(async () => {
  await browser?.close();
  notebook?.close();
  await server?.stop();
});

async function openNotebook(ids) {
  const query = ids.map((id) => `v=${id}`).join("&");
  const page = await openPage(browser, `http://127.0.0.1:${notebook.address().port}/?${query}`);
  const frames = [];
  for (const id of ids) {
    const frame = await (await page.waitForSelector(`iframe[name="${id}"]`)).contentFrame();
    await frame.waitForSelector("#connection[data-state=connected]", { timeout: 60_000 });
    frames.push(frame);
  }
  return { page, frames };
}

test("twelve viewers in one page and three in another tab all show pushed updates", { timeout: 300_000 }, async () => {
  const first = Array.from({ length: 12 }, (_, i) => `cell${i}`);
  const second = ["tab2a", "tab2b", "tab2c"];
  const one = await openNotebook(first);
  const two = await openNotebook(second);

  for (const id of [...first, ...second]) {
    await post(server.base, `/api/model?viewer=${id}`, fixture("box.json"));
  }
  for (const frame of [...one.frames, ...two.frames]) {
    await waitForModel(frame, "box", 120_000);
  }
  // The pages still reach the server's other endpoints: the shared stream left connections free.
  const health = await one.frames[11].evaluate(async () => (await fetch("../health")).status);
  assert.equal(health, 200);
  const viewers = await (await fetch(`${server.base}/api/viewers`)).json();
  const watched = viewers.viewers.filter((v) => v.subscribers > 0).length;
  assert.equal(watched, 15, "every viewer has its page");
  await one.page.close();
  await two.page.close();
});
