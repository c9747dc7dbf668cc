// Shared by the Node-side tests: where things are, the case files, a static server, a headless Chromium.

import { createServer } from "node:http";
import { readFileSync, readdirSync, existsSync, statSync } from "node:fs";
import { dirname, extname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const PKG = (target) => join(ROOT, "web/pkg", target);

/** Every case file with its recording: [{name, text, expected}], in path order. */
export function loadCaseFiles() {
  const dir = join(ROOT, "tests/cases");
  const out = [];
  const walk = (d) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith(".txt")) {
        const exp = p.replace(/\.txt$/, ".expected");
        out.push({
          name: relative(ROOT, p),
          text: readFileSync(p, "utf8"),
          expected: existsSync(exp) ? readFileSync(exp, "latin1") : "",
        });
      }
    }
  };
  walk(dir);
  return out;
}

const TYPES = { ".html": "text/html", ".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm", ".css": "text/css", ".png": "image/png" };

/** Serves `routes` ({"/prefix/": directory or file}) on a free loopback port; resolves to {url, close}. */
export function serve(routes) {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
    for (const [prefix, target] of Object.entries(routes)) {
      if (path === prefix || (prefix.endsWith("/") && path.startsWith(prefix))) {
        const file = prefix.endsWith("/") ? join(target, path.slice(prefix.length) || "index.html") : target;
        if (!file.startsWith(target) || !existsSync(file) || statSync(file).isDirectory()) break;
        res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" });
        res.end(readFileSync(file));
        return;
      }
    }
    res.writeHead(404).end("not found");
  });
  return new Promise((ok) =>
    server.listen(0, "127.0.0.1", () =>
      ok({ url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((done) => server.close(done)) })));
}

/** Debian's Chromium, headless; Playwright never downloads a browser here. */
export async function launchChromium() {
  const { chromium } = await import("playwright-core");
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--disable-component-update", "--no-first-run", "--disable-dev-shm-usage"],
  });
}
