// The API docs page (/api/docs) in headless Chromium: Swagger UI from the binary, over the
// server's own document, with nothing fetched from anywhere else, and "Try it out" answered by
// this server.
import assert from "node:assert/strict";
import { test, serverAndBrowser, startServer } from "./harness.mjs";

const setup = serverAndBrowser();

test("the API docs page lists every operation and tries them against the server, offline", async () => {
  const base = setup.server.base;
  const document = await (await fetch(`${base}/api/openapi.json`)).json();
  const operations = Object.values(document.paths).reduce((n, ops) => n + Object.keys(ops).length, 0);

  const context = await setup.browser.newContext({ viewport: { width: 1300, height: 900 } });
  const elsewhere = [];
  await context.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith(base) || url.startsWith("data:")) return route.continue();
    elsewhere.push(url);
    return route.abort();
  });
  const page = await context.newPage();
  const errors = [];
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(`${base}/api/docs`);
  await page.waitForSelector("body[data-ready=true]", { timeout: 30_000 });
  await page.waitForSelector(".opblock");
  assert.equal(await page.locator(".opblock").count(), operations, "one block per operation");
  assert.match(await page.locator(".info .title").textContent(), /ocp_notebook/);

  // A read: GET /health, answered by this server.
  const health = page.locator("#operations-server-health");
  // "Try it out" is on from the start (the page sets tryItOutEnabled).
  await health.locator(".opblock-summary").click();
  await health.locator(".execute").click();
  const status = health.locator(".live-responses-table .response .response-col_status").first();
  await status.waitFor({ timeout: 10_000 });
  assert.equal((await status.textContent()).trim(), "200");
  assert.match(await health.locator(".live-responses-table .microlight").first().textContent(), /"status": "ok"/);

  // A write it refuses: a theme the viewer has not, at its JSON path.
  const config = page.locator("#operations-config-post_config");
  await config.locator(".opblock-summary").click();
  await config.locator("textarea.body-param__text").fill('{"theme": "purple"}');
  await config.locator(".execute").click();
  const refused = config.locator(".live-responses-table .response .response-col_status").first();
  await refused.waitFor({ timeout: 10_000 });
  assert.equal((await refused.textContent()).trim(), "422");
  assert.match(await config.locator(".live-responses-table .microlight").first().textContent(), /"path": "\$\.theme"/);
  const defaults = await (await fetch(`${base}/api/config`)).json();
  assert.notEqual(defaults.theme, "purple", "nothing was stored");

  assert.deepEqual(elsewhere, [], "the page asked for nothing beyond the server");
  // Chromium logs the refused write (the 422 asked for above) as a failed load; nothing else.
  assert.deepEqual(errors.filter((e) => !/status of 422/.test(e)), []);
  await context.close();
});

test("on a server with a token, the docs page from the URL it printed tries writes with that token", async () => {
  const server = await startServer(0, ["--token", "sesame"]);
  try {
    const base = server.base.replace(/\/?\?token=.*$/, "");
    const page = await setup.browser.newPage();
    await page.goto(`${base}/api/docs?token=sesame`);
    await page.waitForSelector("body[data-ready=true]", { timeout: 30_000 });
    const list = page.locator("#operations-viewers-list_viewers");
    await list.locator(".opblock-summary").click();
    await list.locator(".execute").click();
    const status = list.locator(".live-responses-table .response .response-col_status").first();
    await status.waitFor({ timeout: 10_000 });
    assert.equal((await status.textContent()).trim(), "200", "the token went with the request");
    assert.match(await list.locator(".live-responses-table .microlight").first().textContent(), /"viewers"/);
    await page.close();
  } finally {
    await server.stop();
  }
});
