// The viewer where notebooks put it: inside an iframe of a page from another origin, and through
// a restart of the server.
import { before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { test, startServer, post, launch, openPage, waitForModel, fixture } from "./harness.mjs";

let browser;

before(async () => {
  browser = await launch();
});

after(async () => {
  await browser?.close();
});

test("a viewer inside an iframe of a page from another origin works", async () => {
  const server = await startServer();
  // The "notebook": another origin (another port) whose page frames the viewer.
  const notebook = createServer((_, response) => {
    response.setHeader("Content-Type", "text/html");
    response.end(`<!doctype html><title>notebook</title><link rel="icon" href="data:,">
      <iframe id="cell" src="${server.base}/viewer/framed" width="900" height="600"></iframe>`);
  });
  await new Promise((resolve) => notebook.listen(0, "127.0.0.1", resolve));
  await post(server.base, "/api/model?viewer=framed", fixture("box.json"));
  const page = await openPage(browser, `http://127.0.0.1:${notebook.address().port}/`);
  const frame = await (await page.waitForSelector("#cell")).contentFrame();
  await waitForModel(frame, "box");
  assert.deepEqual(page.errors, []);
  await page.close();
  notebook.close();
  await server.stop();
});

test("after a server restart on the same port the page reconnects and shows the current model", async () => {
  let server = await startServer();
  const port = server.port;
  await post(server.base, "/api/model?viewer=restart", fixture("box.json"));
  const page = await openPage(browser, `${server.base}/viewer/restart`);
  await waitForModel(page, "box");
  await server.stop();
  await page.waitForSelector("#connection[data-state=reconnecting]", { timeout: 20_000 });
  server = await startServer(port);
  await post(server.base, "/api/model?viewer=restart", fixture("bracket.json"));
  await waitForModel(page, "bracket");
  await page.waitForSelector("#connection[data-state=connected]");
  await page.close();
  await server.stop();
});
