// The differential case files (tests/cases/**/*.txt) replayed through the JS API, compared with the replies
// Redis 7.0.15 gave, as recorded in the `.expected` files beside them.
//
// This is tests/it/diff.rs's replay loop in JavaScript, so the same engine is checked through the wasm build
// (in the browser and in Node): same case syntax, same markers, RESP bytes compared the same way.
// `!sleep MS` moves the virtual clock by MS instead of sleeping, which is what the clock is for.
// A connection is a stream of replies: what a command pushed to the client (received through `onPush`, as RESP
// bytes) followed by its reply, then what `onPush` marked as following the reply. A command line compares the
// first pending one; `!pushed [N]` ticks and compares the next N (`!unordered !pushed N`: all their elements as
// one multiset); `!send CMD` leaves all its replies pending; `!noreply CMD` (a blocking command) must answer
// nothing; `!close` closes the current client. `{id:N}` in a command is client N's id, and `!ids` in front of a
// line compares the integers equal to such an id as `{id:N}`, as the recordings keep them.

/**
 * Where the wasm build knowingly differs from Redis's recorded reply (and from the native engine), with why.
 * The tests require exactly these differences, so an entry goes as soon as the engine is fixed.
 */
export const KNOWN_WASM_DIFFERENCES = {};

/** The seed `Config::default()` uses, as the Rust harness runs the engine with it. */
const DEFAULT_SEED = 0x05eed1e7;

/** Case file text into steps: {sleep}, {client}, {close}, {pushed, ids}, or {line, text, marker, arg, ids}. */
export function parseCase(text) {
  const steps = [];
  text.split("\n").forEach((raw, i) => {
    let line = raw.trim();
    if (!line || line.startsWith("#")) return;
    // `!ids` goes in front of any other marker.
    const idsMarker = /^!ids\s+(.*)$/.exec(line);
    const ids = Boolean(idsMarker);
    if (idsMarker) line = idsMarker[1];
    let rest = line;
    let marker = "exact";
    let arg = null;
    if (line.startsWith("!")) {
      const m = /^!(\S+)\s*(.*)$/.exec(line);
      const [word, tail] = [m[1], m[2]];
      if (word === "sleep") return steps.push({ sleep: Number(tail) });
      if (word === "client") return steps.push({ client: Number(tail) });
      if (word === "close") return steps.push({ close: true });
      const pushedStep = (rest, marker) => {
        const count = rest.trim() ? Number(rest.trim()) : 1;
        return steps.push({ pushed: count, line: i + 1, text: count === 1 ? "!pushed" : `!pushed ${count}`, marker, ids });
      };
      if (word === "pushed") return pushedStep(tail, "exact");
      if (word === "unordered" && tail.startsWith("!pushed")) return pushedStep(tail.slice("!pushed".length), "unordered");
      if (word === "unordered" || word === "type" || word === "noreply" || word === "send" || word === "words") {
        marker = word;
        rest = tail;
      } else if (word === "approx" || word === "fields" || word === "entries") {
        const m2 = /^(\S+)\s+(.*)$/.exec(tail);
        marker = word;
        arg = word === "approx" ? Number(m2[1]) : word === "entries" ? m2[1].split(",").map(Number) : m2[1].split(",");
        rest = m2[2].trim();
      } else {
        throw new Error(`line ${i + 1}: unknown marker !${word}`);
      }
    }
    if (rest.trim()) steps.push({ line: i + 1, text: rest, marker, arg, ids });
  });
  return steps;
}

/** A `.expected` file into [command line, reply bytes] rows. */
export function parseExpected(text) {
  const lines = text.split("\n");
  const rows = [];
  for (let i = 0; i + 1 < lines.length; i += 2) {
    if (!lines[i].startsWith("> ")) break;
    rows.push([lines[i].slice(2), unescape(lines[i + 1])]);
  }
  return rows;
}

