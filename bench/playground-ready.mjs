// Time from navigation to "ready for input" for the playground in headless Chromium (DESIGN.md §6: 500 ms),
// on loopback. Run by bench/run.py after ./dev bench has built dist/ and installed playwright-core and Chromium.
//
//   node bench/playground-ready.mjs [LOADS]
//
// Serves dist/ as `./dev serve` does, then loads the page LOADS times (default 7), each in a fresh browser
// context (empty cache: a first visit). The page marks itself ready by setting <body data-ready="1"> once the
// wasm is instantiated and the input is live; an init script records performance.now() (ms since navigation
// start) at that moment with a MutationObserver, so polling adds nothing. Prints JSON: every load's time.

import { join } from "node:path";
import { ROOT, serve, launchChromium } from "../tests/e2e/support.mjs";

const LOADS = Number(process.argv[2] ?? 7);
const server = await serve({ "/": join(ROOT, "dist") });
const browser = await launchChromium();
const times = [];
try {
  for (let i = 0; i < LOADS; i++) {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.addInitScript(() => {
      new MutationObserver((_, observer) => {
        if (document.body?.dataset.ready === "1") {
          window.__readyAt = performance.now();
          observer.disconnect();
        }
      }).observe(document, { attributes: true, subtree: true, attributeFilter: ["data-ready"] });
    });
    await page.goto(server.url + "/index.html");
    await page.waitForSelector("body[data-ready='1']", { timeout: 15000 });
    times.push(await page.evaluate(() => window.__readyAt));
    await context.close();
  }
} finally {
  await browser.close();
  await server.close();
}
console.log(JSON.stringify({ loads: times }));
