// The JS API in Node against ioredis-mock, on the same operations in the same run (DESIGN.md §6: >= 10x).
//
//   ./dev bench [N]     (builds web/pkg/nodejs, installs bench/package.json's ioredis-mock, runs this)
//
// Each operation runs N times (default 100000) after a warm-up, on a fresh database for each library, in
// three rounds; the table shows each side's median round:
// Redlet through `exec(line)` (a redis-cli line, tokenized like redis-cli) and `command(args)`, ioredis-mock
// through its promise API awaited one call at a time, as an application uses it. Commands the engine does not
// implement yet are reported as such and skipped for both.

import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const { Redlet } = require(join(here, "../web/pkg/nodejs/redlet_web.js"));
const RedisMock = require("ioredis-mock");

const N = Number(process.argv[2] ?? 100_000);

// Each operation: its argument vector for iteration i, and what fills the database first.
const OPS = [
  { name: "SET", args: (i) => ["SET", `key:${i % 1000}`, "value"] },
  { name: "GET", args: (i) => ["GET", `key:${i % 1000}`], setup: (i) => ["SET", `key:${i % 1000}`, "value"] },
  { name: "INCR", args: (i) => ["INCR", `counter:${i % 100}`] },
  // Lists spread over 100 keys: ioredis-mock's LPUSH copies its array, so one long list would measure that.
  { name: "LPUSH", args: (i) => ["LPUSH", `list:${i % 100}`, `item:${i}`] },
  { name: "RPOP", args: (i) => ["RPOP", `list:${i % 100}`], setup: (i) => ["LPUSH", `list:${i % 100}`, `item:${i}`] },
  { name: "SADD", args: (i) => ["SADD", "set", `member:${i % 1000}`] },
  { name: "HSET", args: (i) => ["HSET", "hash", `field:${i % 1000}`, "value"] },
  { name: "ZADD", args: (i) => ["ZADD", "zset", String(i % 1000), `member:${i % 1000}`] },
];

const line = (args) => args.join(" ");

function implemented(name) {
  const db = new Redlet();
  const info = db.command(["COMMAND", "INFO", name]);
  db.free();
  return Array.isArray(info) && info[0] !== null;
}

function timeSync(n, fn) {
  for (let i = 0; i < Math.min(n, 10_000); i++) fn(i); // warm-up
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn(i);
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

async function timeAsync(n, fn) {
  for (let i = 0; i < Math.min(n, 10_000); i++) await fn(i);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await fn(i);
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

const rate = (n, secs) => n / secs;
const fmt = (x) => Math.round(x).toLocaleString("en-US");

console.log(`node ${process.version}, N = ${N} per operation`);
console.log("| operation | Redlet exec(line) ops/s | Redlet command(args) ops/s | ioredis-mock ops/s | exec / ioredis-mock |");
console.log("| --- | ---: | ---: | ---: | ---: |");
for (const op of OPS) {
  if (!implemented(op.name)) {
    console.log(`| ${op.name} | not implemented yet | | | |`);
    continue;
  }
  const fresh = () => {
    const db = new Redlet({ seed: 1, manualClock: true });
    if (op.setup) for (let i = 0; i < N + 10_000; i++) db.command(op.setup(i));
    return db;
  };
  const redletRound = (run) => {
    const db = fresh();
    const secs = timeSync(N, (i) => run(db, i));
    db.free();
    return secs;
  };
  const mockRound = async () => {
    // ioredis-mock shares data between instances of the same host and port: start from empty.
    const mock = new RedisMock();
    await mock.flushall();
    if (op.setup) for (let i = 0; i < N + 10_000; i++) {
      const [name, ...rest] = op.setup(i);
      await mock[name.toLowerCase()](...rest);
    }
    const secs = await timeAsync(N, (i) => {
      const [name, ...rest] = op.args(i);
      return mock[name.toLowerCase()](...rest);
    });
    mock.disconnect();
    return secs;
  };
  const rounds = { exec: [], command: [], mock: [] };
  for (let r = 0; r < 3; r++) {
    rounds.exec.push(redletRound((db, i) => db.exec(line(op.args(i)))));
    rounds.command.push(redletRound((db, i) => db.command(op.args(i))));
    rounds.mock.push(await mockRound());
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[1];
  const [execSecs, cmdSecs, mockSecs] = [median(rounds.exec), median(rounds.command), median(rounds.mock)];

  const [e, c, m] = [rate(N, execSecs), rate(N, cmdSecs), rate(N, mockSecs)];
  console.log(`| ${op.name} | ${fmt(e)} | ${fmt(c)} | ${fmt(m)} | ${(e / m).toFixed(1)}x |`);
}