/** The `.expected` escapes (`\r`, `\n`, `\xHH`, `\\`) back into bytes. */
export function unescape(s) {
  const out = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x5c && i + 1 < s.length) {
      const n = s[i + 1];
      if (n === "r") out.push(13);
      else if (n === "n") out.push(10);
      else if (n === "x" && i + 3 < s.length) {
        out.push(parseInt(s.slice(i + 2, i + 4), 16));
        i += 2;
      } else out.push(n.charCodeAt(0));
      i += 1;
    } else {
      out.push(c);
    }
  }
  return Uint8Array.from(out);
}

const latin1 = (bytes) => Array.from(bytes, (b) => String.fromCharCode(b)).join("");

/** A reply with every RESP integer that is one of the ids `{id:N}` stood for written as `:{id:N}` (diff.rs's
 *  `normalize_ids`). */
function normalizeIds(bytes, seenIds) {
  const lines = latin1(bytes).split("\r\n").map((l) => {
    const m = /^:(\d+)$/.exec(l);
    if (m) for (const [n, id] of seenIds) if (String(id) === m[1]) return `:{id:${n}}`;
    return l;
  });
  return Uint8Array.from(lines.join("\r\n"), (c) => c.charCodeAt(0));
}

/** One RESP2/RESP3 reply parsed into {t, v} / {t, items}; t is the type byte. */
export function parseResp(bytes) {
  const all = parseAll(bytes);
  if (all.length !== 1) throw new Error(`${all.length} replies where one was expected`);
  return all[0];
}

/** One reply, or several in a row as one array of all their elements (diff.rs's `decode_all`). */
function decodeAll(bytes) {
  const all = parseAll(bytes);
  if (all.length === 1) return all[0];
  return { t: "*", items: all.flatMap((r) => (["*", ">", "~"].includes(r.t) && r.items ? r.items : [r])) };
}

/** Every reply in `bytes`, in order. */
function parseAll(bytes) {
  const s = latin1(bytes);
  let p = 0;
  const line = () => {
    const end = s.indexOf("\r\n", p);
    if (end < 0) throw new Error("truncated reply");
    const l = s.slice(p, end);
    p = end + 2;
    return l;
  };
  const one = () => {
    const t = s[p++];
    const head = line();
    switch (t) {
      case "+": case "-": case ":": case ",": case "(": case "#": case "_":
        return { t, v: head };
      case "$": case "=": case "!": {
        const n = Number(head);
        if (n < 0) return { t, v: null };
        const v = s.slice(p, p + n);
        p += n + 2;
        return { t, v };
      }
      case "*": case "~": case ">": case "%": {
        const n = Number(head);
        if (n < 0) return { t, items: null };
        const count = t === "%" ? 2 * n : n;
        const items = [];
        for (let i = 0; i < count; i++) items.push(one());
        return { t, items };
      }
      default:
        throw new Error(`unknown reply type ${JSON.stringify(t)}`);
    }
  };
  const out = [];
  while (p < s.length) out.push(one());
  return out;
}

const key = (r) => JSON.stringify(r);

/** Every aggregate sorted by its elements, so order no longer matters (map pairs stay pairs). */
function normalize(r) {
  if (!r.items) return r;
  const items = r.items.map(normalize);
  if (r.t === "%") {
    const pairs = [];
    for (let i = 0; i < items.length; i += 2) pairs.push([items[i], items[i + 1]]);
    pairs.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
    return { t: r.t, items: pairs.flat() };
  }
  items.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  return { t: r.t, items };
}

function number(r) {
  if (r.t === ":" || r.t === ",") return Number(r.v);
  if (r.t === "$" && r.v !== null && r.v.trim() !== "") {
    const n = Number(r.v);
    return Number.isNaN(n) ? null : n;
  }
  return null;
}

function approxEq(a, b, tol) {
  if (a.t === "*" && b.t === "*" && a.items && b.items) {
    return a.items.length === b.items.length && a.items.every((x, i) => approxEq(x, b.items[i], tol));
  }
  const [x, y] = [number(a), number(b)];
  if (x !== null && y !== null) return a.t === b.t && Math.abs(x - y) <= tol;
  return key(a) === key(b);
}

