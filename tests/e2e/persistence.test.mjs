// The playground's data beyond one page load, in headless Chromium over the built dist/: kept in IndexedDB
// across reloads (TTLs and the fast-forwarded clock included), downloaded as dump.rdb, loaded back by the file
// picker and by a drop, reset after a confirmation; a bad file and a broken storage are notices that change
// nothing. Screenshots of the header's actions go to target/screenshots/. Run by `./dev test` after
// `trunk build`.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, serve, launchChromium } from "./support.mjs";

const SHOTS = join(ROOT, "target/screenshots");
let server, browser;

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  server = await serve({ "/play/": join(ROOT, "dist") });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

const url = (query = "") => `${server.url}/play/index.html${query}`;

/** A fresh browser profile (its own IndexedDB) with one page; console errors and page errors are collected. */
async function profile(init) {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  if (init) await context.addInitScript(init);
  const problems = [];
  const page = async (query = "?lang=en") => {
    const p = await context.newPage();
    p.on("pageerror", (e) => problems.push(String(e)));
    p.on("console", (m) => m.type() === "error" && problems.push(m.text()));
    await p.goto(url(query));
    await ready(p);
    return p;
  };
  return { context, page, problems, close: () => context.close() };
}

const ready = (page) => page.waitForSelector("body[data-ready='1']", { timeout: 20000 });
const input = ".console[data-client='1'] input.line";

async function type(page, line) {
  await page.fill(input, line);
  await page.press(input, "Enter");
}

/** What the console printed for the last line typed. */
async function run(page, line) {
  await type(page, line);
  return page.$eval(".console[data-client='1'] .screen", (el) => {
    const outs = [...el.querySelectorAll(":scope > .in:not(.current), :scope > .out")];
    const at = outs.map((e) => e.classList.contains("in")).lastIndexOf(true);
    return outs.slice(at + 1).map((e) => e.querySelector("pre")?.textContent ?? "").join("\n");
  });
}

const ttl = async (page, key) => Number((await run(page, `TTL ${key}`)).replace("(integer) ", ""));
const keyNames = (page) => page.$$eval(".key-row .name", (els) => els.map((e) => e.textContent));

/** Waits until the page has noticed a change and saved it. */
async function saved(page) {
  await page.waitForSelector("body[data-storage='pending']", { timeout: 5000 });
  await page.waitForSelector("body[data-storage='saved']", { timeout: 5000 });
}

/** A string, a list and a hash, each with a TTL, and a key in database 2. */
async function writeKeys(page) {
  await type(page, "SET greeting hello EX 100");
  await type(page, "RPUSH queue a b c");
  await type(page, "EXPIRE queue 300");
  await type(page, "HSET user:1 name Ada city Dhaka");
  await type(page, "EXPIRE user:1 600");
  await type(page, "SELECT 2");
  await type(page, "SET in-db-2 yes");
  await type(page, "SELECT 0");
}

async function checkKeys(page, ttls) {
  assert.deepEqual(await keyNames(page), ["greeting", "queue", "user:1"]);
  assert.equal(await run(page, "GET greeting"), '"hello"');
  assert.equal(await run(page, "LRANGE queue 0 -1"), '1) "a"\n2) "b"\n3) "c"');
  assert.equal(await run(page, "HGETALL user:1"), '1) "name"\n2) "Ada"\n3) "city"\n4) "Dhaka"');
  for (const [key, [low, high]] of Object.entries(ttls)) {
    const left = await ttl(page, key);
    assert.ok(left >= low && left <= high, `TTL ${key} is ${left}, expected ${low}..${high}`);
  }
  assert.equal(await run(page, "SELECT 2"), "OK");
  assert.equal(await run(page, "GET in-db-2"), '"yes"');
  await type(page, "SELECT 0");
}

