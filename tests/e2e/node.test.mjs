// The Node build: the README's JavaScript example, run as written, and the differential case files replayed
// through it. Run by `./dev test` (node --test) after the wasm builds.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { ROOT, PKG, loadCaseFiles } from "./support.mjs";
import { runCaseFiles, summary, unexpected } from "./cases.mjs";

const require = createRequire(import.meta.url);
const nodePkg = join(PKG("nodejs"), "redlet_web.js");

/** The first ```js block under "## The JavaScript API" in README.md. */
function readmeExample() {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## The JavaScript API"));
  const m = /```js\n([\s\S]*?)```/.exec(section);
  assert.ok(m, "README.md has a ```js example under \"## The JavaScript API\"");
  return m[1];
}

test("the README's JavaScript example runs and gives the values it shows", async () => {
  const source = readmeExample();
  let checks = 0;
  // `expr; // → value` becomes a check that expr deep-equals value.
  const body = source
    .split("\n")
    .map((line) => {
      const m = /^(\s*)(.+?);\s*\/\/ → (.+)$/.exec(line);
      if (!m) return line;
      checks += 1;
      return `${m[1]}__check(${m[2]}, ${m[3]}, ${JSON.stringify(m[2])});`;
    })
    .join("\n")
    .replace(/from "redlet-web"/, `from ${JSON.stringify(pathToFileURL(nodePkg).href)}`);
  assert.ok(checks >= 10, `only ${checks} checked lines`);
  const dir = mkdtempSync(join(tmpdir(), "redlet-readme-"));
  const file = join(dir, "example.mjs");
  writeFileSync(file, body);
  const seen = [];
  globalThis.__check = (actual, expected, what) => {
    assert.deepStrictEqual(actual, expected, what);
    seen.push(what);
  };
  try {
    await import(pathToFileURL(file).href);
  } finally {
    delete globalThis.__check;
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(seen.length, checks, "every checked line ran");
});

test("the nodejs build is a CommonJS package exporting Redlet and RedletClient", () => {
  const pkg = JSON.parse(readFileSync(join(PKG("nodejs"), "package.json"), "utf8"));
  assert.equal(pkg.name, "redlet-web");
  const { Redlet, RedletClient } = require(nodePkg);
  const db = new Redlet();
  const c = db.connect();
  assert.ok(c instanceof RedletClient);
  assert.equal(c.exec("PING"), "PONG");
  assert.throws(() => db.exec("NOSUCH"), { name: "Error", message: /^ERR unknown command 'NOSUCH'/ });
  c.close();
  db.free();
});

test("the differential case files give Redis's recorded replies inside wasm in Node", () => {
  const { Redlet } = require(nodePkg);
  const files = loadCaseFiles();
  const tally = runCaseFiles(Redlet, files);
  console.log(summary("in Node", tally));
  const { differences, gone } = unexpected(tally);
  for (const d of differences.slice(0, 40)) console.log(`DIFF ${d.at}: ${d.text}`);
  assert.equal(tally.files, files.length);
  assert.deepEqual(differences.map((d) => d.at), []);
  assert.deepEqual(gone, [], "a known wasm difference no longer occurs: remove it from KNOWN_WASM_DIFFERENCES");
});
