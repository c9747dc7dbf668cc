// The playground as trunk builds it (dist/), in headless Chromium: consoles, two clients, the key browser and
// visualizer, time, languages (Arabic right to left), embedding, escaping. Screenshots of the main view in
// every language go to target/screenshots/. Run by `./dev test` after `trunk build`.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, serve, launchChromium } from "./support.mjs";

const SHOTS = join(ROOT, "target/screenshots");
let server, browser;

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  // The built folder under a sub-path, as a course site would host it: every URL in it must be relative.
  writeFileSync(join(ROOT, "target/embed-page.html"), `<!doctype html><html><head><meta charset="utf-8"><title>Course</title><link rel="icon" href="data:,"></head>
<body><h1>A course page</h1><script src="courses/redis/embed.js"></script>
<redlet-playground lang="ru" lesson="caching" run="SET greeting привет" height="500"></redlet-playground></body></html>`);
  server = await serve({ "/courses/redis/": join(ROOT, "dist"), "/course.html": join(ROOT, "target/embed-page.html") });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

/** The page, loaded and ready; `setup(page)` runs before it navigates (request listeners, routes). */
async function open(query = "", viewport = { width: 1400, height: 900 }, setup = async () => {}) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const problems = [];
  page.on("pageerror", (e) => problems.push(String(e)));
  page.on("console", (m) => m.type() === "error" && problems.push(m.text()));
  await setup(page);
  await page.goto(`${server.url}/courses/redis/index.html${query}`);
  await page.waitForSelector("body[data-ready='1']", { timeout: 20000 });
  return { page, problems, close: () => context.close() };
}

const input = (n = 1) => `.console[data-client='${n}'] input.line`;
const screen = (n = 1) => `.console[data-client='${n}'] .screen`;

/** A console's transcript as lines: prompt and command, then each reply's text. */
async function transcript(page, n = 1) {
  return page.$eval(screen(n), (el) =>
    [...el.querySelectorAll(":scope > .in:not(.current), :scope > .out pre")].map((e) => e.textContent).join("\n"));
}

async function type(page, line, n = 1) {
  await page.fill(input(n), line);
  await page.press(input(n), "Enter");
}

test("typed commands print as redis-cli prints them, with history, hints and completion", async () => {
  const { page, problems, close } = await open("?lang=en");
  await type(page, 'SET user:1:name "Anisul"');
  await type(page, "GET user:1:name");
  await type(page, "INCR page_views");
  await type(page, "SELECT 2");
  assert.equal(await transcript(page), [
    '127.0.0.1:6379> SET user:1:name "Anisul"', "OK",
    "127.0.0.1:6379> GET user:1:name", '"Anisul"',
    "127.0.0.1:6379> INCR page_views", "(integer) 1",
    "127.0.0.1:6379> SELECT 2", "OK",
  ].join("\n"));
  assert.equal((await page.textContent(`.console[data-client='1'] .current .prompt`)).trim(), "127.0.0.1:6379[2]>");
  // ↑ brings the last line back; the hint shows what SET still needs.
  await page.press(input(), "ArrowUp");
  assert.equal(await page.inputValue(input()), "SELECT 2");
  await page.fill(input(), "SET k");
  assert.match(await page.textContent(".console[data-client='1'] .hint"), /^ value \[NX\|XX\]/);
  await page.fill(input(), "zrangeb");
  await page.press(input(), "Tab");
  assert.equal(await page.inputValue(input()), "zrangebylex");
  await page.fill(input(), "HELP GET");
  await page.press(input(), "Enter");
  assert.match(await transcript(page), /GET key\s+summary: .+\s+since: 1\.0\.0\s+group: string/);
  assert.deepEqual(problems, []);
  await close();
});

test("two clients: BLPOP waits in one until LPUSH in the other", async () => {
  const { page, problems, close } = await open("?lang=en");
  await page.click(".add-client");
  await page.waitForSelector(input(2));
  await type(page, "BLPOP jobs 0", 1);
  await page.waitForSelector(".console[data-client='1'].blocked");
  await type(page, "LPUSH jobs resize-image", 2);
  await page.waitForSelector(".console[data-client='1']:not(.blocked)");
  assert.match(await transcript(page, 1), /BLPOP jobs 0\n1\) "jobs"\n2\) "resize-image"$/);
  assert.match(await transcript(page, 2), /LPUSH jobs resize-image\n\(integer\) 1$/);
  // SUBSCRIBE in one, PUBLISH in the other.
  await type(page, "SUBSCRIBE news", 1);
  await type(page, "PUBLISH news hello", 2);
  assert.match(await transcript(page, 1), /Reading messages\.\.\. \(press Ctrl-C to quit\)\n1\) "subscribe"\n2\) "news"\n3\) \(integer\) 1\n1\) "message"\n2\) "news"\n3\) "hello"$/);
  assert.deepEqual(problems, []);
  await close();
});