/** An array of arrays (SLOWLOG GET's entries) with elements `loose` of each compared by type only (diff.rs's
 *  `Marker::Entries`): ids, times and client addresses differ between servers. */
function sameEntries(a, b, loose) {
  if (!a.items || !b.items || a.t !== b.t || a.items.length !== b.items.length) return false;
  return a.items.every((x, n) => {
    const y = b.items[n];
    if (!x.items || !y.items) return key(x) === key(y);
    return x.items.length === y.items.length &&
      x.items.every((p, i) => (loose.includes(i) ? p.t === y.items[i].t : key(p) === key(y.items[i])));
  });
}

/** Every string with its space-separated words sorted (diff.rs's `sort_words`, for `!words`). */
function sortWords(r) {
  if (r.items) return { t: r.t, items: r.items.map(sortWords) };
  if (r.t === "$" && r.v !== null) return { t: r.t, v: r.v.split(" ").sort().join(" ") };
  return r;
}

/** The named fields of each entry of an array of maps or flat key-value arrays (diff.rs's `entry_fields`). */
function entryFields(r, names) {
  if (r.t !== "*" || !r.items) return null;
  const entries = [];
  for (const item of r.items) {
    if (!item.items || item.items.length % 2 !== 0) return null;
    const found = {};
    for (let i = 0; i < item.items.length; i += 2) {
      const k = item.items[i];
      if (k.t === "$" && names.includes(k.v)) found[k.v] = key(item.items[i + 1]);
    }
    entries.push(Object.entries(found).sort());
  }
  return JSON.stringify(entries);
}

function fields(r, names) {
  if (r.items) return entryFields(r, names);
  if (!(r.t === "$" || r.t === "=") || r.v === null) return null;
  const found = {};
  for (const l of r.v.split("\r\n")) {
    const i = l.indexOf(":");
    if (i > 0 && names.includes(l.slice(0, i))) found[l.slice(0, i)] = l.slice(i + 1);
  }
  return JSON.stringify(Object.entries(found).sort());
}

/** Whether our bytes match Redis's under the line's marker (diff.rs's `matches`). */
export function matches(step, ours, theirs) {
  if (["exact", "noreply", "send"].includes(step.marker)) return latin1(ours) === latin1(theirs);
  if (step.marker === "type") return ours[0] === theirs[0];
  if (step.marker === "unordered") {
    try {
      return key(normalize(decodeAll(ours))) === key(normalize(decodeAll(theirs)));
    } catch {
      return false;
    }
  }
  let a, b;
  try {
    [a, b] = [parseResp(ours), parseResp(theirs)];
  } catch {
    return false;
  }
  if (step.marker === "approx") return approxEq(a, b, step.arg);
  if (step.marker === "words") return key(sortWords(a)) === key(sortWords(b));
  if (step.marker === "entries") return sameEntries(a, b, step.arg);
  if (step.marker === "fields") {
    const fa = fields(a, step.arg);
    return fa !== null && fa === fields(b, step.arg);
  }
  return false;
}

const show = (bytes) =>
  latin1(bytes).replace(/[\\\r\n]|[^\x20-\x7e]/g, (c) =>
    c === "\r" ? "\\r" : c === "\n" ? "\\n" : c === "\\" ? "\\\\" : "\\x" + c.charCodeAt(0).toString(16).padStart(2, "0"));

/**
 * Replays case files through `Redlet`: `files` is [{name, text, expected}] (the `.txt` and `.expected` texts).
 * Returns {files, commands, differences: [{at: "file:line", text}]}.
 */