test("the data, its TTLs and the fast-forwarded clock survive a reload", async () => {
  const { page, problems, close } = await profile();
  const p = await page();
  await p.waitForSelector("body[data-storage='saved']");
  await writeKeys(p);
  // Ten seconds ahead: after the reload the TTLs must still count from the virtual clock.
  await p.click("button.step[data-ms='10000']");
  await saved(p);
  await p.reload();
  await ready(p);
  await checkKeys(p, { greeting: [85, 90], queue: [285, 290], "user:1": [585, 590] });
  assert.match(await p.textContent(".time .ahead"), /0:1\d/);

  // Left right after a write, before the quiet period: the page saves as it goes.
  await type(p, "SET last-word bye");
  await p.reload();
  await ready(p);
  assert.equal(await run(p, "GET last-word"), '"bye"');
  // URL commands run on top of the kept data.
  await p.goto(url("?lang=en&run=INCR%20visits"));
  await ready(p);
  assert.equal(await run(p, "DBSIZE"), "(integer) 5");
  assert.deepEqual(problems, []);
  await close();
});

test("dump.rdb: download, reset with a confirmation, load it back; a bad file changes nothing", async () => {
  const { page, problems, close } = await profile();
  const p = await page();
  await writeKeys(p);

  const [download] = await Promise.all([p.waitForEvent("download"), p.click("button.download")]);
  assert.equal(download.suggestedFilename(), "dump.rdb");
  const dir = mkdtempSync(join(tmpdir(), "redlet-dump-"));
  const file = join(dir, download.suggestedFilename());
  await download.saveAs(file);
  const bytes = readFileSync(file);
  assert.equal(bytes.subarray(0, 9).toString("latin1"), "REDIS0009");

  // Reset asks first; Escape or Cancel keeps everything.
  await p.click("button.reset");
  await p.waitForSelector(".data-actions .confirm");
  assert.equal(await p.evaluate(() => document.activeElement.className), "cancel");
  await p.keyboard.press("Escape");
  await p.waitForSelector(".data-actions .confirm", { state: "detached" });
  assert.equal((await keyNames(p)).length, 3);
  await p.click("button.reset");
  await p.click("button.confirm-reset");
  await p.waitForSelector(".key-list .empty");
  assert.equal(await run(p, "DBSIZE"), "(integer) 0");
  assert.match(await p.textContent(".data-notice"), /All data was removed/);
  // The empty dataset is what the browser keeps now.
  await saved(p);
  await p.reload();
  await ready(p);
  assert.equal(await run(p, "DBSIZE"), "(integer) 0");

  await p.setInputFiles("input.rdb-file", file);
  await p.waitForFunction(() => document.querySelectorAll(".key-row").length === 3);
  assert.match(await p.textContent(".data-notice"), /^dump\.rdb loaded: 4 keys\.\s*×$/);
  await checkKeys(p, { greeting: [90, 100], queue: [290, 300], "user:1": [590, 600] });

  // A file that is not a snapshot, and a snapshot cut short: a readable error, and the data as it was.
  for (const [name, buffer, reason] of [
    ["notes.txt", Buffer.from("just some text, not a snapshot"), "Wrong signature trying to load DB from file"],
    ["cut.rdb", bytes.subarray(0, bytes.length - 20), "Unexpected EOF reading RDB file"],
  ]) {
    await type(p, "SET marker before");
    await p.setInputFiles("input.rdb-file", { name, mimeType: "application/octet-stream", buffer });
    await p.waitForSelector(".data-notice.error");
    assert.equal((await p.textContent(".data-notice.error .text")).trim(),
      `${name} could not be loaded: ${reason}. Your data was not changed.`);
    assert.equal(await p.getAttribute(".data-notice.error", "role"), "alert");
    assert.equal(await run(p, "GET marker"), '"before"');
    assert.equal(await run(p, "DBSIZE"), "(integer) 4");
    await p.click(".data-notice .dismiss");
    await p.waitForSelector(".data-notice", { state: "detached" });
  }

  // Dropped on the page: the page shows where to drop while a file is over it, then loads it.
  await type(p, "FLUSHALL");
  const dump = [...bytes];
  await p.evaluate((data) => {
    const dt = new DataTransfer();
    dt.items.add(new File([new Uint8Array(data)], "dropped.rdb", { type: "application/octet-stream" }));
    window.__drag = dt;
    document.body.dispatchEvent(new DragEvent("dragenter", { bubbles: true, cancelable: true, dataTransfer: dt }));
    document.body.dispatchEvent(new DragEvent("dragover", { bubbles: true, cancelable: true, dataTransfer: dt }));
  }, dump);
  await p.waitForSelector(".drop-overlay");
  await p.screenshot({ path: join(SHOTS, "drop-en.png") });
  await p.evaluate(() => document.body.dispatchEvent(new DragEvent("drop", { bubbles: true, cancelable: true, dataTransfer: window.__drag })));
  await p.waitForSelector(".drop-overlay", { state: "detached" });
  await p.waitForFunction(() => document.querySelectorAll(".key-row").length === 3);
  assert.match(await p.textContent(".data-notice"), /^dropped\.rdb loaded: 4 keys\./);
  assert.deepEqual(problems, []);
  await close();
  rmSync(dir, { recursive: true, force: true });
});