test("the key browser and the visualizer follow LPUSH, ZADD and HSET", async () => {
  const { page, problems, close } = await open("?lang=en");
  await type(page, "RPUSH queue a b");
  await type(page, "LPUSH queue z");
  assert.deepEqual(await page.$$eval(".key-row .name", (els) => els.map((e) => e.textContent)), ["queue"]);
  assert.deepEqual(await page.$$eval(".viz .cell .val", (els) => els.map((e) => e.textContent)), ["z", "a", "b"]);
  assert.deepEqual(await page.$$eval(".viz .cell.added .val", (els) => els.map((e) => e.textContent)), ["z"]);
  await type(page, "ZADD board 10 alice 25 bob");
  await type(page, "ZINCRBY board 20 alice");
  assert.deepEqual(await page.$$eval(".viz table.zset tbody tr td:nth-child(2)", (els) => els.map((e) => e.textContent)), ["bob", "alice"]);
  assert.equal(await page.textContent(".viz table.zset tr.changed td:nth-child(2)"), "alice");
  await type(page, "HSET user:1 name Anisul city Dhaka");
  assert.deepEqual(await page.$$eval(".viz table.hash tbody td:first-child", (els) => els.map((e) => e.textContent)), ["name", "city"]);
  assert.deepEqual(await page.$$eval(".key-row .name", (els) => els.map((e) => e.textContent)), ["board", "queue", "user:1"]);
  await page.fill(".filters .pattern", "us");
  await page.waitForFunction(() => document.querySelectorAll(".key-row").length === 1);
  assert.deepEqual(problems, []);
  await close();
});

test("a TTL counts down under fast-forward and the key goes", async () => {
  const { page, problems, close } = await open("?lang=en");
  await type(page, "SET session:42 data EX 60");
  const ttl = async () => page.textContent(".key-row .ttl");
  assert.match(await ttl(), /^(1:00|0:59)$/);
  await page.click("button.step[data-ms='10000']");
  await page.waitForFunction(() => /^0:(50|49)$/.test(document.querySelector(".key-row .ttl")?.textContent ?? ""));
  await page.click("button.pause");
  await page.click("button.step[data-ms='60000']");
  await page.waitForSelector(".key-list .empty");
  await type(page, "TTL session:42");
  assert.match(await transcript(page), /TTL session:42\n\(integer\) -2$/);
  assert.deepEqual(problems, []);
  await close();
});

test("Arabic turns the page right to left while commands stay left to right; a screenshot per language", async () => {
  const { page, problems, close } = await open("?lang=en");
  for (const line of ["SET user:1:name Anisul", "RPUSH queue email sms", "ZADD board 10 alice 25 bob", "HSET user:1 name Anisul city Dhaka"]) await type(page, line);
  const titles = {};
  for (const lang of ["en", "bn", "ar", "ru"]) {
    await page.selectOption("header select", lang);
    await page.waitForFunction((l) => document.documentElement.lang === l, lang);
    titles[lang] = await page.textContent(".keys h2");
    await page.screenshot({ path: join(SHOTS, `playground-${lang}.png`) });
  }
  assert.equal(await page.getAttribute("html", "dir"), "ltr");
  await page.selectOption("header select", "ar");
  assert.equal(await page.getAttribute("html", "dir"), "rtl");
  assert.equal(await page.getAttribute(".app", "dir"), "rtl");
  assert.equal(await page.getAttribute(screen(), "dir"), "ltr");
  assert.equal(titles.ar, "المفاتيح");
  assert.equal(titles.ru, "Ключи");
  assert.equal(titles.bn, "Key সমূহ");
  assert.equal(titles.en, "Keys");
  // In a right-to-left page the inspector sits on the left of the consoles.
  const [consoles, inspect] = await Promise.all([page.locator(".consoles").boundingBox(), page.locator(".inspect").boundingBox()]);
  assert.ok(inspect.x < consoles.x, `${inspect.x} < ${consoles.x}`);
  // The choice is remembered across a reload (without ?lang).
  await page.goto(`${server.url}/courses/redis/index.html`);
  await page.waitForSelector("body[data-ready='1']", { timeout: 20000 });
  assert.equal(await page.getAttribute("html", "lang"), "ar");
  assert.deepEqual(problems, []);
  await close();
});