export function runCaseFiles(Redlet, files) {
  const tally = { files: 0, commands: 0, differences: [] };
  for (const file of files) {
    tally.files += 1;
    const steps = parseCase(file.text);
    const expected = parseExpected(file.expected);
    const db = new Redlet({ seed: DEFAULT_SEED, manualClock: true });
    // Replies pushed to each client (unblocked and timed-out waiters), oldest first, as RESP bytes.
    const pushed = new Map();
    // Pushes that follow their command's reply on the wire (a client's own tracking invalidations): they join
    // the streams once the reply has.
    let afterReply = [];
    db.onPush((_message, clientId, resp, after) => {
      if (after) return void afterReply.push([clientId, resp]);
      if (!pushed.has(clientId)) pushed.set(clientId, []);
      pushed.get(clientId).push(resp);
    });
    // Connections are opened on first use, as the Rust harness opens them. Only `connect()` clients are used:
    // the console client is never opened, so the engine holds exactly the harness's clients.
    const sides = new Map();
    // The ids `{id:N}` stood for, by N (kept after client N is gone, for `!ids`).
    const seenIds = new Map();
    let current = 1;
    let index = 0;
    const sideOf = (n) => {
      if (!sides.has(n)) sides.set(n, db.connect());
      return sides.get(n);
    };
    const side = () => sideOf(current);
    for (const step of steps) {
      if (step.sleep !== undefined) {
        db.advanceTime(step.sleep);
        continue;
      }
      if (step.client !== undefined) {
        current = step.client;
        continue;
      }
      if (step.close) {
        const conn = sides.get(current);
        if (conn) {
          conn.close();
          pushed.delete(conn.id);
          sides.delete(current);
        }
        continue;
      }
      const row = expected[index++];
      if (!row || row[0] !== step.text) {
        tally.differences.push({ at: `${file.name}:${step.line}`, text: "the recording does not match the case file" });
        break;
      }
      const conn = side();
      let ours;
      const stream = () => {
        if (!pushed.has(conn.id)) pushed.set(conn.id, []);
        return pushed.get(conn.id);
      };
      if (step.pushed) {
        const parts = [];
        for (let n = 0; n < step.pushed; n++) {
          db.tick();
          parts.push(...(stream().shift() ?? []));
        }
        ours = Uint8Array.from(parts);
      } else {
        // The command's pushes reach the stream through onPush before execResp returns its reply.
        const line = step.text.replace(/\{id:(\d+)\}/g, (_, n) => {
          const id = sideOf(Number(n)).id;
          seenIds.set(Number(n), id);
          return String(id);
        });
        const reply = conn.execResp(line);
        if (step.marker === "noreply") ours = reply;
        else {
          if (reply.length) stream().push(reply);
          ours = step.marker === "send" ? new Uint8Array() : stream().shift() ?? new Uint8Array();
        }
        for (const [clientId, resp] of afterReply) {
          if (!pushed.has(clientId)) pushed.set(clientId, []);
          pushed.get(clientId).push(resp);
        }
        afterReply = [];
        // QUIT closes the client; the harness reconnects at once.
        if (conn.closed) {
          pushed.delete(conn.id);
          sides.set(current, db.connect());
        }
      }
      tally.commands += 1;
      if (step.ids) ours = normalizeIds(ours, seenIds);
      if (!matches(step, ours, row[1])) {
        const text = `${step.text}\n    redis:  ${show(row[1])}\n    redlet: ${show(ours)}`;
        tally.differences.push({ at: `${file.name}:${step.line}`, text });
      }
    }
    db.free();
  }
  return tally;
}

/** The differences not in KNOWN_WASM_DIFFERENCES, and the known ones that no longer occur. */
export function unexpected(tally) {
  const seen = new Set(tally.differences.map((d) => d.at));
  return {
    differences: tally.differences.filter((d) => !(d.at in KNOWN_WASM_DIFFERENCES)),
    gone: Object.keys(KNOWN_WASM_DIFFERENCES).filter((at) => !seen.has(at)),
  };
}

/** One line for the test log, as the Rust harness prints its own. */
export function summary(where, tally) {
  const known = tally.differences.length - unexpected(tally).differences.length;
  return `differential ${where}: ${tally.files} case files, ${tally.commands} commands against recorded redis-server replies, ` +
    `${tally.differences.length - known} differed (${known} known wasm difference${known === 1 ? "" : "s"})`;
}
