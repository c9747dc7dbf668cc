// End to end in headless Chromium: a plain module page using the `web` build and the
// differential case files replayed inside wasm. Run by `./dev test` (node --test) after the wasm builds.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { ROOT, PKG, loadCaseFiles, serve, launchChromium } from "./support.mjs";
import { summary, unexpected } from "./cases.mjs";

let server, browser;

before(async () => {
  server = await serve({
    "/page.html": join(ROOT, "tests/e2e/page.html"),
    "/cases.mjs": join(ROOT, "tests/e2e/cases.mjs"),
    "/pkg/": PKG("web"),
  });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

/** A new page that fails the test on any uncaught error or console error. */
async function open(path) {
  const page = await browser.newPage();
  const problems = [];
  page.on("pageerror", (e) => problems.push(String(e)));
  page.on("console", (m) => m.type() === "error" && problems.push(m.text()));
  await page.goto(server.url + path);
  return { page, problems };
}

test("a plain <script type=module> page imports ./pkg/redlet_web.js and runs commands", async () => {
  const { page, problems } = await open("/page.html");
  await page.waitForSelector("body[data-done='1']", { timeout: 15000 });
  assert.equal(
    await page.textContent("#out"),
    ["OK", "Anisul", "1", '"Anisul"', "ERR wrong number of arguments for 'get' command", "null"].join("\n"),
  );
  assert.deepEqual(problems, []);
  await page.close();
});

test("the differential case files give Redis's recorded replies inside wasm in the browser", async () => {
  const { page, problems } = await open("/page.html");
  await page.waitForSelector("body[data-done='1']", { timeout: 15000 });
  const files = loadCaseFiles();
  const tally = await page.evaluate(async (files) => {
    const [{ runCaseFiles }, { Redlet }] = await Promise.all([import("/cases.mjs"), import("/pkg/redlet_web.js")]);
    return runCaseFiles(Redlet, files);
  }, files);
  console.log(summary("in the browser", tally));
  const { differences, gone } = unexpected(tally);
  for (const d of differences.slice(0, 40)) console.log(`DIFF ${d.at}: ${d.text}`);
  assert.equal(tally.files, files.length);
  assert.ok(tally.commands > 0);
  assert.deepEqual(differences.map((d) => d.at), []);
  assert.deepEqual(gone, [], "a known wasm difference no longer occurs: remove it from KNOWN_WASM_DIFFERENCES");
  assert.deepEqual(problems, []);
  await page.close();
});