test("an embedded playground in a course page takes its language and commands from the element", async () => {
  const context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
  const page = await context.newPage();
  await page.goto(`${server.url}/course.html`);
  const frame = page.frameLocator("redlet-playground iframe");
  await frame.locator("body[data-ready='1']").waitFor({ timeout: 20000 });
  assert.equal(await frame.locator("html").getAttribute("lang"), "ru");
  assert.match(await frame.locator(".console .screen").textContent(), /SET greeting приветOK/);
  assert.equal(await frame.locator(".app").getAttribute("class"), "app embedded");
  // The element's lesson opens in its language, fetched beside the iframe's page.
  await frame.locator("article.lesson[data-slug='caching'] .lesson-title").waitFor();
  assert.equal(await frame.locator(".lesson-title").textContent(), title("ru", "02-caching.md"));
  await page.screenshot({ path: join(SHOTS, "embedded-ru.png") });
  await context.close();
});

test("a key named like HTML is shown as text", async () => {
  const { page, problems, close } = await open("?lang=en");
  await page.evaluate(() => { window.alerted = false; window.alert = () => { window.alerted = true; }; });
  await type(page, 'SET "<img src=x onerror=alert(1)>" v');
  assert.equal(await page.textContent(".key-row .name"), "<img src=x onerror=alert(1)>");
  assert.equal(await page.$$eval("img", (els) => els.length), 0);
  assert.equal(await page.evaluate(() => window.alerted), false);
  assert.deepEqual(problems, []);
  await close();
});

test("a phone-sized screen stacks the panes", async () => {
  const { page, problems, close } = await open("?lang=bn", { width: 390, height: 844 });
  await type(page, "SET নাম মান");
  assert.match(await transcript(page), /SET নাম মান\nOK$/);
  const [consoles, inspect] = await Promise.all([page.locator(".consoles").boundingBox(), page.locator(".inspect").boundingBox()]);
  assert.ok(inspect.y > consoles.y + consoles.height - 1);
  await page.screenshot({ path: join(SHOTS, "phone-bn.png") });
  assert.deepEqual(problems, []);
  await close();
});

// Each language opens a different lesson, so the four runs cover two-client steps (queues), waits (caching,
// sessions) and an exercise in every language.
const LESSON_PER_LANG = { en: "queues", bn: "caching", ar: "leaderboards", ru: "sessions" };

