// The JS API in Node against ioredis-mock, on the same operations in the same run (DESIGN.md §6: >= 10x).
//
//   ./dev bench [N]     (builds web/pkg/nodejs, installs bench/package.json's ioredis-mock, runs this)
//
// Each operation runs N times (default 100000) after a warm-up, on a fresh database for each library, in
// three rounds; the table shows each side's median round:
// - one call per command: Redlet through `exec(line)` (a redis-cli line, tokenized like redis-cli) and
//   `command(args)`, ioredis-mock through its promise API awaited one call at a time, as an application uses it;
// - batches of BATCH commands per call: Redlet's `commands(list)` and `execMany(lines)`, ioredis-mock's
//   `pipeline(list).exec()` awaited once per batch.
// Commands the engine does not implement yet are reported as such and skipped for both.

import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const { Redlet } = require(join(here, "../web/pkg/nodejs/redlet_web.js"));
const RedisMock = require("ioredis-mock");

const N = Number(process.argv[2] ?? 100_000);
const BATCH = 1000;

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

// The warm-up runs `warm` calls first (10,000 commands' worth: the set-up leaves that much slack for RPOP).
function timeSync(n, fn, warm = Math.min(n, 10_000)) {
  for (let i = 0; i < warm; i++) fn(i); // warm-up
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn(i);
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

async function timeAsync(n, fn, warm = Math.min(n, 10_000)) {
  for (let i = 0; i < warm; i++) await fn(i);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await fn(i);
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

const rate = (n, secs) => n / secs;
const fmt = (x) => Math.round(x).toLocaleString("en-US");

console.log(`node ${process.version}, N = ${N} per operation, batches of ${BATCH}`);
console.log(
  "| operation | Redlet exec(line) ops/s | Redlet command(args) ops/s | ioredis-mock ops/s | Redlet commands(batch) ops/s " +
    "| Redlet execMany(batch) ops/s | ioredis-mock pipeline ops/s |",
);
console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
for (const op of OPS) {
  if (!implemented(op.name)) {
    console.log(`| ${op.name} | not implemented yet | | | | | |`);
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
  // The batches are built before the clock starts, as an application would have its commands at hand.
  const batches = Array.from({ length: Math.ceil((N + 10_000) / BATCH) }, (_, b) =>
    Array.from({ length: BATCH }, (_, j) => op.args(b * BATCH + j)),
  );
  const lineBatches = batches.map((batch) => batch.map(line));
  const mockBatches = batches.map((batch) => batch.map(([name, ...rest]) => [name.toLowerCase(), ...rest]));
  const batchCount = Math.ceil(N / BATCH);
  const batchWarm = Math.min(batchCount, 10_000 / BATCH);
  const redletBatchRound = (run) => {
    const db = fresh();
    const secs = timeSync(batchCount, (b) => run(db, b), batchWarm);
    db.free();
    return secs;
  };
  const mockSetup = async () => {
    // ioredis-mock shares data between instances of the same host and port: start from empty.
    const mock = new RedisMock();
    await mock.flushall();
    if (op.setup) for (let i = 0; i < N + 10_000; i++) {
      const [name, ...rest] = op.setup(i);
      await mock[name.toLowerCase()](...rest);
    }
    return mock;
  };
  const mockRound = async () => {
    const mock = await mockSetup();
    const secs = await timeAsync(N, (i) => {
      const [name, ...rest] = op.args(i);
      return mock[name.toLowerCase()](...rest);
    });
    mock.disconnect();
    return secs;
  };
  const mockPipelineRound = async () => {
    const mock = await mockSetup();
    const secs = await timeAsync(batchCount, (b) => mock.pipeline(mockBatches[b]).exec(), batchWarm);
    mock.disconnect();
    return secs;
  };
  const rounds = { exec: [], command: [], mock: [], commands: [], execMany: [], pipeline: [] };
  for (let r = 0; r < 3; r++) {
    rounds.exec.push(redletRound((db, i) => db.exec(line(op.args(i)))));
    rounds.command.push(redletRound((db, i) => db.command(op.args(i))));
    rounds.mock.push(await mockRound());
    rounds.commands.push(redletBatchRound((db, b) => db.commands(batches[b])));
    rounds.execMany.push(redletBatchRound((db, b) => db.execMany(lineBatches[b])));
    rounds.pipeline.push(await mockPipelineRound());
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[1];
  const perCall = ["exec", "command", "mock"].map((k) => fmt(rate(N, median(rounds[k]))));
  const perBatch = ["commands", "execMany", "pipeline"].map((k) => fmt(rate(batchCount * BATCH, median(rounds[k]))));
  console.log(`| ${op.name} | ${perCall.join(" | ")} | ${perBatch.join(" | ")} |`);
}
