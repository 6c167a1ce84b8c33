// The browser of a notebook run by tests: opens a viewer URL (the iframe a cell displayed) in
// headless Chromium and keeps it open, so the page follows the viewer, reports its status and
// answers screenshot requests, as it would in a person's notebook.
//
//   node web/test/follow.mjs URL
//
// Prints `connected` once the page follows its stream. Then, for each line on stdin of the form
// `expect <name>,<name>,... <#colour>`, waits until the tree lists every name and prints one JSON
// line: {"ok", "names", "colour_share", "errors"}. Closes when stdin ends.
import { createInterface } from "node:readline";
import { launch, openPage, waitForModel, colorShare } from "./harness.mjs";

const url = process.argv[2];
const browser = await launch();
const page = await openPage(browser, url);
await page.waitForSelector("#connection[data-state=connected]", { timeout: 60_000 });
console.log("connected");

for await (const line of createInterface({ input: process.stdin })) {
  const [command, list, colour] = line.trim().split(/\s+/);
  if (command !== "expect") continue;
  const names = list.split(",");
  const result = { ok: false, names, colour_share: 0, errors: [] };
  try {
    for (const name of names) await waitForModel(page, name, 60_000);
    result.colour_share = await colorShare(page, colour);
    result.ok = true;
  } catch (error) {
    result.errors.push(String(error));
  }
  result.errors.push(...page.errors);
  console.log(JSON.stringify(result));
}
await browser.close();