test("a lesson in each language: listed, opened beside the console, steps run by clicking, the exercise checked", async () => {
  for (const [lang, slug] of Object.entries(LESSON_PER_LANG)) {
    const { page, problems, close } = await open(`?lang=${lang}`);
    await page.click("header .lessons-toggle");
    const listed = await page.$$eval(".course .lesson-link", (els) => els.map((e) => e.dataset.slug));
    assert.deepEqual(listed, ["first-steps", "caching", "sessions", "counters", "queues", "leaderboards"]);
    await page.click(`.lesson-link[data-slug='${slug}']`);
    await page.waitForSelector(`article.lesson[data-slug='${slug}']`);
    // The lesson is the translated one: its text is in the page's language, not the English fallback.
    assert.equal(await page.$$eval(".lesson .untranslated", (els) => els.length), 0, `${lang}/${slug} is translated`);
    // Every step and every timeout, in the order the lesson gives them (the solution is not shown yet).
    const buttons = page.locator("article.lesson .run-step, article.lesson .wait-step");
    const count = await buttons.count();
    assert.ok(count >= 3, `${slug}: ${count} buttons`);
    for (let i = 0; i < count; i++) {
      const button = buttons.nth(i);
      const step = button.locator("xpath=ancestor::div[contains(concat(' ', normalize-space(@class), ' '), ' step ')][1]");
      const isRun = await button.evaluate((b) => b.classList.contains("run-step"));
      await button.click();
      if (!isRun) continue;
      await step.locator(".done").waitFor();
      // The console shows the step's last command, typed at the prompt.
      const client = Number(((await step.locator(".badge.client").allTextContents())[0] ?? "1").replace(/\D+/g, "") || "1");
      const commands = await step.locator(".cmd").allTextContents();
      const last = commands[commands.length - 1];
      assert.ok((await transcript(page, client)).includes(`> ${last}`), `${lang}/${slug}: console ${client} ran ${last}`);
    }
    // The exercise: not done by the lesson's steps alone.
    await page.click(".exercise .check");
    await page.waitForSelector(".exercise .result.not-yet");
    assert.ok((await page.locator(".exercise .check-row").count()) >= 1);
    // The learner asks for a hint, then types the solution into the console.
    const hints = await page.locator(".exercise .hint-button").count();
    if (hints) {
      await page.click(".exercise .hint-button");
      await page.waitForSelector(".exercise .hint-box");
    }
    await page.click(".exercise .show-solution");
    for (const line of await page.locator(".solution .cmd").allTextContents()) await type(page, line, 1);
    await page.click(".exercise .check");
    await page.waitForSelector(".exercise .result.correct");
    await page.screenshot({ path: join(SHOTS, `lesson-${lang}.png`) });
    if (lang === "ar") {
      // Prose right to left, steps left to right; the lessons pane sits at the right, before the consoles.
      assert.equal(await page.getAttribute(".lesson .transcript", "dir"), "ltr");
      const [pane, consoles] = await Promise.all([page.locator(".lessons-pane").boundingBox(), page.locator(".consoles").boundingBox()]);
      assert.ok(pane.x > consoles.x, `${pane.x} > ${consoles.x}`);
    }
    assert.deepEqual(problems, []);
    await close();
  }
});

test("?lesson= opens a lesson directly, and an unknown one says so", async () => {
  const { page, problems, close } = await open("?lang=ru&lesson=04-counters");
  await page.waitForSelector("article.lesson[data-slug='counters']");
  assert.equal(await page.getAttribute("header .lessons-toggle", "aria-pressed"), "true");
  await page.click(".lesson-nav .next");
  await page.waitForSelector("article.lesson[data-slug='queues']");
  await close();
  const missing = await open("?lang=en&lesson=nope");
  await missing.page.waitForSelector(".lessons-pane .empty");
  assert.match(await missing.page.textContent(".lessons-pane .empty"), /There is no lesson named nope/);
  assert.deepEqual([...problems, ...missing.problems], []);
  await missing.close();
});