test("embeds and lessons start empty and keep nothing", async () => {
  const { page, problems, close } = await profile();
  const full = await page();
  await type(full, "SET kept yes");
  await saved(full);
  for (const query of ["?lang=en&embed=1", "?lang=en&lesson=basics"]) {
    const p = await page(query);
    await p.waitForSelector("body[data-storage='off']");
    assert.equal(await run(p, "DBSIZE"), "(integer) 0");
    await type(p, "SET from-embed 1");
    await p.close();
  }
  await full.reload();
  await ready(full);
  assert.equal(await run(full, "GET kept"), '"yes"');
  assert.equal(await run(full, "EXISTS from-embed"), "(integer) 0");
  assert.deepEqual(problems, []);
  await close();
});

test("without IndexedDB, or with a full quota, the page says so and goes on working", async () => {
  const missing = await profile(() => Object.defineProperty(window, "indexedDB", { get: () => undefined }));
  let p = await missing.page();
  await p.waitForSelector("body[data-storage='off']");
  assert.match(await p.textContent(".data-notice.error"),
    /^This browser does not let the playground keep data \(IndexedDB is not available\), so it will be gone when you reload\./);
  assert.equal(await run(p, "SET a 1"), "OK");
  assert.deepEqual(missing.problems, []);
  await missing.close();

  const full = await profile(() => {
    IDBObjectStore.prototype.put = function () {
      throw new DOMException("The quota has been exceeded.", "QuotaExceededError");
    };
  });
  p = await full.page();
  assert.equal(await run(p, "SET a 1"), "OK");
  await p.waitForSelector("body[data-storage='error']");
  assert.equal((await p.textContent(".data-notice.error .text")).trim(),
    "Your data could not be saved in this browser: QuotaExceededError: The quota has been exceeded.");
  // Not retried in a loop: the next write tries again, and the console never stopped.
  assert.equal(await run(p, "INCR a"), "(integer) 2");
  assert.deepEqual(full.problems, []);
  await full.close();
});

test("the header's data actions in English and Arabic (screenshots)", async () => {
  const { page, problems, close } = await profile();
  for (const lang of ["en", "ar"]) {
    const p = await page(`?lang=${lang}`);
    const header = await p.locator("header.top").boundingBox();
    await p.screenshot({ path: join(SHOTS, `header-${lang}.png`), clip: { x: 0, y: 0, width: 1400, height: header.height } });
    await p.click("button.reset");
    await p.waitForSelector(".data-actions .confirm");
    await p.screenshot({ path: join(SHOTS, `reset-confirm-${lang}.png`) });
    await p.click("button.cancel");
    await p.close();
  }
  // Wherever the header wraps the button to, the question is inside the window; a click beside it is a no.
  for (const width of [1100, 390]) {
    for (const lang of ["en", "ar"]) {
      const p = await page(`?lang=${lang}`);
      await p.setViewportSize({ width, height: 800 });
      await p.click("button.reset");
      const box = await p.locator(".data-actions .confirm").boundingBox();
      assert.ok(box.x >= 0 && box.x + box.width <= width && box.y >= 0, `${width} ${lang} ${JSON.stringify(box)}`);
      await p.mouse.click(5, 795);
      await p.waitForSelector(".data-actions .confirm", { state: "detached" });
      await p.close();
    }
  }
  assert.deepEqual(problems, []);
  await close();
});
