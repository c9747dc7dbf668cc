// Type-checked by `./dev test` (`tsc --noEmit -p tests/e2e`): the generated declarations of all three builds
// compile under `strict`, and they describe the API as README.md documents it.

import init, { Redlet, RedletClient } from "../../web/pkg/web/redlet_web.js";
import type { RedisReply, RedletOptions, KeysPage, Inspection, KeyInfo, KeyspaceEvent } from "../../web/pkg/web/redlet_web.js";
import * as bundler from "../../web/pkg/bundler/redlet_web.js";
import * as nodejs from "../../web/pkg/nodejs/redlet_web.js";

export async function usage(): Promise<string> {
  await init();
  const options: RedletOptions = { maxmemory: "100mb", maxmemoryPolicy: "allkeys-lru", seed: 1n, resp: 3, clockStart: 0, manualClock: true };
  const db = new Redlet(options);
  const plain = new Redlet();
  // undefined only when the command blocked the client (its reply comes through onPush).
  const reply: RedisReply | undefined = db.exec("GET k");
  const viaArgs: RedisReply | undefined = db.command(["SET", "k", new Uint8Array([1, 2]), 5, 6n]);
  const text: string = db.execFormatted("PING") + db.format(reply ?? null) + db.format(viaArgs ?? null) + db.prompt();
  const wire: Uint8Array = db.execResp("PING");
  // Batches: one reply per command, an Error in place for an error reply, undefined for a blocked command.
  const batch: (RedisReply | undefined)[] = db.commands([["SET", "k", 1], ["GET", new Uint8Array([107])], ["INCR", "n", 2n]]);
  const lines: (RedisReply | undefined)[] = db.execMany(["SET k v", "GET k"]);
  const failed: boolean = batch.some((r) => r instanceof Error) || lines.length === 0;
  const client: RedletClient = db.connect();
  const fromClient: (RedisReply | undefined)[] = client.commands([["PING"]]).concat(client.execMany(["PING"]));
  client.onPush((message: RedisReply, resp: Uint8Array) => void [message, resp]);
  db.onPush((message: RedisReply, clientId: number, resp: Uint8Array) => void [message, clientId, resp]);
  db.onPush((_m: RedisReply, _id: number, _resp: Uint8Array, afterReply: boolean) => void afterReply);
  client.onPush((_m: RedisReply, _resp: Uint8Array, afterReply: boolean) => void afterReply);
  db.onPush((message) => void message);
  db.onPush(null);
  const changed: string[] = [];
  db.onKeyspace((ev: KeyspaceEvent) => {
    const db: number = ev.db;
    const key: string | Uint8Array = ev.key;
    changed.push(`${db} ${ev.event} ${typeof key === "string" ? key : key.length}`);
  });
  db.onKeyspace(({ event }) => void event);
  db.onKeyspace(null);
  const closed: boolean = client.closed;
  const ids: number = client.id + db.id;
  client.close();
  db.advanceTime(1000);
  db.tick();
  const now: number = db.now();
  // Every database as a dump.rdb's bytes, and back.
  const rdb: Uint8Array = db.snapshot();
  plain.restore(rdb);
  const page: KeysPage = db.keys({ db: 0, pattern: "user:*", cursor: 0, count: 50 });
  const first: KeyInfo | undefined = page.keys[0];
  const ttl: number = first?.ttl ?? -1;
  const everything: KeysPage = plain.keys();
  const seen: Inspection | null = db.inspect("k") ?? db.inspect(new Uint8Array([107]), 1);
  if (seen && seen.type === "string" && "int" in seen) {
    const n: number | bigint | null = seen.int;
    void n;
  }
  if (seen && (seen.type === "list" || seen.type === "set") && seen.value !== null) {
    const items: (string | Uint8Array)[] = seen.value;
    void items;
  }
  // Narrowing a reply.
  if (typeof reply === "string" || reply instanceof Uint8Array || Array.isArray(reply) || reply instanceof Map) {
    void reply;
  }
  // @ts-expect-error resp is 2 or 3
  new Redlet({ resp: 4 });
  // @ts-expect-error a line is a string
  db.exec(["GET", "k"]);
  // @ts-expect-error arguments are strings, bytes or numbers
  db.command([{}]);
  // @ts-expect-error a batch is a list of argument arrays
  db.commands(["GET", "k"]);
  // @ts-expect-error a batch of lines is a list of strings
  db.execMany("GET k");
  // @ts-expect-error onPush takes a function or null
  db.onPush("callback");
  // @ts-expect-error an event's key is a string or bytes, not always a string
  db.onKeyspace((ev) => ev.key.toUpperCase());
  // @ts-expect-error onKeyspace is the database's, not a client's
  client.onKeyspace(null);
  // @ts-expect-error restore takes the snapshot's bytes
  db.restore("REDIS0009");
  // @ts-expect-error snapshots are the database's, not a client's
  client.snapshot();
  const other: [bundler.Redlet, nodejs.Redlet] = [new bundler.Redlet({ resp: 2 }), new nodejs.Redlet()];
  return text + String(wire.length + ids + now + ttl + everything.cursor + rdb.length) + String(closed) + String(other.length) + changed.join() + String(failed) + String(fromClient.length);
}