/** A lesson's title as its file gives it, and a command's summary in a language, from the sources. */
const title = (lang, file) => readFileSync(join(ROOT, "tutorials", lang, file), "utf8").split("\n")[0].replace(/^# /, "").trim();
const summary = (lang, command) =>
  readFileSync(join(ROOT, `web/i18n/summaries.${lang}.tsv`), "utf8").split("\n").find((l) => l.startsWith(`${command}\t`)).split("\t")[1];

test("lesson texts and translated summaries are fetched when needed, by relative URLs, in the learner's language", async () => {
  const fetched = [];
  const { page, problems, close } = await open("?lang=en", undefined, async (p) => {
    p.on("request", (r) => /\/(tutorials|i18n)\//.test(r.url()) && fetched.push(r.url().slice(server.url.length)));
  });
  // The course list draws from what the page loaded: no lesson, and no summaries in English.
  await page.click("header .lessons-toggle");
  const titles = await page.$$eval(".course .lesson-link .title", (els) => els.map((e) => e.textContent));
  assert.deepEqual(titles.slice(0, 3), ["01-first-steps.md", "02-caching.md", "03-sessions.md"].map((f) => title("en", f)));
  assert.deepEqual(fetched, []);
  await page.click(".lesson-link[data-slug='sessions']");
  await page.waitForSelector("article.lesson[data-slug='sessions']");
  assert.equal(await page.textContent(".lesson-title"), title("en", "03-sessions.md"));
  // Switching the language fetches the lesson's translation and the language's summaries.
  await page.selectOption("header select", "ru");
  await page.waitForFunction((t) => document.querySelector(".lesson-title")?.textContent === t, title("ru", "03-sessions.md"));
  assert.equal(await page.$$eval(".lesson .untranslated", (els) => els.length), 0);
  // HELP shows the English summary until the Russian one is in, never nothing.
  const english = readFileSync(join(ROOT, "core/data/summaries.tsv"), "utf8").split("\n").find((l) => l.startsWith("get\t")).split("\t")[1];
  const help = async () => {
    await type(page, "HELP GET");
    const all = await transcript(page);
    return all.slice(all.lastIndexOf("HELP GET"));
  };
  let shown = await help();
  for (let i = 0; i < 50 && !shown.includes(`описание: ${summary("ru", "get")}`); i++) {
    assert.ok(shown.includes(`описание: ${english}`), shown);
    await page.waitForTimeout(100);
    shown = await help();
  }
  assert.ok(shown.includes(`описание: ${summary("ru", "get")}`), shown);
  // Each file once, relative to the page's folder, its URL versioned by its content.
  assert.deepEqual(fetched.map((u) => u.replace(/\?v=[0-9a-f]{16}$/, "")).sort(),
    ["/courses/redis/i18n/summaries.ru.tsv", "/courses/redis/tutorials/en/03-sessions.md", "/courses/redis/tutorials/ru/03-sessions.md"]);
  // Back to a lesson already read: nothing is fetched again.
  await page.selectOption("header select", "en");
  await page.waitForFunction((t) => document.querySelector(".lesson-title")?.textContent === t, title("en", "03-sessions.md"));
  assert.equal(fetched.length, 3);
  assert.deepEqual(problems, []);
  await close();
});

test("a lesson that cannot be fetched says so in the learner's language and loads on retry", async () => {
  let fail = true;
  let release;
  const held = new Promise((ok) => { release = ok; });
  const { page, problems, close } = await open("?lang=ar&lesson=caching", undefined, async (p) => {
    await p.route("**/tutorials/**", async (route) => {
      if (fail) return route.abort();
      await held;
      return route.continue();
    });
  });
  await page.waitForSelector(".lessons-pane .lesson-failed");
  assert.match(await page.textContent(".lesson-failed"), /^تعذّر تحميل الدرس \(.+\)\.أعد المحاولة$/);
  await page.screenshot({ path: join(SHOTS, "lesson-failed-ar.png") });
  fail = false;
  await page.click(".lesson-failed .retry");
  // While the file is on its way: a translated "Loading…".
  await page.waitForSelector(".lessons-pane .lesson-loading");
  assert.equal(await page.textContent(".lesson-loading"), "جارٍ تحميل الدرس…");
  release();
  await page.waitForSelector("article.lesson[data-slug='caching']");
  assert.equal(await page.textContent(".lesson-title"), title("ar", "02-caching.md"));
  // The console works throughout; the one logged error is the aborted request itself.
  await type(page, "PING");
  assert.match(await transcript(page), /PING\nPONG$/);
  assert.deepEqual(problems.filter((p) => !/Failed to load resource/.test(p)), []);
  await close();
});

test("100,000 keys: the list stays virtualized and the console keeps answering", async () => {
  const { page, problems, close } = await open("?lang=en");
  await type(page, "DEBUG POPULATE 100000");
  await page.waitForFunction(() => /100,?000 keys/.test(document.querySelector(".keys .count")?.textContent ?? ""), null, { timeout: 60000 });
  const started = Date.now();
  await type(page, "SET key:zzz last");
  await page.waitForFunction(() => /100,?001 keys/.test(document.querySelector(".keys .count")?.textContent ?? ""));
  console.log(`a command with 100,001 keys: ${Date.now() - started} ms from Enter to the updated list`);
  assert.ok((await page.locator(".key-row").count()) < 100, "only the rows in view are drawn");
  // Scrolled to the end, the last key is drawn.
  await page.$eval(".key-list", (el) => { el.scrollTop = el.scrollHeight; el.dispatchEvent(new Event("scroll")); });
  await page.waitForFunction(() => [...document.querySelectorAll(".key-row .name")].some((e) => e.textContent === "key:zzz"));
  await page.fill(".filters .pattern", "key:9999*");
  await page.waitForFunction(() => document.querySelectorAll(".key-row").length === 11);
  assert.match(await transcript(page), /SET key:zzz last\nOK$/);
  assert.deepEqual(problems, []);
  await close();
});
